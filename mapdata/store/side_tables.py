"""Tables of our own beside a GeoPackage's layers, in the same SQLite file: accounts, reports, the calendar.

Each call opens its own connection (SQLite connections do not cross threads), in autocommit mode so a write
says its own transaction. The tables are made the first time a file is opened, in one transaction, and again
when the file at that path is a new one (a rebuilt store has another inode).
"""
from __future__ import annotations

import abc
import sqlite3
from pathlib import Path

from mapdata.store.base import StoreError


class SideTables(abc.ABC):
    """The connection and the one-time set-up that every side table of one file shares."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._ready: int | None = None  # the inode the tables were made in

    @abc.abstractmethod
    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Make the tables (inside the set-up transaction)."""

    def _prepared(self, conn: sqlite3.Connection) -> bool:
        """Whether the file has the tables already (a set-up that writes nothing leaves the file untouched)."""
        return False

    def _connect(self) -> sqlite3.Connection:
        try:
            inode = self.path.stat().st_ino
        except FileNotFoundError:
            raise StoreError(f"no data store at {self.path}") from None
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        if self._ready != inode:
            try:
                if not self._prepared(conn):
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        self._prepare(conn)
                        conn.execute("COMMIT")
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
            except BaseException:
                conn.close()
                raise
            self._ready = inode
        return conn
