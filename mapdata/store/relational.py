"""What both stores share: versions, cached validated reads, and edits in one transaction with their audit entries.

:class:`RelationalStore` holds everything a store does the same whether its tables are in a GeoPackage
(:class:`mapdata.store.geopackage.GeoPackageStore`) or in PostgreSQL + PostGIS
(:class:`mapdata.store.postgis.PostgisStore`): the SQL is written once (:mod:`mapdata.store.sql`). A store says
where its layers are read from, how a geometry is written, how its versions are looked up and how a whole
dataset is replaced.
"""
from __future__ import annotations

import abc
import contextvars
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Mapping
from contextlib import closing, contextmanager
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapdata import clock
from mapdata.schemas import SPECS, LayerValidationError, validate
from mapdata.store import migrations
from mapdata.store.accounts import AUDIT_INSERT, AUDIT_TABLE, AccountTable
from mapdata.store.base import Change, DatasetInfo, StoreError, VersionConflict
from mapdata.store.calendar import DAYS_TABLE, YEARS_TABLE, CalendarTable
from mapdata.store.columns import jsonable, serialise
from mapdata.store.jobs import JobTable
from mapdata.store.reports import ReportTable
from mapdata.store.sql import Database
from mapdata.store.throttle import ThrottleTable
from mapdata.store.uploads import UploadTable
from mapdata.store.versions import DATASET, META_SCHEMA, META_TABLE, VERSION_TABLE, bump_versions
from mapdata.vocabulary import TIMEZONE

#: The audit log: every edit of a row, account, report, reward or calendar, with its before and after.
AUDIT_SCHEMA = (f"CREATE TABLE {AUDIT_TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, "
                '"user" TEXT NOT NULL, layer TEXT NOT NULL, row_id TEXT NOT NULL, action TEXT NOT NULL, '
                "before TEXT, after TEXT)",
                f"CREATE INDEX {AUDIT_TABLE}_row ON {AUDIT_TABLE}(layer, row_id)")


def meta_rows(info: DatasetInfo, dataset_id: str) -> list[tuple[str, str]]:
    """``dataset_meta``'s rows for a dataset."""
    return [("demo", "1" if info.demo else "0"), ("seed", "" if info.seed is None else str(info.seed)),
            ("built_at", info.built_at or ""), ("description", info.description),
            ("extra", json.dumps(info.extra, ensure_ascii=False, sort_keys=True)), ("dataset_id", dataset_id)]


def info_from_meta(rows: Mapping[str, str]) -> DatasetInfo:
    return DatasetInfo(demo=rows.get("demo") == "1", seed=int(rows["seed"]) if rows.get("seed") else None,
                       built_at=rows.get("built_at"), description=rows.get("description", ""),
                       extra=json.loads(rows.get("extra") or "{}"))


#: The versions read inside one :func:`versions_read_once` block, per store (None outside one).
_VERSIONS_READ: contextvars.ContextVar[dict | None] = contextvars.ContextVar("nuanxin_versions_read", default=None)


@contextmanager
def versions_read_once():
    """Inside the block (one request), each store reads its layers' versions from the database once: every
    structure the request derives answers from the same version, and a request asking for ten of them makes
    one query, not ten. A write the store commits inside the block is read again after it."""
    token = _VERSIONS_READ.set({})
    try:
        yield
    finally:
        _VERSIONS_READ.reset(token)


