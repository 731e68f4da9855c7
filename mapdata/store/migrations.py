"""Versioned schema migrations: a store made by an older release is brought to this release's schema in place.

Each change of the stored schema is one numbered :class:`Migration`; a store records the ones it has in
``schema_migrations`` (id, name, when). A store written by this release (a build, a copy) records them all; an
older store gains the pending ones, in order, in one transaction with the rows they record, on either backend:
a failed migration leaves the store as it was. A store that records a migration this release does not know
(a newer release made it) is refused rather than half understood.

Stores made before migrations were recorded have no ``schema_migrations``: each migration looks at what is there
and adds only what is missing, so such a store is brought up whatever release made it, and recorded.

Opening the app migrates (``app.create_services``), as ``python -m mapdata.migrate STORE`` does by hand; many
workers starting at once are safe: the pending list is read first without the write lock (a store that is up to
date is not written) and again under it.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass

from mapdata import clock
from mapdata.schemas import SPECS
from mapdata.store.accounts import ACCOUNTS_TABLE, TOKENS_TABLE
from mapdata.store.base import StoreError
from mapdata.store.calendar import DAYS_TABLE, YEARS_TABLE
from mapdata.store.jobs import JOBS_TABLE
from mapdata.store.throttle import FAILURES_TABLE
from mapdata.store.uploads import UPLOADS_TABLE
from mapdata.store.versions import DATASET, META_SCHEMA, META_TABLE, VERSION_TABLE, bump_versions

MIGRATIONS_TABLE = "schema_migrations"
MIGRATIONS_SCHEMA = (f"CREATE TABLE {MIGRATIONS_TABLE} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                     "applied_at TEXT NOT NULL)",)

#: The layers' columns as the first release wrote them; every column added since is added by a migration
#: (a test holds the schemas to this: a new column without a migration fails it).
FIRST_RELEASE_COLUMNS = {
    "districts": ("adcode", "name", "name_en", "population", "urban_share", "area_km2"),
    "stations": ("id", "name", "adcode", "district", "street", "address", "operator", "phone", "amenities",
                 "opening_hours", "status", "status_note", "status_until", "capacity", "version", "updated_at",
                 "updated_by"),
    "compounds": ("id", "name", "osm_id", "adcode", "district"),
    "gates": ("id", "compound_id", "name", "rider_access", "e_bike", "opening_hours", "version", "updated_at",
              "updated_by"),
    "buildings": ("id", "compound_id", "number", "label", "osm_id"),
    "entry_routes": ("id", "compound_id", "gate_id", "building_id", "length_m", "source"),
    "wayfinding_signs": ("id", "compound_id", "kind", "gate_id", "building_id", "text", "condition", "version",
                         "updated_at", "updated_by"),
    "demand": ("id", "weight", "kind", "adcode"),
    "roads": ("id", "osm_id", "name", "highway", "oneway"),
    "places": ("id", "osm_id", "name", "kind"),
}


@dataclass(frozen=True)
class Migration:
    """One change of the schema, made inside the caller's transaction: ``columns`` (``layer.column``, as this
    release's schema declares them) added to layers, and ``apply(store, conn)`` for anything else, answering
    what it added (table names; empty when the store had them already)."""

    id: int
    name: str
    summary: str
    columns: tuple[str, ...] = ()
    apply: Callable[[object, object], list[str]] | None = None

    @property
    def label(self) -> str:
        return f"{self.id:04d}_{self.name}"

    def run(self, store, conn) -> list[str]:
        made = self.apply(store, conn) if self.apply is not None else []
        return made + _add_columns(store, conn, self.columns)


@dataclass(frozen=True)
class Applied:
    """A migration a store has (``applied_at`` ISO text) or lacks (None); ``changes`` what applying it added."""

    migration: Migration
    applied_at: str | None
    changes: tuple[str, ...] = ()


def _versions_tables(store, conn) -> list[str]:
    added = []
    if not conn.has_table(META_TABLE):
        conn.execute(META_SCHEMA[0])
        conn.execute(f"INSERT INTO {META_TABLE} VALUES ('dataset_id', ?)", [uuid.uuid4().hex[:12]])
        added.append(META_TABLE)
    if not conn.has_table(VERSION_TABLE):
        stored = store._stored_layers(conn)
        conn.execute(META_SCHEMA[1])
        conn.executemany(f"INSERT INTO {VERSION_TABLE} VALUES (?, 1)",
                         [(DATASET,), *((n,) for n in SPECS if n in stored)])
        added.append(VERSION_TABLE)
    return added


def _defaults() -> dict:
    """What a column added in place holds in the rows already there (by name, then by kind)."""
    return {"version": "1", "updated_at": f"'{clock.now().isoformat()}'", "updated_by": "'upgrade'", "bool": "0"}


def _add_columns(store, conn, columns: tuple[str, ...]) -> list[str]:
    """Add each ``layer.column`` the store lacks (the rows there hold its default); bump the layers changed."""
    stored = store._stored_layers(conn)
    defaults = _defaults()
    added = []
    for layer in dict.fromkeys(c.split(".")[0] for c in columns):
        if layer not in stored:
            continue
        have = set(store._columns_of(conn, layer))
        for column in (c.split(".", 1)[1] for c in columns if c.split(".")[0] == layer):
            if column in have:
                continue
            col = SPECS[layer].columns[column]
            default = defaults.get(column, defaults.get(col.kind))
            if not col.nullable and col.kind != "amenities" and default is None:  # NULL: no amenity
                raise StoreError(f"layer {layer!r} lacks the column {column!r}, which has no default; "
                                 "rebuild the store or copy it with a newer release")
            clause = "" if default is None or col.nullable else f" NOT NULL DEFAULT {default}"
            conn.execute(f'ALTER TABLE "{layer}" ADD COLUMN "{column}" {store._column_sql_type(column, col)}{clause}')
            added.append(f"{layer}.{column}")
        if any(a.startswith(f"{layer}.") for a in added):
            bump_versions(conn, layer)
    return added


def _side_tables(store, conn) -> list[str]:
    before = {t for t in _SIDE_TABLE_NAMES if conn.has_table(t)}
    for table in store.side_tables:
        table.prepare(conn)
    return [t for t in _SIDE_TABLE_NAMES if t not in before and conn.has_table(t)]


_SIDE_TABLE_NAMES = (ACCOUNTS_TABLE, TOKENS_TABLE, YEARS_TABLE, DAYS_TABLE, "reports", "report_sightings",
                     "report_photos", "points_entries", "rewards", FAILURES_TABLE, UPLOADS_TABLE, JOBS_TABLE)

#: Every migration, in order. Add one at the end for each change of the stored schema; never renumber.
MIGRATIONS = (
    Migration(1, "versions", "the dataset's id and each layer's version (dataset_meta, layer_versions)",
              apply=_versions_tables),
    Migration(2, "station_staff", "stations: who confirmed them and when, retirement, amenities out of order",
              columns=("stations.confirmed_at", "stations.confirmed_by", "stations.retired_at",
                       "stations.amenities_out")),
    Migration(3, "entry_route_edits", "entry routes can be blocked, and are versioned and stamped",
              columns=("entry_routes.blocked", "entry_routes.version", "entry_routes.updated_at",
                       "entry_routes.updated_by")),
    Migration(4, "side_tables", "accounts and tokens, the calendar, reports, points, rewards, the login "
              "throttle, uploads and jobs, with their indexes", apply=_side_tables),
)
HEAD = MIGRATIONS[-1].id


def _recorded(conn) -> dict[int, str]:
    if not conn.has_table(MIGRATIONS_TABLE):
        return {}
    return {int(r[0]): r[1] for r in conn.execute(f"SELECT id, applied_at FROM {MIGRATIONS_TABLE}")}


def _refuse_newer(store, recorded: dict[int, str]) -> None:
    unknown = sorted(set(recorded) - {m.id for m in MIGRATIONS})
    if unknown:
        raise StoreError(f"the store at {store.where} records schema migration {unknown[-1]}, which this release "
                         f"does not know (it knows 1 to {HEAD}): a newer release made it; run that release")


def status(store) -> list[Applied]:
    """Every migration this release knows, with when the store had it (None: pending). Reads only."""
    with closing(store.db.connect()) as conn:
        recorded = _recorded(conn)
    _refuse_newer(store, recorded)
    return [Applied(m, recorded.get(m.id)) for m in MIGRATIONS]


def pending(store) -> list[Migration]:
    return [a.migration for a in status(store) if a.applied_at is None]


def migrate(store) -> list[Applied]:
    """Apply the pending migrations in order, in one transaction with their records; answer what was applied."""
    if not pending(store):
        return []
    applied = []
    with store._transaction() as conn:
        recorded = _recorded(conn)  # again, under the write lock: another worker may have migrated meanwhile
        _refuse_newer(store, recorded)
        if not conn.has_table(MIGRATIONS_TABLE):
            conn.execute(MIGRATIONS_SCHEMA[0])
        at = clock.now().isoformat()
        for m in MIGRATIONS:
            if m.id in recorded:
                continue
            changes = m.run(store, conn)
            conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?)", [m.id, m.name, at])
            applied.append(Applied(m, at, tuple(changes)))
        _check_columns(store, conn)
    if any(a.changes for a in applied):
        store._replaced()
    return applied


def record_all(conn) -> None:
    """A store written whole by this release has every migration (inside the caller's transaction)."""
    conn.execute(MIGRATIONS_SCHEMA[0])
    at = clock.now().isoformat()
    conn.executemany(f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?)", [(m.id, m.name, at) for m in MIGRATIONS])


def _check_columns(store, conn) -> None:
    """After the migrations, every layer stored has every column of this release's schema."""
    stored = store._stored_layers(conn)
    for name, spec in SPECS.items():
        if name in stored:
            missing = [c for c in spec.columns if c not in set(store._columns_of(conn, name))]
            if missing:
                raise StoreError(f"layer {name!r} lacks {', '.join(map(repr, missing))} after every migration; "
                                 "rebuild the store or copy it with a newer release")
