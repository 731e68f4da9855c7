"""Versioned schema migrations (issue 12): a store made by an older release is brought to this release's schema in
place, on both backends, all or nothing; a store from a newer release is refused; ``python -m mapdata.migrate``."""
from __future__ import annotations

from dataclasses import replace

import pytest

from mapdata import migrate as migrate_cli
from mapdata.schemas import SPECS
from mapdata.store import Change, StoreError, migrations, open_store
from mapdata.store.sql import is_postgres_url
from tests.helpers import raw_sql

ADDED = [c for m in migrations.MIGRATIONS for c in m.columns]
SIDE_TABLES = ["staff_accounts", "staff_tokens", "login_failures", "planner_uploads", "planner_jobs", "reports",
               "report_sightings", "report_photos", "points_entries", "rewards"]


def tables(db) -> set[str]:
    if is_postgres_url(db):
        return {r[0] for r in raw_sql(db, "SELECT table_name FROM information_schema.tables "
                                          "WHERE table_schema = current_schema()")}
    return {r[0] for r in raw_sql(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(db, table: str) -> list[str]:
    if is_postgres_url(db):
        return [r[0] for r in raw_sql(db, "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                          "current_schema() AND table_name = ? ORDER BY ordinal_position", [table])]
    return [r[1] for r in raw_sql(db, f'PRAGMA table_info("{table}")')]


def make_it_old(db) -> None:
    """The store as the first release left it: no migrations recorded, none of their columns or tables (a
    GeoPackage also without the versions tables, which PostGIS stores always had)."""
    raw_sql(db, "DROP TABLE schema_migrations")
    for table in SIDE_TABLES[::-1]:  # rows referring to others first
        raw_sql(db, f'DROP TABLE IF EXISTS "{table}"')
    if not is_postgres_url(db):
        raw_sql(db, "DROP TABLE layer_versions")
        raw_sql(db, "DROP TABLE dataset_meta")
    for column in ADDED:
        layer, name = column.split(".")
        raw_sql(db, f'ALTER TABLE "{layer}" DROP COLUMN "{name}"')


def test_every_column_of_the_schemas_is_the_first_releases_or_added_by_a_migration():
    for layer, spec in SPECS.items():
        declared = set(migrations.FIRST_RELEASE_COLUMNS.get(layer, ())) | {
            c.split(".")[1] for c in ADDED if c.startswith(f"{layer}.")}
        assert set(spec.columns) == declared, f"{layer}: a column without a migration, or one that is gone"
    assert [m.id for m in migrations.MIGRATIONS] == list(range(1, migrations.HEAD + 1))


def test_a_store_this_release_writes_has_every_migration(store, capsys):
    assert all(s.applied_at for s in migrations.status(store))
    assert migrations.pending(store) == []
    assert migrate_cli.main([str(getattr(store, "url", None) or store.path), "--status"]) == 0
    out = capsys.readouterr().out
    assert f"{migrations.HEAD} of {migrations.HEAD} schema migrations (up to date)" in out
    assert "0003_entry_route_edits" in out and "pending" not in out


def test_the_oldest_store_is_migrated_in_place_to_what_a_build_writes(writable_db, demo_db, capsys):
    before = open_store(writable_db).read("stations")
    make_it_old(writable_db)
    old = open_store(writable_db)
    assert [s.applied_at for s in migrations.status(old)] == [None] * migrations.HEAD

    assert migrate_cli.main([str(writable_db), "--status"]) == 0  # reads only
    assert "0 of 4 schema migrations" in capsys.readouterr().out
    assert "stations" in tables(writable_db) and "confirmed_at" not in columns(writable_db, "stations")

    assert migrate_cli.main([str(writable_db)]) == 0
    out = capsys.readouterr().out
    assert "applied 0002_station_staff: stations.confirmed_at, stations.confirmed_by, stations.retired_at, " \
           "stations.amenities_out" in out
    assert "applied 0004_side_tables: staff_accounts, staff_tokens" in out
    for layer in SPECS:  # the same columns as the store a build writes (those added come last)
        assert sorted(columns(writable_db, layer)) == sorted(columns(demo_db, layer)), layer
    assert tables(writable_db) == tables(demo_db)

    store = open_store(writable_db)
    stations = store.read("stations")
    assert stations[list(before.columns.difference(["confirmed_at", "confirmed_by", "retired_at",
                                                   "amenities_out"]))].equals(
        before[list(before.columns.difference(["confirmed_at", "confirmed_by", "retired_at", "amenities_out"]))])
    assert stations["retired_at"].isna().all() and (stations["amenities_out"] == frozenset()).all()
    routes = store.read("entry_routes")
    assert (~routes["blocked"]).all() and (routes["version"] == 1).all() and (routes["updated_by"] == "upgrade").all()
    # the migrated store takes edits with the version guard and keeps accounts
    row = stations.iloc[0]
    store.apply_changes("stations", [Change(row["id"], {"status_note": "迁移后"}, int(row["version"]))], user="t")
    assert store.read("stations").set_index("id").loc[row["id"], "status_note"] == "迁移后"
    store.accounts.add(name="after-migration", role="district", password_hash="x", by="test", adcode=int(row["adcode"]))
    assert store.accounts.get("after-migration").role == "district"
    assert migrations.pending(store) == []
    assert migrate_cli.main([str(writable_db)]) == 0
    assert "is up to date (schema migration 4)" in capsys.readouterr().out


def test_a_store_partly_migrated_gains_only_what_it_lacks(writable_db):
    raw_sql(writable_db, "DELETE FROM schema_migrations WHERE id = 3")
    for name in ("blocked", "version", "updated_at", "updated_by"):  # as the release before route edits left it
        raw_sql(writable_db, f'ALTER TABLE entry_routes DROP COLUMN "{name}"')
    store = open_store(writable_db)
    version = store.version("entry_routes")
    stations_version = store.version("stations")
    applied = store.upgrade()
    assert [(a.migration.id, a.changes) for a in applied] == [
        (3, ("entry_routes.blocked", "entry_routes.version", "entry_routes.updated_at", "entry_routes.updated_by"))]
    assert store.version("entry_routes") != version  # every worker reads the layer again
    assert store.version("stations") == stations_version
    assert store.upgrade() == []


def test_a_failed_migration_leaves_the_store_as_it_was(writable_db, monkeypatch):
    make_it_old(writable_db)

    def refuse(store, conn):
        raise StoreError("the fifth migration refused")

    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, migrations.Migration(
        5, "refuses", "a migration that fails after the others ran", apply=refuse)))
    with pytest.raises(StoreError, match="fifth"):
        open_store(writable_db).upgrade()
    assert "schema_migrations" not in tables(writable_db)
    assert "confirmed_at" not in columns(writable_db, "stations")
    assert "staff_accounts" not in tables(writable_db)


def test_a_store_from_a_newer_release_is_refused(writable_db, capsys, monkeypatch):
    raw_sql(writable_db, "INSERT INTO schema_migrations VALUES (?, ?, ?)", [99, "from_the_future", "2027-01-01"])
    store = open_store(writable_db)
    with pytest.raises(StoreError, match="records schema migration 99, which this release does not know"):
        store.upgrade()
    assert migrate_cli.main([str(writable_db), "--status"]) == 2
    assert "a newer release made it" in capsys.readouterr().err
    import app as app_module
    from mapdata.config import Settings

    with pytest.raises(StoreError, match="99"):  # the app does not start on it
        app_module.create_services(Settings(db_path=writable_db, secret_key="t", tile_source="none"))


def test_a_column_no_migration_adds_stops_the_migration(writable_db, monkeypatch):
    raw_sql(writable_db, "DELETE FROM schema_migrations WHERE id = 2")
    raw_sql(writable_db, 'ALTER TABLE stations DROP COLUMN "confirmed_by"')
    original = migrations.MIGRATIONS
    monkeypatch.setattr(migrations, "MIGRATIONS", tuple(
        replace(m, columns=tuple(c for c in m.columns if c != "stations.confirmed_by")) for m in original))
    with pytest.raises(StoreError, match="'stations' lacks 'confirmed_by' after every migration"):
        open_store(writable_db).upgrade()
    assert "confirmed_by" not in columns(writable_db, "stations")
    assert [r[0] for r in raw_sql(writable_db, "SELECT id FROM schema_migrations ORDER BY id")] == [1, 3, 4]


def test_a_copy_of_a_store_with_pending_migrations_is_refused(writable_db, tmp_path):
    from mapdata.copy import copy_store

    raw_sql(writable_db, "DELETE FROM schema_migrations WHERE id = 4")
    with pytest.raises(StoreError, match="lacks schema migration 0004_side_tables; run `python -m mapdata.migrate"):
        copy_store(open_store(writable_db), open_store(tmp_path / "copy.gpkg"))
    assert not (tmp_path / "copy.gpkg").exists()