class RelationalStore(abc.ABC):
    """A store whose layers and side tables are tables of one SQL database (see the module's text)."""

    #: How a statement writes a geometry parameter.
    GEOMETRY_MARK = "?"

    def __init__(self, db: Database):
        self.db = db
        self._cache: dict[str, tuple[str, gpd.GeoDataFrame]] = {}
        self._versions: tuple[object, dict[str, str]] | None = None  # (version key, layer -> version)
        self._lock = threading.RLock()
        self._accounts = AccountTable(db)
        self._reports = ReportTable(db)
        self._calendar = CalendarTable(db)
        self._throttle = ThrottleTable(db)
        self._uploads = UploadTable(db)
        self._jobs = JobTable(db)
        self._outline_cache: tuple[str, object] | None = None

    @property
    def side_tables(self) -> tuple:
        return self._accounts, self._reports, self._calendar, self._throttle, self._uploads, self._jobs

    # -- what each store says for itself ------------------------------------------------------
    @abc.abstractmethod
    def exists(self) -> bool:
        """Whether there is a dataset to read."""

    @abc.abstractmethod
    def layers(self) -> list[str]:
        """The layers stored, in the schemas' order."""

    @abc.abstractmethod
    def _version_key(self):
        """A cheap key that moves with every write (None: read the versions on every call)."""

    @abc.abstractmethod
    def _read_versions(self, key) -> dict[str, str]:
        """Every layer's version and the dataset's (under :data:`DATASET`)."""

    @abc.abstractmethod
    def _load(self, layer: str) -> gpd.GeoDataFrame:
        """The layer read from the database and validated."""

    @abc.abstractmethod
    def _geometry_column(self, layer: str) -> str:
        """The name of the layer's geometry column in its table."""

    @abc.abstractmethod
    def _geometry_value(self, geom):
        """A geometry as the statement's :data:`GEOMETRY_MARK` takes it."""

    @abc.abstractmethod
    def _write_connection(self):
        """A connection for one write transaction."""

    @abc.abstractmethod
    def write_dataset(self, layers: Mapping[str, gpd.GeoDataFrame], info: DatasetInfo,
                      carry: Mapping[str, tuple[list[str], list[tuple]]] | None = None) -> None:
        """Replace the whole dataset, all or nothing; ``carry`` adds rows of the side tables (a copy)."""

    @abc.abstractmethod
    def _stored_layers(self, conn) -> set[str]:
        """The names of the layer tables the database holds (inside the caller's connection)."""

    def upgrade(self) -> list:
        """Apply the schema migrations this store lacks, in place, in one transaction
        (:mod:`mapdata.store.migrations`); answer the ones applied (``Applied``, with what each added)."""
        return migrations.migrate(self)

    @property
    def where(self) -> str:
        """Where the store is, as shown in messages (a URL's password hidden)."""
        from mapdata.store.sql import redacted

        return redacted(str(getattr(self, "url", None) or getattr(self, "path", "?")))

    def _column_sql_type(self, column: str, col) -> str:
        """The SQL type of a column added in place (a GeoPackage's, as its layers are written)."""
        return {"int": "INTEGER", "float": "REAL", "bool": "INTEGER"}.get(col.kind, "TEXT")

    @abc.abstractmethod
    def info(self) -> DatasetInfo:
        """The dataset's description."""

    # -- reading ------------------------------------------------------------------------------
    def version(self, layer: str | None = None) -> str:
        """The version of ``layer`` (or of the whole dataset): it changes with every write to it.

        The token joins the dataset's id (new with every build) and the layer's write counter,
        so a rebuilt file never repeats an earlier version. A file written before versions were
        kept answers with a token of its engine's change counter until :meth:`upgrade` adds them.
        Every call looks at the database (:meth:`_version_key`, or the versions themselves): no
        worker answers from a version older than the last write committed before the call.
        """
        read = _VERSIONS_READ.get()
        versions = None if read is None else read.get(id(self))
        if versions is None:
            key = self._version_key()
            with self._lock:
                if key is None or self._versions is None or self._versions[0] != key:
                    self._versions = (key, self._read_versions(key))
                versions = self._versions[1]
            if read is not None:
                read[id(self)] = versions
        key = DATASET if layer is None else layer
        return versions.get(key, versions[DATASET])


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


    @contextmanager
    def _transaction(self):
        """One write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, ``ROLLBACK`` on any error)."""
        with closing(self._write_connection()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                self._versions_changed()

    def _versions_changed(self) -> None:
        """What this store wrote is read again by the block :func:`versions_read_once` it was written in."""
        read = _VERSIONS_READ.get()
        if read is not None:
            read.pop(id(self), None)

    def _write_side_tables(self, conn, layers, info: DatasetInfo, carry) -> None:
        """A new dataset's audit log, description, versions and schema migrations (all of this release's), and its
        side tables: carried over from another store (a copy), or made with the holiday calendar as published so
        far (inside the caller's transaction)."""
        for statement in (*AUDIT_SCHEMA, *META_SCHEMA):
            conn.execute(statement)
        conn.executemany(f"INSERT INTO {META_TABLE} VALUES (?, ?)", meta_rows(info, uuid.uuid4().hex[:12]))
        conn.executemany(f"INSERT INTO {VERSION_TABLE} VALUES (?, 1)", [(DATASET,), *((n,) for n in layers)])
        migrations.record_all(conn)
        for table in self.side_tables:  # every table a store has (the calendar seeded as published so far)
            table.prepare(conn)
        if carry:
            carry_rows(conn, carry)

    def _replaced(self) -> None:
        """The whole dataset was written anew: forget every cache, make missing side tables again."""
        with self._lock:
            self._cache.clear()
            self._versions = None
            self._outline_cache = None
        self._versions_changed()
        for table in self.side_tables:
            table.forget()

    def has_table(self, table: str) -> bool:
        with closing(self.db.connect()) as conn:
            return bool(conn.has_table(table))

    def table_rows(self, table: str) -> tuple[list[str], list[tuple]]:
        """A side table's columns and rows in key order, as stored (what a copy carries over)."""
        with closing(self.db.connect()) as conn:
            cur = conn.execute(f'SELECT * FROM "{table}" ORDER BY 1')
            rows = cur.fetchall()
            names = list(rows[0].keys()) if rows else self._columns_of(conn, table)
        return names, [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]

    def _columns_of(self, conn, table: str) -> list[str]:
        if conn.dialect == "sqlite":
            return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        return [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE "
                                           "table_schema = current_schema() AND table_name = ? ORDER BY "
                                           "ordinal_position", [table])]

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
    def jobs(self) -> JobTable:
        """Long jobs (a national coverage run): state, progress, cancel flag and result, seen by every worker."""
        return self._jobs

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
                    assignments += f', "{geom_col}" = {self.GEOMETRY_MARK}'
                    params.append(self._geometry_value(row[stored.geometry.name]))
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

                conn.execute(AUDIT_INSERT,
                             [stamp.isoformat(), user, layer, ch.id, action, values(before), values(after)])
            bump_versions(conn, layer)
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
            marks = ", ".join(["?"] * len(names) + [self.GEOMETRY_MARK])
            for (_, row), (_, full) in zip(stored.iterrows(), new.iterrows()):
                params = [jsonable(row[c]) if spec.columns[c].kind != "bool" else int(row[c]) for c in names]
                conn.execute(f'INSERT INTO "{layer}" ({quoted}) VALUES ({marks})',
                             [*params, self._geometry_value(row[stored.geometry.name])])
                after = {c: jsonable(full.geometry if c == "geometry" else full[c]) for c in [*names, "geometry"]}
                conn.execute(AUDIT_INSERT, [stamp.isoformat(), user, layer, str(full[spec.id_column]),
                                                        action, None, json.dumps(after, ensure_ascii=False)])
            bump_versions(conn, layer)
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
                conn.execute(AUDIT_INSERT, [stamp.isoformat(), user, layer, row_id, "confirm",
                                                        json.dumps({"confirmed_at": before[0], "confirmed_by": before[1]},
                                                                   ensure_ascii=False),
                                                        json.dumps({"confirmed_at": stamp.isoformat(),
                                                                    "confirmed_by": user}, ensure_ascii=False)])
            bump_versions(conn, layer)
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
        self._versions_changed()

    def audit_log(self, layer: str | None = None, row_id: str | None = None) -> pd.DataFrame:
        """The history of edits, oldest first, optionally of one layer or one row."""
        query, params = f'SELECT seq, at, "user", layer, row_id, action, before, after FROM {AUDIT_TABLE}', []
        clauses = []
        if layer is not None:
            clauses.append("layer = ?")
            params.append(layer)
        if row_id is not None:
            clauses.append("row_id = ?")
            params.append(row_id)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        with closing(self.db.connect()) as conn:
            rows = [tuple(r) for r in conn.execute(query + " ORDER BY seq", params).fetchall()]
        log = pd.DataFrame(rows, columns=["seq", "at", "user", "layer", "row_id", "action", "before", "after"])
        log["seq"] = log["seq"].astype("int64")
        for c in ("before", "after"):
            log[c] = log[c].map(lambda v: json.loads(v) if isinstance(v, str) and v else None)
        return log


