"""Failed logins counted in the store's own file, so every worker and every server on it sees the same count.

One table, ``login_failures``: one row per key (an account name, an address) of each login attempt
that did not succeed. An attempt is *reserved* before the password is checked — in one
``BEGIN IMMEDIATE`` transaction that counts each key's rows in its window and, when every key is
under its limit, adds the attempt's rows — and *forgiven* (its rows deleted) when the login
succeeds, so a success costs nothing and parallel guesses cannot overtake the count. Rows older
than the longest window are pruned with each reservation.
"""
from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime

from mapdata import clock
from mapdata.store.side_tables import SideTables

FAILURES_TABLE = "login_failures"
#: Keys longer than this are cut (a key is a label and an account name or an address).
MAX_KEY_CHARS = 200

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {FAILURES_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, attempt TEXT NOT NULL, "
    "key TEXT NOT NULL, at REAL NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {FAILURES_TABLE}_key_at ON {FAILURES_TABLE}(key, at)",
    f"CREATE INDEX IF NOT EXISTS {FAILURES_TABLE}_at ON {FAILURES_TABLE}(at)",
    f"CREATE INDEX IF NOT EXISTS {FAILURES_TABLE}_attempt ON {FAILURES_TABLE}(attempt)",
)


@dataclass(frozen=True)
class Limit:
    """At most ``count`` failures of one key within ``window_s`` seconds."""

    key: str
    count: int
    window_s: int


class ThrottleTable(SideTables):
    """Failed-login counts of one SQLite (GeoPackage) file."""

    def _prepared(self, conn: sqlite3.Connection) -> bool:
        return conn.has_index(f"{FAILURES_TABLE}_attempt")

    def _prepare(self, conn: sqlite3.Connection) -> None:
        for statement in _SCHEMA:
            conn.execute(statement)

    def reserve(self, limits: Iterable[Limit], now: datetime | None = None) -> str | None:
        """Count an attempt against every limit's key: its id, or None when a key is at its limit already
        (then nothing is counted)."""
        limits = [Limit(str(lim.key)[:MAX_KEY_CHARS], int(lim.count), int(lim.window_s)) for lim in limits]
        at = (now or clock.now()).timestamp()
        attempt = secrets.token_hex(8)
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if limits:
                    conn.execute(f"DELETE FROM {FAILURES_TABLE} WHERE at <= ?",
                                 [at - max(lim.window_s for lim in limits)])
                for lim in limits:
                    seen = conn.execute(f"SELECT count(*) FROM {FAILURES_TABLE} WHERE key = ? AND at > ?",
                                        [lim.key, at - lim.window_s]).fetchone()[0]
                    if seen >= lim.count:
                        conn.execute("COMMIT")  # the pruning stands; the attempt is not counted
                        return None
                conn.executemany(f"INSERT INTO {FAILURES_TABLE} (attempt, key, at) VALUES (?,?,?)",
                                 [(attempt, lim.key, at) for lim in limits])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return attempt

    def forgive(self, attempt: str) -> None:
        """The attempt succeeded: it no longer counts."""
        with closing(self._connect()) as conn:
            conn.execute(f"DELETE FROM {FAILURES_TABLE} WHERE attempt = ?", [str(attempt)])

    def failures(self, key: str, window_s: int, now: datetime | None = None) -> int:
        """How many failures ``key`` has within the last ``window_s`` seconds."""
        at = (now or clock.now()).timestamp()
        with closing(self._connect()) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {FAILURES_TABLE} WHERE key = ? AND at > ?",
                                    [str(key)[:MAX_KEY_CHARS], at - int(window_s)]).fetchone()[0])
