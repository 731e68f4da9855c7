"""Station amenities as the domain uses them: parsing rider input, bitmasks for fast filtering, the rarest asked key."""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from mapdata.vocabulary import AMENITY_KEYS

#: One bit per amenity, in vocabulary order; 12 keys fit a uint32 with room to grow.
AMENITY_BITS: dict[str, int] = {key: 1 << i for i, key in enumerate(AMENITY_KEYS)}
_ORDER = {key: i for i, key in enumerate(AMENITY_KEYS)}
# Riders and URLs separate keys with commas; the GeoPackage stores them with semicolons.
_SEPARATORS = re.compile(r"[;,\s]+")

if len(AMENITY_KEYS) > 32:  # pragma: no cover - guards a future vocabulary change
    raise ImportError("more than 32 amenity keys no longer fit the uint32 masks")


def parse_amenities(text_or_list) -> tuple[str, ...]:
    """Read amenity keys from text or a collection.

    Parameters
    ----------
    text_or_list : str, iterable of str or None
        ``"microwave,toilet"`` (comma, semicolon or space separated) or ``["microwave", "toilet"]``.
        None and the empty string mean no amenity.

    Returns
    -------
    tuple of str
        The distinct keys, in vocabulary order.

    Raises
    ------
    ValueError
        For a key outside the vocabulary, naming it and listing the valid keys.
    """
    if text_or_list is None:
        return ()
    if isinstance(text_or_list, str):
        items = [part for part in _SEPARATORS.split(text_or_list) if part]
    elif isinstance(text_or_list, Iterable):
        items = []
        for item in text_or_list:
            if not isinstance(item, str):
                raise ValueError(f"amenity keys must be text, got {item!r}; valid keys: {', '.join(AMENITY_KEYS)}")
            items.append(item.strip())
    else:
        raise ValueError(f"expected amenity keys as text or a list, got {type(text_or_list).__name__}; "
                         f"valid keys: {', '.join(AMENITY_KEYS)}")
    unknown = [item for item in items if item not in _ORDER]
    if unknown:
        raise ValueError(f"unknown amenity {unknown[0]!r}; valid keys: {', '.join(AMENITY_KEYS)}")
    return tuple(sorted(set(items), key=_ORDER.__getitem__))


def amenity_mask(keys) -> int:
    """The bitmask of ``keys`` (anything :func:`parse_amenities` reads); 0 for no amenity."""
    mask = 0
    for key in parse_amenities(keys):
        mask |= AMENITY_BITS[key]
    return mask


def keys_of(mask: int) -> list[str]:
    """The amenity keys set in ``mask``, in vocabulary order (a new list: change it freely)."""
    return list(_keys_of(int(mask)))


@functools.lru_cache(maxsize=4096)  # a city's stations share a few hundred combinations
def _keys_of(mask: int) -> tuple[str, ...]:
    return tuple(key for key, bit in AMENITY_BITS.items() if mask & bit)


def masks_for(amenities: pd.Series | Iterable) -> np.ndarray:
    """One uint32 bitmask per station.

    Parameters
    ----------
    amenities : Series or iterable
        Each element a frozenset (the ``stations`` layer), a list, or the stored semicolon text.

    Returns
    -------
    numpy.ndarray of uint32, one per element.

    Raises
    ------
    ValueError
        For an unknown key, naming it.
    """
    values = list(amenities)
    # Stations share a handful of amenity sets, so each distinct set is parsed once.
    seen: dict[object, int] = {}
    out = np.empty(len(values), dtype=np.uint32)
    for i, value in enumerate(values):
        hashable = value if isinstance(value, (str, frozenset)) else frozenset(value) if value is not None else None
        mask = seen.get(hashable)
        if mask is None:
            mask = seen[hashable] = amenity_mask(hashable)
        out[i] = mask
    return out


def rarest(keys, masks: np.ndarray) -> str:
    """The asked amenity that the fewest stations have; the first in vocabulary order on a tie.

    This is the key to suggest dropping when a search finds nothing.

    Parameters
    ----------
    keys : anything :func:`parse_amenities` reads, at least one key
    masks : numpy.ndarray of uint32, from :func:`masks_for`

    Raises
    ------
    ValueError
        When ``keys`` is empty or names an unknown amenity.
    """
    parsed = parse_amenities(keys)
    if not parsed:
        raise ValueError("rarest() needs at least one amenity key")
    masks = np.asarray(masks, dtype=np.uint32)
    bits = np.array([AMENITY_BITS[key] for key in parsed], dtype=np.uint32)
    counts = np.count_nonzero((masks[:, None] & bits[None, :]) != 0, axis=0)
    return parsed[int(np.argmin(counts))]
