"""The embedded store: every layer in one GeoPackage file (``var/nuanxin.gpkg`` by default).

Reads are validated and cached per layer until the data changes; edits go through one SQLite
transaction together with their versions and audit entries, all or nothing. Each layer and the
dataset carry a version counter (table ``layer_versions``) that every write bumps: that is
:meth:`GeoPackageStore.version`, which derived structures key their rebuilds on.
"""
from __future__ import annotations

import json
import os
import sqlite3
import struct
import tempfile
import threading
import uuid
from collections.abc import Iterable, Mapping
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from mapdata import clock
from mapdata.schemas import SPECS, LayerValidationError, validate
from mapdata.store.accounts import AUDIT_TABLE, AccountTable
from mapdata.store.base import Change, DatasetInfo, StoreError, VersionConflict
from mapdata.store.calendar import CalendarTable, create_calendar
from mapdata.store.columns import deserialise, jsonable, serialise
from mapdata.store.reports import ReportTable
from mapdata.store.throttle import ThrottleTable
from mapdata.store.uploads import UploadTable
from mapdata.vocabulary import TIMEZONE

META_TABLE = "dataset_meta"
VERSION_TABLE = "layer_versions"
#: The name under which the whole dataset's version is kept in ``layer_versions``.
DATASET = ""


def gpkg_blob(geom, srs_id: int = 4326) -> bytes:
    wkb = shapely.to_wkb(geom, byte_order=1)
    if shapely.get_type_id(geom) == 0:  # points carry no envelope
        return b"GP" + bytes([0, 0b00000001]) + struct.pack("<i", srs_id) + wkb
    minx, miny, maxx, maxy = shapely.bounds(geom)
    return b"GP" + bytes([0, 0b00000011]) + struct.pack("<i4d", srs_id, minx, maxx, miny, maxy) + wkb


def _blob_geometry(blob: bytes):
    flags = blob[3]
    env = (flags >> 1) & 0b111
    size = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[env]
    return shapely.from_wkb(bytes(blob[8 + size:]))


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

