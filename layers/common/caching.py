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


class Derived(Generic[V]):
    """A structure derived from stored layers (a finder, a network, a coverage model), rebuilt only
    when one of those layers changes.

    Every :meth:`get` asks the store for the layers' versions (a cheap call) and rebuilds when
    they differ from the ones the value was built from; otherwise it returns the value it holds.
    One rebuild at a time: a thread that finds the value stale while another rebuilds it waits
    and then takes the fresh one.

    Parameters
    ----------
    store : Store
        Anything with ``version(layer)``.
    layers : tuple of str
        The layers the structure is built from.
    build : callable
        Builds the structure; called with no argument.
    """

    def __init__(self, store, layers: tuple[str, ...], build: Callable[[], V]):
        self._store = store
        self._layers = tuple(layers)
        self._build = build
        self._lock = threading.Lock()
        self._held: tuple[tuple, V] | None = None  # (versions, value), replaced as one

    def versions(self) -> tuple:
        """The current versions of the layers this structure is built from."""
        return tuple(self._store.version(layer) for layer in self._layers)

    def get(self) -> V:
        versions = self.versions()
        held = self._held
        if held is not None and held[0] == versions:
            return held[1]
        with self._lock:
            held = self._held
            if held is None or held[0] != versions:
                held = self._held = (versions, self._build())
            return held[1]

    def peek(self) -> V | None:
        """The value held now, without checking the store (None before the first build)."""
        held = self._held
        return None if held is None else held[1]
