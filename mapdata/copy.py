"""Copy a whole store between backends: ``python -m mapdata.copy SRC DST``.

SRC and DST are each a GeoPackage path or a ``postgresql://`` URL (a PostGIS store). Every layer (validated on
the way: a copy never carries a row the app would refuse), the dataset's description and versions, the audit
log, the accounts and their tokens, the calendar, the reports with their sightings and photos, the points
ledger, the rewards, the login throttle, the planners' uploads and jobs are carried with their keys, so the copy
answers exactly as the source did; a copy back is the same store again.

The destination is written in one transaction (a PostGIS store) or as a new file swapped in (a GeoPackage):
a failed copy leaves it as it was. An existing dataset at DST is replaced only with ``--replace``.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

from mapdata.store import StoreError, migrations, open_store
from mapdata.store.accounts import ACCOUNTS_TABLE, AUDIT_TABLE, TOKENS_TABLE
from mapdata.store.calendar import DAYS_TABLE, YEARS_TABLE
from mapdata.store.jobs import JOBS_TABLE
from mapdata.store.relational import META_TABLE, VERSION_TABLE, RelationalStore
from mapdata.store.sql import is_postgres_url
from mapdata.store.throttle import FAILURES_TABLE
from mapdata.store.uploads import UPLOADS_TABLE

#: The side tables a copy carries, parents before the rows that refer to them.
CARRIED = (META_TABLE, VERSION_TABLE, AUDIT_TABLE, ACCOUNTS_TABLE, TOKENS_TABLE, YEARS_TABLE, DAYS_TABLE,
           "reports", "report_sightings", "report_photos", "points_entries", "rewards", FAILURES_TABLE,
           UPLOADS_TABLE, JOBS_TABLE)


@dataclass(frozen=True)
class Copied:
    """What a copy carried: rows per layer and per side table."""

    layers: dict[str, int]
    tables: dict[str, int]


def copy_store(src: RelationalStore, dst: RelationalStore) -> Copied:
    """Write the whole of ``src`` into ``dst`` (replacing what ``dst`` held), all or nothing."""
    if not src.exists():
        raise StoreError(f"no data store at {_name(src)}")
    behind = migrations.pending(src)
    if behind:
        raise StoreError(f"{_name(src)} was made by an older release and lacks schema migration "
                         f"{', '.join(m.label for m in behind)}; run `python -m mapdata.migrate {_name(src)}` first")
    layers = {name: src.read(name) for name in src.layers()}
    carry = {}
    for table in CARRIED:
        if src.has_table(table):
            carry[table] = src.table_rows(table)
    dst.write_dataset(layers, src.info(), carry=carry)
    return Copied({n: len(g) for n, g in layers.items()}, {t: len(rows) for t, (_, rows) in carry.items()})


def _name(store) -> str:
    return store.where


def _open(text: str) -> RelationalStore:
    return open_store(text if is_postgres_url(text) else Path(text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mapdata.copy", description=__doc__.split("\n\n")[0])
    parser.add_argument("src", help="the store to copy: a .gpkg path or a postgresql:// URL")
    parser.add_argument("dst", help="where to copy it: a .gpkg path or a postgresql:// URL")
    parser.add_argument("--replace", action="store_true", help="replace a dataset already at DST")
    args = parser.parse_args(argv)
    try:
        if args.src == args.dst:
            raise StoreError("SRC and DST are the same store")
        src, dst = _open(args.src), _open(args.dst)
        if dst.exists() and not args.replace:
            raise StoreError(f"{_name(dst)} holds a dataset already; pass --replace to replace it")
        copied = copy_store(src, dst)
    except (StoreError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as err:  # the destination refused a row: its transaction was rolled back
        print(f"error: {_name(dst)} refused a row of the copy ({err}); nothing was written", file=sys.stderr)
        return 2
    layers = ", ".join(f"{n} {c:,}" for n, c in copied.layers.items())
    tables = ", ".join(f"{n} {c:,}" for n, c in copied.tables.items() if c)
    print(f"copied {_name(src)} -> {_name(dst)}\n  layers: {layers}\n  tables: {tables}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
