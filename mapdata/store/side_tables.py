"""Tables of our own beside a store's layers, in the same database: accounts, reports, the calendar.

Each call takes its own connection (SQLite connections do not cross threads; PostgreSQL's are kept per thread,
:mod:`mapdata.store.sql`), in autocommit mode so a write says its own transaction. The tables are made the
first time a database is opened, in one transaction, and again when the database at that address is a new one
(a rebuilt GeoPackage has another inode).
"""
from __future__ import annotations

import abc
import os
import sqlite3

from mapdata.store.sql import Database, SqliteDatabase


class SideTables(abc.ABC):
    """The connection and the one-time set-up that every side table of one database shares."""

    def __init__(self, db: Database | str | os.PathLike):
        self.db = db if isinstance(db, Database) else SqliteDatabase(db)
        self._ready = None  # the database's identity when the tables were made

    @property
    def path(self):
        """The GeoPackage file (SQLite stores only)."""
        return getattr(self.db, "path", None)

    @abc.abstractmethod
    def _prepare(self, conn) -> None:
        """Make the tables (inside the set-up transaction)."""

    def _prepared(self, conn) -> bool:
        """Whether the database has the tables already (a set-up that writes nothing leaves the file untouched)."""
        return False

    def prepare(self, conn) -> None:
        """Make the tables on ``conn``, inside the caller's transaction (a whole store being written)."""
        self._prepare(conn)

    def forget(self) -> None:
        """The database was replaced: make the tables again if they are missing."""
        self._ready = None

    def _connect(self):
        identity = self.db.identity()
        conn = self.db.connect()
        if self._ready != identity:
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
            self._ready = identity
        return conn


__all__ = ["SideTables", "sqlite3"]
