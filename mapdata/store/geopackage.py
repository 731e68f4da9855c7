"""The embedded store: every layer in one GeoPackage file (``var/nuanxin.gpkg`` by default).

Reads are validated and cached per layer until the data changes; edits go through one SQLite
transaction together with their versions and audit entries, all or nothing. Each layer and the
dataset carry a version counter (table ``layer_versions``) that every write bumps: that is
:meth:`GeoPackageStore.version`, which derived structures key their rebuilds on.
"""
from __future__ import annotations

import os
import sqlite3
import struct
import tempfile
import threading
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from mapdata.schemas import SPECS, LayerValidationError, validate
from mapdata.store.base import DatasetInfo, StoreError
from mapdata.store.columns import deserialise, serialise
from mapdata.store.relational import (
    DATASET,
    META_TABLE,
    VERSION_TABLE,
    RelationalStore,
    info_from_meta,
    validated_layers,
)
from mapdata.store.sql import SqliteConnection, SqliteDatabase


def gpkg_blob(geom, srs_id: int = 4326) -> bytes:
    wkb = shapely.to_wkb(geom, byte_order=1)
    if shapely.get_type_id(geom) == 0:  # points carry no envelope
        return b"GP" + bytes([0, 0b00000001]) + struct.pack("<i", srs_id) + wkb
    minx, miny, maxx, maxy = shapely.bounds(geom)
    return b"GP" + bytes([0, 0b00000011]) + struct.pack("<i4d", srs_id, minx, maxx, miny, maxy) + wkb


_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _blob_wkb(blob) -> bytes | None:
    """The WKB inside a GeoPackage geometry blob (after its header and envelope)."""
    if blob is None:
        return None
    return bytes(blob[8 + _ENVELOPE_BYTES[(blob[3] >> 1) & 0b111]:])


def _blob_geometry(blob: bytes):
    return shapely.from_wkb(_blob_wkb(blob))


def _register_gpkg_functions(conn: sqlite3.Connection) -> None:
    """The spatial SQL functions GeoPackage's R-tree triggers call (GDAL provides them; sqlite3 does not)."""

    def bound(i):
        def f(blob):
            if blob is None:
                return None
            return float(shapely.bounds(_blob_geometry(blob))[i])
        return f

    conn.create_function("ST_IsEmpty", 1, lambda b: None if b is None else int(_blob_geometry(b).is_empty),
                         deterministic=True)
    for name, i in (("ST_MinX", 0), ("ST_MinY", 1), ("ST_MaxX", 2), ("ST_MaxY", 3)):
        conn.create_function(name, 1, bound(i), deterministic=True)


