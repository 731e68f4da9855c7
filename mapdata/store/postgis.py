"""The PostGIS store: every layer a table of one PostgreSQL database, behind the same interface as the GeoPackage.

``NUANXIN_DB=postgresql://…`` selects it. Each layer is a table with the schema's columns (as the GeoPackage keeps
them: amenity sets as ``;``-joined text, times as ISO 8601 text with their offset, yes/no as 0/1), a ``fid``
that keeps the rows' order, and a ``geom geometry(Geometry, 4326)`` column with a GiST index; the layer's id
column is unique. The audit log, accounts, reports, points, the calendar, the login throttle and the uploads are
the same tables as in the GeoPackage, made from the same SQL (:mod:`mapdata.store.sql`).

Versions: ``layer_versions`` is bumped inside every write transaction, and every request reads it (one indexed
query on a kept connection, ~0.1 ms), so every worker of every app server sees a write committed before its
request began, and rebuilds what it derived only when a layer's version moved.

Writes: edits take the database's write lock (``BEGIN IMMEDIATE`` → an advisory transaction lock) and the
per-row version guard, as in the GeoPackage; a whole dataset is replaced in one transaction (PostgreSQL's DDL
is transactional), so a reader sees the old dataset or the new one, never a mix.
"""
from __future__ import annotations

from collections.abc import Mapping
from contextlib import closing

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapdata.schemas import SPECS, LayerValidationError, validate
from mapdata.store.accounts import ACCOUNTS_TABLE, AUDIT_TABLE, TOKENS_TABLE
from mapdata.store.base import DatasetInfo, StoreError
from mapdata.store.calendar import DAYS_TABLE, YEARS_TABLE
from mapdata.store.columns import deserialise, serialise
from mapdata.store.jobs import JOBS_TABLE
from mapdata.store.migrations import MIGRATIONS_TABLE
from mapdata.store.relational import (
    DATASET,
    META_TABLE,
    VERSION_TABLE,
    RelationalStore,
    info_from_meta,
    validated_layers,
)
from mapdata.store.sql import PgDatabase, redacted
from mapdata.store.throttle import FAILURES_TABLE
from mapdata.store.uploads import UPLOADS_TABLE

GEOMETRY_COLUMN = "geom"
#: Every table a dataset has besides its layers (dropped with them when a dataset is replaced).
SIDE_TABLES = (AUDIT_TABLE, META_TABLE, VERSION_TABLE, TOKENS_TABLE, ACCOUNTS_TABLE, DAYS_TABLE, YEARS_TABLE,
               "report_sightings", "report_photos", "points_entries", "rewards", "reports", FAILURES_TABLE,
               UPLOADS_TABLE, JOBS_TABLE, MIGRATIONS_TABLE)
_SQL_TYPE = {"int": "BIGINT", "float": "DOUBLE PRECISION", "bool": "INTEGER"}


def _sql_type(name: str, col) -> str:
    return _base_type(name, col) + ("" if col.nullable and col.kind != "bool" else " NOT NULL")


def _base_type(name: str, col) -> str:
    """A column's type and check, without its nullability (what a column added in place says first)."""
    check = f' CHECK ("{name}" IN (0, 1))' if col.kind == "bool" else ""
    return _SQL_TYPE.get(col.kind, "TEXT") + check


