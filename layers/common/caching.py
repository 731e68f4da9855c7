"""Bounded, thread-safe caches: the one kind of cache the app keeps (request threads share them)."""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import cachetools

V = TypeVar("V")
_MISSING = object()


class BoundedCache(Generic[V]):
    """At most ``maxsize`` entries, the least recently used dropped first, safe to share between threads.

    The value is built outside the lock, so one slow build does not stall every other reader; two
    threads asking for the same missing key at once may both build it, and the last one is kept.

    Parameters
    ----------
    maxsize : int
        The most entries kept.
    """

    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize!r}")
        self.maxsize = int(maxsize)
        self._cache: cachetools.LRUCache = cachetools.LRUCache(self.maxsize)
        self._lock = threading.Lock()

    def get(self, key: Hashable, default=None):
        with self._lock:
            return self._cache.get(key, default)

    def put(self, key: Hashable, value: V) -> V:
        with self._lock:
            self._cache[key] = value
        return value

    def get_or_build(self, key: Hashable, build: Callable[[], V]) -> V:
        """The value under ``key``, built by ``build()`` and kept when missing."""
        hit = self.get(key, _MISSING)
        if hit is not _MISSING:
            return hit
        return self.put(key, build())

    def pop(self, key: Hashable, default=None):
        with self._lock:
            return self._cache.pop(key, default)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._cache

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)
