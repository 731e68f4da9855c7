"""The Store: read a layer as a validated GeoDataFrame, write changes all-or-nothing with versions and an audit log.

:class:`Store` (``base``) is the interface the rest of the app codes against;
:class:`GeoPackageStore` (``geopackage``) is the embedded default. A PostGIS store will sit
beside it and implement the same protocol.
"""
from __future__ import annotations

import os

from mapdata.store.base import Change, DatasetInfo, Store, StoreError, VersionConflict
from mapdata.store.geopackage import GeoPackageStore

__all__ = ["Change", "DatasetInfo", "GeoPackageStore", "Store", "StoreError", "VersionConflict", "open_store"]


def open_store(path: str | os.PathLike) -> Store:
    """The store behind ``path`` (a ``.gpkg`` file; a ``postgresql://`` URL is for a later store)."""
    text = str(path)
    if text.startswith(("postgresql://", "postgres://")):
        raise StoreError("a PostGIS store is not part of this build; set NUANXIN_DB to a .gpkg path")
    return GeoPackageStore(path)