def _layer_counter(conn: sqlite3.Connection, layer: str) -> int | None:
    """The layer's write counter inside the caller's transaction (None for a store without counters)."""
    try:
        row = conn.execute(f"SELECT version FROM {VERSION_TABLE} WHERE layer = ?", [layer]).fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0]) if row else 1


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


def validated_layers(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of a dataset validated, the others inside the districts' outline when districts are given."""
    outline = None
    if "districts" in layers:
        validate(layers["districts"], "districts")
        outline = shapely.union_all(layers["districts"].geometry.values)
        shapely.prepare(outline)
    return {name: validate(gdf, name, within=outline) for name, gdf in layers.items()}


def carry_rows(conn, carry: Mapping[str, tuple[list[str], list[tuple]]]) -> None:
    """Rows of side tables written as they were (their keys kept), inside the caller's transaction; the tables'
    identity counters then start after the highest key carried."""
    for table, (names, rows) in carry.items():
        if table in (META_TABLE, VERSION_TABLE, YEARS_TABLE, DAYS_TABLE):  # written or seeded with the dataset
            conn.execute(f'DELETE FROM "{table}"')
        if not rows:
            continue
        quoted = ", ".join(f'"{n}"' for n in names)
        conn.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(names))})', rows)
        if conn.dialect == "postgresql" and names[0] in ("id", "seq"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{names[0]}'), "
                         f'(SELECT max("{names[0]}") FROM "{table}"))')
