"""Bring a store made by an older release to this release's schema: ``python -m mapdata.migrate [STORE] [--status]``.

STORE is a GeoPackage path or a ``postgresql://`` URL (default: ``NUANXIN_DB``, else ``var/nuanxin.gpkg``). The
pending migrations (:mod:`mapdata.store.migrations`) are applied in order in one transaction: a failure leaves
the store as it was. ``--status`` only reads and lists every migration with when the store had it. The app
migrates on start as well; this is for doing it ahead of a deploy, or for seeing where a store stands.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from mapdata.config import Settings
from mapdata.store import StoreError, migrations, open_store
from mapdata.store.sql import is_postgres_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mapdata.migrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("store", nargs="?", help="a .gpkg path or a postgresql:// URL (default: NUANXIN_DB)")
    parser.add_argument("--status", action="store_true", help="list the migrations and whether the store has "
                                                              "them; change nothing")
    args = parser.parse_args(argv)
    try:
        text = args.store or str(Settings.from_env().db_path)
        store = open_store(text if is_postgres_url(text) else Path(text))
        if not store.exists():
            raise StoreError(f"no data store at {store.where}; build one with `make data`")
        if args.status:
            states = migrations.status(store)
            have = sum(s.applied_at is not None for s in states)
            print(f"{store.where}: {have} of {len(states)} schema migrations"
                  f"{' (up to date)' if have == len(states) else ''}")
            for s in states:
                print(f"  {s.migration.label:<24} {s.applied_at or 'pending':<34} {s.migration.summary}")
            return 0
        applied = store.upgrade()
    except (StoreError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as err:  # the transaction was rolled back
        print(f"error: {store.where} refused a migration ({err}); nothing was changed", file=sys.stderr)
        return 2
    if not applied:
        print(f"{store.where} is up to date (schema migration {migrations.HEAD})")
    for a in applied:
        print(f"applied {a.migration.label}: {', '.join(a.changes) or 'nothing to add (the store had it)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