class GeoPackageStore:
    """The embedded store: every layer in one GeoPackage file.

    Several processes (gunicorn workers) can share one file: a read checks the layer's version
    on every call (a cheap ``stat`` of the file and its SQLite change counter, then its ``layer_versions``
    rows when either moved) and
    reloads only when it moved. Writes of edits go through one SQLite transaction: the rows,
    their versions and the audit entries land together or not at all.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._cache: dict[str, tuple[str, gpd.GeoDataFrame]] = {}
        self._versions: tuple[tuple, dict[str, str]] | None = None  # (file key, layer -> version)
        self._lock = threading.RLock()
        self._accounts = AccountTable(self.path)
        self._reports = ReportTable(self.path)
        self._calendar = CalendarTable(self.path)
        self._throttle = ThrottleTable(self.path)
        self._uploads = UploadTable(self.path)
        self._outline_cache: tuple[str, object] | None = None

    # -- reading ------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists()

    def layers(self) -> list[str]:
        if not self.path.exists():
            return []
        stored = {str(name) for name, _ in pyogrio.list_layers(self.path)}
        return [name for name in SPECS if name in stored]

    def _file_key(self) -> tuple[int, int, int, int, bytes]:
        """What moves with every write to the file, whichever process made it: its inode (a rebuilt file is
        swapped in), size and modification time, and SQLite's own file change counter (header bytes 24-27,
        bumped by every committed transaction in the rollback-journal mode the store uses). The counter is
        what counts when the clock does not move: file times tick coarsely on many filesystems (a few
        milliseconds, a second on some), so two writes within one tick leave the time as it was.

        A ``stat`` and a 28-byte read: cheap enough to ask on every request.
        """
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                header = f.read(28)
        except FileNotFoundError:
            raise StoreError(f"no data store at {self.path}; build it with `make data` "
                             "(python -m mapdata.build)") from None
        return st.st_ino, st.st_size, st.st_mtime_ns, st.st_dev, header[24:28]

    def version(self, layer: str | None = None) -> str:
        """The version of ``layer`` (or of the whole dataset): it changes with every write to it.

        The token joins the dataset's id (new with every build) and the layer's write counter,
        so a rebuilt file never repeats an earlier version. A file written before versions were
        kept answers with its modification time and SQLite change counter, which change with every
        write too. Every call looks at the file (:meth:`_file_key`): no worker answers from a version
        older than the last write committed before the call.
        """
        file_key = self._file_key()
        with self._lock:
            if self._versions is None or self._versions[0] != file_key:
                self._versions = (file_key, self._read_versions(file_key))
            versions = self._versions[1]
        key = DATASET if layer is None else layer
        return versions.get(key, versions[DATASET])

    def _read_versions(self, key: tuple) -> dict[str, str]:
        with closing(sqlite3.connect(self.path)) as conn:
            try:
                dataset_id = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'dataset_id'").fetchone()
                rows = conn.execute(f"SELECT layer, version FROM {VERSION_TABLE}").fetchall()
            except sqlite3.OperationalError:  # a store from before versions were kept
                return {DATASET: f"mtime:{key[2]}:{int.from_bytes(key[4], 'big')}"}
        prefix = dataset_id[0] if dataset_id else "dataset"
        versions = {name: f"{prefix}:{n}" for name, n in rows}
        versions.setdefault(DATASET, f"{prefix}:0")
        return versions

    def read(self, layer: str) -> gpd.GeoDataFrame:
        """The layer as a validated GeoDataFrame (a copy: change it freely)."""
        if layer not in SPECS:
            raise StoreError(f"unknown layer {layer!r}; known layers: {', '.join(SPECS)}")
        version = self.version(layer)
        with self._lock:
            hit = self._cache.get(layer)
            if hit is None or hit[0] != version:
                hit = (version, self._load(layer))
                self._cache[layer] = hit
            return hit[1].copy()

    def _outline(self):
        """Chengdu's outline, prepared, computed once per version of the districts (a union costs ~50 ms)."""
        if "districts" not in self.layers():
            return None
        version = self.version("districts")
        with self._lock:
            if self._outline_cache is not None and self._outline_cache[0] == version:
                return self._outline_cache[1]
        outline = shapely.union_all(self.read("districts").geometry.values)
        shapely.prepare(outline)
        with self._lock:
            self._outline_cache = (version, outline)
        return outline

    def _load(self, layer: str) -> gpd.GeoDataFrame:
        if layer not in self.layers():
            raise StoreError(f"layer {layer!r} is not in {self.path}")
        self._check_storage_types(layer)
        raw = pyogrio.read_dataframe(self.path, layer=layer, fid_as_index=False)
        gdf = deserialise(raw, layer)
        within = None if layer == "districts" else self._outline()
        return validate(gdf, layer, within=within).reset_index(drop=True)

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
        return DatasetInfo(demo=rows.get("demo") == "1", seed=int(rows["seed"]) if rows.get("seed") else None,
                           built_at=rows.get("built_at"), description=rows.get("description", ""),
                           extra=json.loads(rows.get("extra", "{}")))

    # -- writing a whole dataset (the build) -------------------------------------------------
    def write_dataset(self, layers: Mapping[str, gpd.GeoDataFrame], info: DatasetInfo) -> None:
        """Validate every layer, write them to a new file and swap it in atomically."""
        outline = None
        if "districts" in layers:
            validate(layers["districts"], "districts")
            outline = shapely.union_all(layers["districts"].geometry.values)
            shapely.prepare(outline)
        layers = {name: validate(gdf, name, within=outline) for name, gdf in layers.items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp.gpkg", dir=self.path.parent)
        os.close(fd)
        os.unlink(tmp)
        try:
            for name, gdf in layers.items():
                pyogrio.write_dataframe(serialise(gdf, name), tmp, layer=name, driver="GPKG",
                                        layer_options={"SPATIAL_INDEX": "YES"})
            with closing(sqlite3.connect(tmp)) as conn, conn:
                conn.execute(f"CREATE TABLE {AUDIT_TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
                             "user TEXT NOT NULL, layer TEXT NOT NULL, row_id TEXT NOT NULL, action TEXT NOT NULL, "
                             "before TEXT, after TEXT)")
                conn.execute(f"CREATE INDEX {AUDIT_TABLE}_row ON {AUDIT_TABLE}(layer, row_id)")
                conn.execute(f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
                conn.executemany(f"INSERT INTO {META_TABLE} VALUES (?, ?)", [
                    ("demo", "1" if info.demo else "0"), ("seed", "" if info.seed is None else str(info.seed)),
                    ("built_at", info.built_at or ""), ("description", info.description),
                    ("extra", json.dumps(info.extra, ensure_ascii=False, sort_keys=True)),
                    ("dataset_id", uuid.uuid4().hex[:12])])
                conn.execute(f"CREATE TABLE {VERSION_TABLE} (layer TEXT PRIMARY KEY, version INTEGER NOT NULL)")
                conn.executemany(f"INSERT INTO {VERSION_TABLE} VALUES (?, 1)", [(DATASET,), *((n,) for n in layers)])
                create_calendar(conn)  # the holiday calendar as published so far
            os.replace(tmp, self.path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        with self._lock:
            self._cache.clear()
            self._versions = None

    @contextmanager
    def _transaction(self):
        """One write transaction (BEGIN IMMEDIATE … COMMIT, ROLLBACK on any error) on the GeoPackage."""
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
            _register_gpkg_functions(conn)  # the GeoPackage's triggers call them
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- upgrading a store made by an older release ------------------------------------------
    def upgrade(self) -> list[str]:
        """Add the nullable columns this release's schemas have and the file lacks (in place, one
        transaction); answer what was added as ``layer.column``."""
        added = []
        with self._transaction() as conn:
            stored = {r[0] for r in conn.execute("SELECT table_name FROM gpkg_contents")}
            for name, spec in SPECS.items():
                if name not in stored:
                    continue
                have = {row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')}
                defaults = _upgrade_defaults()
                for column, col in spec.columns.items():
                    if column in have:
                        continue
                    default = defaults.get(column, defaults.get(col.kind))
                    if not col.nullable and col.kind != "amenities" and default is None:  # NULL: no amenity
                        raise StoreError(f"layer {name!r} lacks the column {column!r}, which has no default; "
                                         "rebuild the store or copy it with a newer release")
                    sql_type = {"int": "INTEGER", "float": "REAL", "bool": "INTEGER"}.get(col.kind, "TEXT")
                    clause = "" if default is None or col.nullable else f" NOT NULL DEFAULT {default}"
                    conn.execute(f'ALTER TABLE "{name}" ADD COLUMN "{column}" {sql_type}{clause}')
                    added.append(f"{name}.{column}")
            if added:
                for name in {a.split(".")[0] for a in added}:
                    _bump_versions(conn, name)
        if added:
            with self._lock:
                self._cache.clear()
                self._versions = None
        return added

    @property
    def accounts(self) -> AccountTable:
        """Staff accounts and API tokens, kept in this same file."""
        return self._accounts

    @property
    def calendar(self) -> CalendarTable:
        """The published holiday calendar (holidays and make-up days by year), kept in this same file."""
        return self._calendar

    @property
    def reports(self) -> ReportTable:
        """Riders' reports, their photos, the points ledger and the rewards, kept in this same file."""
        return self._reports

    @property
    def throttle(self) -> ThrottleTable:
        """Failed logins per account name and per address, kept in this same file (every worker counts alike)."""
        return self._throttle

    @property
    def uploads(self) -> UploadTable:
        """Planners' recent uploads under their tokens, kept in this same file (any worker answers them)."""
        return self._uploads

    # -- edits ----------------------------------------------------------------------------
    def apply_changes(self, layer: str, changes: Iterable[Change], user: str,
                      now: datetime | None = None, action: str = "update") -> gpd.GeoDataFrame:
        """Apply edits to rows of an editable layer in one transaction; return the changed rows.

        ``action`` is what the audit log calls the change (``update``, ``revert``, ``retire``, ``import``).

        Each changed row is validated against the layer's schema before anything is written;
        its ``version`` goes up by one, ``updated_at``/``updated_by`` are set, and the old and
        new values are appended to the audit log. Any error leaves the file as it was.
        """
        spec = self._editable(layer, user)
        changes = list(changes)
        if not changes:
            return self.read(layer).iloc[0:0]
        stamp = self._stamp(now)
        before_version = self.version(layer)
        current = self.read(layer).set_index(spec.id_column, drop=False)
        rows = _checked_changes(spec, current, changes)
        new = _changed_rows(spec, current, rows, stamp, user)
        new = validate(new, layer, within=self._outline())
        written_over = self._write_changes(spec, rows, new, stamp, user, action)
        self._keep_written(spec, layer, current, new, before_version, written_over)
        return new

    def _write_changes(self, spec, rows: list[tuple[Change, pd.Series]], new: gpd.GeoDataFrame,
                       stamp: pd.Timestamp, user: str, action: str = "update") -> None:
        """The rows, their audit entries and the versions in one transaction, guarded by each row's version."""
        layer = spec.name
        stored = serialise(new, layer)
        geom_col = self._geometry_column(layer)
        by_id = new.set_index(spec.id_column, drop=False)
        cols = [c for c in spec.columns if c != spec.id_column]
        with self._transaction() as conn:
            counter = _layer_counter(conn, layer)
            for (ch, before), (_, row) in zip(rows, stored.iterrows()):
                assignments = ", ".join(f'"{c}" = ?' for c in cols)
                params = [jsonable(row[c]) if spec.columns[c].kind != "bool" else int(row[c]) for c in cols]
                if "geometry" in ch.values:
                    assignments += f', "{geom_col}" = ?'
                    params.append(gpkg_blob(row[stored.geometry.name]))
                where = f'"{spec.id_column}" = ? AND "version" = ?'
                cur = conn.execute(f'UPDATE "{layer}" SET {assignments} WHERE {where}',
                                   [*params, ch.id, int(before["version"])])
                if cur.rowcount != 1:  # another writer got there between our read and this write
                    actual = conn.execute(f'SELECT "version" FROM "{layer}" WHERE "{spec.id_column}" = ?',
                                          [ch.id]).fetchone()
                    raise VersionConflict(layer, ch.id, int(before["version"]), int(actual[0]) if actual else -1)
                changed = sorted(set(ch.values) | {"version", "updated_at", "updated_by"})
                after = by_id.loc[ch.id]

                def values(r, names=changed):
                    return json.dumps({c: jsonable(r.geometry if c == "geometry" else r[c]) for c in names},
                                      ensure_ascii=False)

                conn.execute(f"INSERT INTO {AUDIT_TABLE} (at, user, layer, row_id, action, before, after) "
                             "VALUES (?,?,?,?,?,?,?)",
                             [stamp.isoformat(), user, layer, ch.id, action, values(before), values(after)])
            _bump_versions(conn, layer)
        return counter

    def _keep_written(self, spec, layer: str, current: gpd.GeoDataFrame, new: gpd.GeoDataFrame,
                      before_version: str, written_over: int | None) -> None:
        """After our own write, keep the layer as we now know it instead of reading the file again (a reload
        and validation cost ~150 ms): only when nobody else wrote the layer between our read and our write."""
        self._forget(layer)
        if written_over is None or not before_version.endswith(f":{written_over}"):
            return
        order = current.index
        by_id = new.set_index(spec.id_column, drop=False)
        by_id.index.name = order.name
        kept = current[~order.isin(by_id.index)]
        merged = pd.concat([kept, by_id[kept.columns]]).loc[order].reset_index(drop=True)
        merged = gpd.GeoDataFrame(merged, geometry=current.geometry.name, crs=current.crs)
        if any(merged[c].dtype != current[c].dtype for c in current.columns):
            return  # a column's type would differ from a fresh read: read the file instead
        version = self.version(layer)
        with self._lock:
            self._cache[layer] = (version, merged)

    def insert_rows(self, layer: str, rows: gpd.GeoDataFrame, user: str, now: datetime | None = None,
                    action: str = "insert") -> gpd.GeoDataFrame:
        """Add new rows to an editable layer (version 1, stamped and audited) in one transaction."""
        spec = self._editable(layer, user)
        if rows.empty:
            return rows
        stamp = self._stamp(now)
        current = self.read(layer)
        taken = set(current[spec.id_column].astype(str)) & set(rows[spec.id_column].astype(str))
        if taken:
            raise LayerValidationError(layer, sorted(taken)[0], spec.id_column, "a row with this id already exists")
        new = rows.copy()
        new["version"] = 1
        new["updated_at"] = pd.Series([stamp] * len(new), index=new.index).astype(pd.DatetimeTZDtype(tz=TIMEZONE))
        new["updated_by"] = user
        new = validate(gpd.GeoDataFrame(new, geometry=rows.geometry.name, crs=4326), layer, within=self._outline())
        stored = serialise(new, layer)
        geom_col = self._geometry_column(layer)
        names = list(spec.columns)
        with self._transaction() as conn:
            quoted = ", ".join(f'"{c}"' for c in [*names, geom_col])
            marks = ", ".join("?" * (len(names) + 1))
            for (_, row), (_, full) in zip(stored.iterrows(), new.iterrows()):
                params = [jsonable(row[c]) if spec.columns[c].kind != "bool" else int(row[c]) for c in names]
                conn.execute(f'INSERT INTO "{layer}" ({quoted}) VALUES ({marks})',
                             [*params, gpkg_blob(row[stored.geometry.name])])
                after = {c: jsonable(full.geometry if c == "geometry" else full[c]) for c in [*names, "geometry"]}
                conn.execute(f"INSERT INTO {AUDIT_TABLE} (at, user, layer, row_id, action, before, after) "
                             "VALUES (?,?,?,?,?,?,?)", [stamp.isoformat(), user, layer, str(full[spec.id_column]),
                                                        action, None, json.dumps(after, ensure_ascii=False)])
            _bump_versions(conn, layer)
        self._forget(layer)
        return new

    def confirm(self, layer: str, ids: Iterable[str], user: str, now: datetime | None = None) -> pd.Timestamp:
        """Record that ``user`` checked these rows and found them right: ``confirmed_at``/``confirmed_by``
        are set and audited, the rows' data and versions are untouched (an open editor does not conflict)."""
        spec = self._editable(layer, user)
        if "confirmed_at" not in spec.columns:
            raise StoreError(f"layer {layer!r} keeps no confirmations")
        ids = list(dict.fromkeys(str(i) for i in ids))
        stamp = self._stamp(now)
        with self._transaction() as conn:
            for row_id in ids:
                before = conn.execute(f'SELECT confirmed_at, confirmed_by FROM "{layer}" WHERE "{spec.id_column}" = ?',
                                      [row_id]).fetchone()
                if before is None:
                    raise LayerValidationError(layer, row_id, spec.id_column, "no row with this id")
                conn.execute(f'UPDATE "{layer}" SET confirmed_at = ?, confirmed_by = ? WHERE "{spec.id_column}" = ?',
                             [stamp.isoformat(), user, row_id])
                conn.execute(f"INSERT INTO {AUDIT_TABLE} (at, user, layer, row_id, action, before, after) "
                             "VALUES (?,?,?,?,?,?,?)", [stamp.isoformat(), user, layer, row_id, "confirm",
                                                        json.dumps({"confirmed_at": before[0], "confirmed_by": before[1]},
                                                                   ensure_ascii=False),
                                                        json.dumps({"confirmed_at": stamp.isoformat(),
                                                                    "confirmed_by": user}, ensure_ascii=False)])
            _bump_versions(conn, layer)
        self._forget(layer)
        return stamp

    def _editable(self, layer: str, user: str):
        spec = SPECS.get(layer)
        if spec is None:
            raise StoreError(f"unknown layer {layer!r}")
        if not spec.editable:
            raise StoreError(f"layer {layer!r} is not editable")
        if not user or not isinstance(user, str):
            raise LayerValidationError(layer, None, "updated_by", "expected the name of the person making the change")
        return spec

    @staticmethod
    def _stamp(now: datetime | None) -> pd.Timestamp:
        stamp = pd.Timestamp(now if now is not None else clock.now())
        return stamp.tz_localize(TIMEZONE) if stamp.tzinfo is None else stamp.tz_convert(TIMEZONE)

    def _forget(self, layer: str) -> None:
        with self._lock:
            self._cache.pop(layer, None)
            self._versions = None

    def _geometry_column(self, layer: str) -> str:
        with closing(sqlite3.connect(self.path)) as conn:
            row = conn.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", [layer]).fetchone()
        if row is None:
            raise StoreError(f"layer {layer!r} has no geometry column in {self.path}")
        return row[0]

    def audit_log(self, layer: str | None = None, row_id: str | None = None) -> pd.DataFrame:
        """The history of edits, oldest first, optionally of one layer or one row."""
        query, params = f"SELECT seq, at, user, layer, row_id, action, before, after FROM {AUDIT_TABLE}", []
        clauses = []
        if layer is not None:
            clauses.append("layer = ?")
            params.append(layer)
        if row_id is not None:
            clauses.append("row_id = ?")
            params.append(row_id)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        with closing(sqlite3.connect(self.path)) as conn:
            log = pd.read_sql_query(query + " ORDER BY seq", conn, params=params)
        for c in ("before", "after"):
            log[c] = log[c].map(lambda v: json.loads(v) if isinstance(v, str) and v else None)
        return log


def _upgrade_defaults() -> dict:
    """What a column added in place holds in the rows already there (by name, then by kind)."""
    return {"version": "1", "updated_at": f"'{clock.now().isoformat()}'", "updated_by": "'upgrade'", "bool": "0"}


def _layer_counter(conn: sqlite3.Connection, layer: str) -> int | None:
    """The layer's write counter inside the caller's transaction (None for a store without counters)."""
    try:
        row = conn.execute(f"SELECT version FROM {VERSION_TABLE} WHERE layer = ?", [layer]).fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0]) if row else 1


def _bump_versions(conn: sqlite3.Connection, layer: str) -> None:
    """One more write to ``layer`` and to the dataset, inside the caller's transaction."""
    try:
        for name in (layer, DATASET):
            conn.execute(f"INSERT INTO {VERSION_TABLE} (layer, version) VALUES (?, 2) "
                         "ON CONFLICT(layer) DO UPDATE SET version = version + 1", [name])
    except sqlite3.OperationalError:  # a store from before versions were kept: its mtime changes anyway
        pass


_PROTECTED = ("version", "updated_at", "updated_by")
_EXPECTED_TYPE = {"int": ((int, np.integer), "an integer"), "float": ((int, float, np.number), "a number"),
                  "bool": ((bool, np.bool_), "true or false")}


def _checked_changes(spec, current: pd.DataFrame, changes: list[Change]) -> list[tuple[Change, pd.Series]]:
    """Each change with the row it edits, refused when it names a row twice, an unknown row or field, a
    field the store sets, or a version other than the row's."""
    layer = spec.name
    protected = {spec.id_column, *_PROTECTED}
    seen: set[str] = set()
    rows = []
    for ch in changes:
        if ch.id in seen:
            raise LayerValidationError(layer, ch.id, spec.id_column, "the same row is changed twice in one request")
        seen.add(ch.id)
        if ch.id not in current.index:
            raise LayerValidationError(layer, ch.id, spec.id_column, "no row with this id")
        for key in ch.values:
            if key in protected:
                raise LayerValidationError(layer, ch.id, key, "is set by the store and cannot be edited")
            if key not in spec.columns and key != "geometry":
                raise LayerValidationError(layer, ch.id, key, f"unknown field; editable fields: "
                                           f"{', '.join(c for c in spec.columns if c not in protected)}, geometry")
        before = current.loc[ch.id]
        if ch.expected_version is not None and int(before["version"]) != int(ch.expected_version):
            raise VersionConflict(layer, ch.id, int(ch.expected_version), int(before["version"]))
        rows.append((ch, before))
    return rows


def _edited_value(spec, row_id: str, key: str, value):
    """``value`` for column ``key`` as the frame holds it, or the error naming the field."""
    col = spec.columns.get(key)
    if col is None:  # the geometry
        return value
    if col.kind in _EXPECTED_TYPE and not (value is None and col.nullable):
        types, words = _EXPECTED_TYPE[col.kind]
        if not isinstance(value, types) or (col.kind != "bool" and isinstance(value, (bool, np.bool_))):
            raise LayerValidationError(spec.name, row_id, key, f"got {value!r}, expected {words}")
    if col.kind == "amenities" and isinstance(value, (list, tuple, set)):
        return frozenset(value)
    if col.kind == "datetime" and value is not None:
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError, OverflowError):
            raise LayerValidationError(spec.name, row_id, key, f"got {value!r}, expected an ISO 8601 date-time") from None
        return ts.tz_localize(TIMEZONE) if ts.tzinfo is None else ts.tz_convert(TIMEZONE)
    return value


def _changed_rows(spec, current: gpd.GeoDataFrame, rows, stamp: pd.Timestamp, user: str) -> gpd.GeoDataFrame:
    """The edited rows, with their versions bumped and the editor and time set (not yet validated)."""
    new = current.loc[[ch.id for ch, _ in rows]].copy()
    for ch, _ in rows:
        for key, value in ch.values.items():
            column = new.geometry.name if key == "geometry" else key
            new.at[ch.id, column] = _edited_value(spec, ch.id, key, value)
        new.at[ch.id, "version"] = int(new.at[ch.id, "version"]) + 1
        new.at[ch.id, "updated_at"] = stamp
        new.at[ch.id, "updated_by"] = user
    new = new.reset_index(drop=True)
    for name, col in spec.columns.items():  # .at on object frames can loosen dtypes
        if col.kind == "int":
            try:
                new[name] = new[name].astype("int64")
            except (ValueError, TypeError):
                bad = new[name].map(lambda v: not isinstance(v, (int, np.integer)) or isinstance(v, bool))
                i = bad[bad].index[0]
                raise LayerValidationError(spec.name, new.at[i, spec.id_column], name,
                                           f"got {new.at[i, name]!r}, expected an integer") from None
        elif col.kind == "datetime":
            new[name] = pd.to_datetime(new[name], utc=True).dt.tz_convert(TIMEZONE) if new[name].notna().any() \
                else new[name].astype(pd.DatetimeTZDtype(tz=TIMEZONE))
    return gpd.GeoDataFrame(new, geometry=current.geometry.name, crs=current.crs)