class GeoPackageStore(RelationalStore):
    """The embedded store: every layer in one GeoPackage file.

    Several processes (gunicorn workers) can share one file: a read checks the layer's version
    on every call (its ``layer_versions`` row, on a connection kept per thread) and reloads only when
    it moved. Writes of edits go through one SQLite transaction: the rows,
    their versions and the audit entries land together or not at all.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._local = threading.local()
        self._inherited: list = []  # a parent process's connections: never closed in a child
        super().__init__(SqliteDatabase(self.path))

    # -- reading ------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists()

    def layers(self) -> list[str]:
        if not self.path.exists():
            return []
        with closing(sqlite3.connect(self.path)) as conn:
            stored = self._stored_layers(conn)
        return [name for name in SPECS if name in stored]

    def _version_key(self):
        """None: the versions table is read on every call, on this thread's kept connection (~20 µs).

        Nothing but SQLite may open the file while the process may hold SQLite's locks on it: closing any
        other descriptor of the file (a plain ``open()``, GDAL's own SQLite) releases every POSIX lock the
        process holds there, and a writing thread of the same worker then fails its COMMIT with "disk I/O
        error" or worse (two gunicorn servers on one file, bench_servers). So no file header is read here.
        """
        return None

    def _reader(self) -> sqlite3.Connection:
        """This thread's connection for version checks, opened again for a rebuilt file (another inode) or in
        a forked worker (a connection is never used across ``fork``; the parent's is left alone)."""
        try:
            inode = self.path.stat().st_ino
        except FileNotFoundError:
            raise StoreError(f"no data store at {self.path}; build it with `make data` "
                             "(python -m mapdata.build)") from None
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and (local.pid != os.getpid() or local.inode != inode):
            if local.pid == os.getpid():
                conn.close()
            else:
                self._inherited.append(conn)
            conn = None
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            local.conn, local.pid, local.inode, local.seen = conn, os.getpid(), inode, None
        return conn

    def _read_versions(self, key) -> dict[str, str]:
        """The versions, read again only when a commit has reached the file since this thread last read them.

        ``PRAGMA data_version`` on the thread's reading connection (which never writes) changes with every
        commit of any other connection, in this process or another: one pragma instead of the versions query
        when nothing was written, which is nearly every request."""
        conn = self._reader()
        local = self._local
        change = conn.execute("PRAGMA data_version").fetchone()[0]
        if local.seen is not None and local.seen[0] == change:
            return local.seen[1]
        versions = self._query_versions(conn)
        local.seen = (change, versions)
        return versions

    def _query_versions(self, conn: sqlite3.Connection) -> dict[str, str]:
        try:
            rows = conn.execute(f"SELECT v.layer, v.version, (SELECT value FROM {META_TABLE} WHERE key = "
                                f"'dataset_id') FROM {VERSION_TABLE} v").fetchall()
        except sqlite3.OperationalError:  # a store from before versions were kept (upgrade() adds them)
            changes = conn.execute("PRAGMA data_version").fetchone()[0]
            return {DATASET: f"unversioned:{id(conn)}:{changes}"}
        prefix = rows[0][2] if rows and rows[0][2] else "dataset"
        versions = {name: f"{prefix}:{n}" for name, n, _ in rows}
        versions.setdefault(DATASET, f"{prefix}:0")
        return versions

    def _load(self, layer: str) -> gpd.GeoDataFrame:
        if layer not in self.layers():
            raise StoreError(f"layer {layer!r} is not in {self.path}")
        self._check_storage_types(layer)
        gdf = deserialise(self._read_table(layer), layer)
        within = None if layer == "districts" else self._outline()
        return validate(gdf, layer, within=within).reset_index(drop=True)

    def _read_table(self, layer: str) -> gpd.GeoDataFrame:
        """The layer's rows as stored, in file order, read with Python's own SQLite.

        Not through GDAL: GDAL links its own copy of SQLite, and a second SQLite library in the process breaks
        the file locks of the first (closing its file releases every POSIX lock the process holds on the file),
        so a worker reloading a layer while another of its threads is writing met "disk I/O error" (two gunicorn
        servers on one file, bench_servers). GDAL only writes new files, before they are swapped in.
        """
        spec = SPECS[layer]
        geom_col = self._geometry_column(layer)
        names = spec.column_names
        columns = ", ".join(f'"{n}"' for n in [*names, geom_col])
        with closing(sqlite3.connect(self.path)) as conn:
            have = {row[1] for row in conn.execute(f'PRAGMA table_info("{layer}")')}
            missing = [n for n in names if n not in have]
            if missing:
                raise LayerValidationError(layer, None, missing[0], "column is missing")
            rows = conn.execute(f'SELECT {columns} FROM "{layer}" ORDER BY rowid').fetchall()
        frame = pd.DataFrame([r[:-1] for r in rows], columns=names)
        geometry = shapely.from_wkb(np.array([_blob_wkb(r[-1]) for r in rows], dtype=object)) if rows else []
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, index=frame.index, crs=4326), crs=4326)

    def _check_storage_types(self, layer: str) -> None:
        """Numbers stored as text: GDAL would read 'lots' in an INTEGER column as 0, so look first."""
        spec = SPECS[layer]
        numeric = {n: c for n, c in spec.columns.items() if c.kind in ("int", "float", "bool")}
        if not numeric:
            return
        allowed = {"int": "('integer', 'null')", "bool": "('integer', 'null')", "float": "('integer', 'real', 'null')"}
        with closing(sqlite3.connect(self.path)) as conn:
            columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{layer}")')}
            for name, col in numeric.items():
                if name not in columns:
                    raise LayerValidationError(layer, None, name, "column is missing")
                row = conn.execute(f'SELECT "{spec.id_column}", "{name}" FROM "{layer}" '
                                   f'WHERE typeof("{name}") NOT IN {allowed[col.kind]} LIMIT 1').fetchone()
                if row is not None:
                    raise LayerValidationError(layer, row[0], name, f"got {row[1]!r}, expected {col.kind}")

    def info(self) -> DatasetInfo:
        with closing(sqlite3.connect(self.path)) as conn:
            try:
                rows = dict(conn.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())
            except sqlite3.OperationalError:
                return DatasetInfo(demo=False, seed=None, built_at=None)
        return info_from_meta(rows)

    # -- writing a whole dataset (the build) -------------------------------------------------
    def write_dataset(self, layers: Mapping[str, gpd.GeoDataFrame], info: DatasetInfo,
                      carry: Mapping[str, tuple[list[str], list[tuple]]] | None = None) -> None:
        """Validate every layer, write them (and the side tables' ``carry``) to a new file and swap it in atomically."""
        layers = validated_layers(layers)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp.gpkg", dir=self.path.parent)
        os.close(fd)
        os.unlink(tmp)
        try:
            for name, gdf in layers.items():
                pyogrio.write_dataframe(serialise(gdf, name), tmp, layer=name, driver="GPKG",
                                        layer_options={"SPATIAL_INDEX": "YES"})
            with closing(sqlite3.connect(tmp, isolation_level=None, factory=SqliteConnection)) as conn:
                conn.execute("BEGIN IMMEDIATE")
                self._write_side_tables(conn, layers, info, carry)
                conn.execute("COMMIT")
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._replaced()

    def _write_connection(self):
        conn = self.db.connect()
        _register_gpkg_functions(conn)  # the GeoPackage's triggers call them
        return conn

    def _geometry_value(self, geom) -> bytes:
        return gpkg_blob(geom)

    # -- upgrading a store made by an older release ------------------------------------------
    def _stored_layers(self, conn) -> set[str]:
        return {r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents")}

    def _geometry_column(self, layer: str) -> str:
        with closing(sqlite3.connect(self.path)) as conn:
            row = conn.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", [layer]).fetchone()
        if row is None:
            raise StoreError(f"layer {layer!r} has no geometry column in {self.path}")
        return row[0]