class PostgisStore(RelationalStore):
    """Every layer and side table in one PostgreSQL + PostGIS database (see the module's text)."""

    GEOMETRY_MARK = "ST_GeomFromWKB(?, 4326)"

    def __init__(self, url: str):
        self.url = str(url)
        super().__init__(PgDatabase(self.url))

    def __repr__(self) -> str:
        return f"PostgisStore({redacted(self.url)!r})"

    # -- reading ------------------------------------------------------------------------------
    def exists(self) -> bool:
        """Whether the database holds a dataset (a server that cannot be reached is a StoreError saying so)."""
        with closing(self.db.connect()) as conn:
            return bool(conn.has_table(META_TABLE))

    def layers(self) -> list[str]:
        with closing(self.db.connect()) as conn:
            stored = self._stored_layers(conn)
        return [name for name in SPECS if name in stored]

    def _column_sql_type(self, column: str, col) -> str:
        return _base_type(column, col)

    def _stored_layers(self, conn) -> set[str]:
        return {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}

    def _version_key(self):
        return None  # the versions table is read on every call: one indexed query

    def _read_versions(self, key) -> dict[str, str]:
        with closing(self.db.connect()) as conn:
            try:
                rows = conn.execute(f"SELECT v.layer, v.version, (SELECT value FROM {META_TABLE} WHERE key = "
                                    f"'dataset_id') FROM {VERSION_TABLE} v").fetchall()
            except Exception as err:  # noqa: BLE001 - no dataset here: say so as the GeoPackage does
                if conn.has_table(VERSION_TABLE):
                    raise
                raise StoreError(f"no data store at {redacted(self.url)}; copy one there with "
                                 "`python -m mapdata.copy SRC DST`") from err
        prefix = rows[0][2] if rows and rows[0][2] else "dataset"
        versions = {name: f"{prefix}:{n}" for name, n, _ in rows}
        versions.setdefault(DATASET, f"{prefix}:0")
        return versions

    def _load(self, layer: str) -> gpd.GeoDataFrame:
        spec = SPECS[layer]
        if layer not in self.layers():
            raise StoreError(f"layer {layer!r} is not in {redacted(self.url)}")
        names = spec.column_names
        columns = ", ".join(f'"{n}"' for n in names)
        with closing(self.db.connect()) as conn:
            have = set(self._columns_of(conn, layer))
            for name in (*names, GEOMETRY_COLUMN):
                if name not in have:
                    raise LayerValidationError(layer, None, "geometry" if name == GEOMETRY_COLUMN else name,
                                               "column is missing")
            rows = conn.execute(f'SELECT {columns}, ST_AsBinary("{GEOMETRY_COLUMN}") FROM "{layer}" '
                                "ORDER BY fid").fetchall()
        frame = pd.DataFrame([r[:-1] for r in rows], columns=names)
        geometry = shapely.from_wkb(np.array([bytes(r[-1]) for r in rows], dtype=object)) if rows else []
        raw = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=4326, index=frame.index), crs=4326)
        gdf = deserialise(raw, layer)
        within = None if layer == "districts" else self._outline()
        return validate(gdf, layer, within=within).reset_index(drop=True)

    def info(self) -> DatasetInfo:
        with closing(self.db.connect()) as conn:
            if not conn.has_table(META_TABLE):
                return DatasetInfo(demo=False, seed=None, built_at=None)
            rows = {k: v for k, v in conn.execute(f"SELECT key, value FROM {META_TABLE}")}
        return info_from_meta(rows)

    def _geometry_column(self, layer: str) -> str:
        return GEOMETRY_COLUMN

    def _geometry_value(self, geom) -> bytes:
        return shapely.to_wkb(geom)

    def _write_connection(self):
        return self.db.connect()

    # -- writing a whole dataset ----------------------------------------------------------------
    def write_dataset(self, layers: Mapping[str, gpd.GeoDataFrame], info: DatasetInfo,
                      carry: Mapping[str, tuple[list[str], list[tuple]]] | None = None) -> None:
        """Validate every layer, then drop the old dataset and write the new one in one transaction."""
        layers = validated_layers(layers)
        with self._transaction() as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            for table in (*SPECS, *SIDE_TABLES):
                conn.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
            for name, gdf in layers.items():
                self._create_layer(conn, name, gdf)
            self._write_side_tables(conn, layers, info, carry)
        self._replaced()

    def _create_layer(self, conn, name: str, gdf: gpd.GeoDataFrame) -> None:
        spec = SPECS[name]
        columns = ", ".join(f'"{n}" {_sql_type(n, c)}' for n, c in spec.columns.items())
        conn.execute(f'CREATE TABLE "{name}" (fid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {columns}, '
                     f'"{GEOMETRY_COLUMN}" geometry(Geometry, 4326) NOT NULL)')
        stored = serialise(gdf, name)
        names = spec.column_names
        kinds = [spec.columns[n].kind for n in names]
        quoted = ", ".join(f'"{n}"' for n in [*names, GEOMETRY_COLUMN])
        wkb = shapely.to_wkb(shapely.set_srid(stored.geometry.values, 4326), hex=True, include_srid=True)
        with conn.raw.cursor() as cur, cur.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
            for values, geom in zip(stored[names].itertuples(index=False, name=None), wkb):
                copy.write_row([_copy_value(v, k) for v, k in zip(values, kinds)] + [geom])
        conn.execute(f'CREATE UNIQUE INDEX "{name}_id" ON "{name}" ("{spec.id_column}")')
        conn.execute(f'CREATE INDEX "{name}_geom" ON "{name}" USING GIST ("{GEOMETRY_COLUMN}")')
        conn.execute(f'ANALYZE "{name}"')

def _copy_value(value, kind: str):
    """A serialised cell as COPY takes it (None for a missing value)."""
    if value is None:
        return None
    if kind == "bool":
        return int(bool(value))
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
