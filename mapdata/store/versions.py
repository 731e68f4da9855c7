"""The versions kept beside a store's layers: the dataset's id and description (``dataset_meta``) and one write
counter per layer and for the whole dataset (``layer_versions``), moved inside each write's transaction."""
from __future__ import annotations

import sqlite3

META_TABLE = "dataset_meta"
VERSION_TABLE = "layer_versions"
#: The name under which the whole dataset's version is kept in ``layer_versions``.
DATASET = ""
META_SCHEMA = (f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT)",
               f"CREATE TABLE {VERSION_TABLE} (layer TEXT PRIMARY KEY, version INTEGER NOT NULL)")


def bump_versions(conn: sqlite3.Connection, layer: str) -> None:
    """One more write to ``layer`` and to the dataset, inside the caller's transaction."""
    try:
        for name in (layer, DATASET):
            conn.execute(f"INSERT INTO {VERSION_TABLE} (layer, version) VALUES (?, 2) "
                         f"ON CONFLICT(layer) DO UPDATE SET version = {VERSION_TABLE}.version + 1", [name])
    except sqlite3.OperationalError:  # a store from before versions were kept: its mtime changes anyway
        pass
