"""A station's short, stable link (``<base>/s/<id>``): what its printed QR poster holds, and what an id may be."""
from __future__ import annotations

import re

from mapdata.config import public_url

#: A station id as a link or a route may carry it: letters, digits, ``_`` and ``-``, 1–64 characters
#: (the store's ids are ``st-0001``: nothing that needs escaping in a URL path).
STATION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
_STATION_ID = re.compile(STATION_ID_PATTERN)
#: The path prefix of the short link; the server redirects ``/s/<id>`` to the rider page at the station.
SHORT_PREFIX = "/s/"


def is_station_id(value) -> bool:
    """Whether ``value`` has the shape of a station id (not whether that station exists)."""
    return isinstance(value, str) and _STATION_ID.fullmatch(value) is not None


def short_url(base_url: str, station_id: str) -> str:
    """``<base_url>/s/<station_id>``: the link a poster's QR code holds, stable across edits of the station
    (the server looks the station up when the link is opened, so a move or new hours need no reprint).

    Raises
    ------
    ValueError
        For a base URL that is not http(s) with a host (or has a query or fragment), or an id that is not
        :func:`is_station_id`.
    """
    if not is_station_id(station_id):
        raise ValueError(f"not a station id: {str(station_id)[:70]!r}")
    base = public_url(base_url, "base_url")
    if base is None:
        raise ValueError("base_url: expected a URL such as https://nuanxin.example.cn")
    return base + SHORT_PREFIX + station_id
