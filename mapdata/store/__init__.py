"""The Store: read a layer as a validated GeoDataFrame, write changes all-or-nothing with versions and an audit log.

:class:`Store` (``base``) is the interface the rest of the app codes against;
:class:`GeoPackageStore` (``geopackage``) is the embedded default, :class:`PostgisStore` (``postgis``) the same
store in PostgreSQL + PostGIS; both share their SQL and their edits (``relational``, ``sql``).
"""
from __future__ import annotations

import os

from mapdata.store.base import Change, DatasetInfo, Store, StoreError, VersionConflict
from mapdata.store.geopackage import GeoPackageStore
from mapdata.store.relational import versions_read_once
from mapdata.store.sql import is_postgres_url

__all__ = ["Change", "DatasetInfo", "GeoPackageStore", "Store", "StoreError", "VersionConflict", "open_store",
           "versions_read_once"]


def open_store(path: str | os.PathLike) -> Store:
    """The store behind ``path``: a ``postgresql://`` URL opens a PostGIS store, anything else a GeoPackage file."""
    if is_postgres_url(path):
        from mapdata.store.postgis import PostgisStore

        return PostgisStore(path)
    return GeoPackageStore(path)
