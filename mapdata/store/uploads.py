"""Planners' uploads kept in the store's own file under their token, so any worker or server on it can answer them.

One table, ``planner_uploads``: per upload its ``kind`` (demand, candidates …), the random token,
its named arrays as one ``.npz`` blob (binary, no pickles), its summary as JSON and when it was
made. At most ``keep`` uploads of a kind are kept; adding one drops the oldest beyond that, in the
same transaction.
"""
from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from mapdata import clock
from mapdata.store.base import StoreError
from mapdata.store.side_tables import SideTables

UPLOADS_TABLE = "planner_uploads"
#: Tokens longer than this are never looked up.
MAX_TOKEN_CHARS = 64

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {UPLOADS_TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
    "token TEXT NOT NULL UNIQUE, data BLOB NOT NULL, summary TEXT NOT NULL, created_at TEXT NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {UPLOADS_TABLE}_kind ON {UPLOADS_TABLE}(kind, seq)",
)


@dataclass(frozen=True)
class StoredUpload:
    """One upload as stored: its arrays by name, its summary and when it was made (ISO text)."""

    kind: str
    token: str
    arrays: dict[str, np.ndarray]
    summary: dict
    created_at: str


def pack(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Named arrays as the bytes of one ``.npz`` file (numbers, datetimes and fixed-width text; no objects)."""
    arrays = {name: np.asarray(a) for name, a in arrays.items()}
    for name, a in arrays.items():
        if a.dtype.hasobject:
            raise ValueError(f"array {name!r} holds Python objects; an upload keeps numbers, times and text only")
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def unpack(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


class UploadTable(SideTables):
    """The planners' recent uploads of one SQLite (GeoPackage) file."""

    def _prepared(self, conn: sqlite3.Connection) -> bool:
        return conn.has_index(f"{UPLOADS_TABLE}_kind")

    def _prepare(self, conn: sqlite3.Connection) -> None:
        for statement in _SCHEMA:
            conn.execute(statement)

    def put(self, kind: str, token: str, arrays: Mapping[str, np.ndarray], summary: Mapping, *, keep: int,
            now: datetime | None = None) -> None:
        """Keep an upload under ``token``; only the ``keep`` newest of its kind stay."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            raise StoreError(f"an upload token has 1 to {MAX_TOKEN_CHARS} characters")
        if keep < 1:
            raise StoreError(f"keep must be at least 1, got {keep!r}")
        blob = pack(arrays)
        stamp = (now or clock.now()).isoformat()
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(f"INSERT INTO {UPLOADS_TABLE} (kind, token, data, summary, created_at) VALUES (?,?,?,?,?)",
                             [kind, token, blob, json.dumps(dict(summary), ensure_ascii=False), stamp])
                conn.execute(f"DELETE FROM {UPLOADS_TABLE} WHERE kind = ? AND seq NOT IN "
                             f"(SELECT seq FROM {UPLOADS_TABLE} WHERE kind = ? ORDER BY seq DESC LIMIT ?)",
                             [kind, kind, int(keep)])
                conn.execute("COMMIT")
            except sqlite3.IntegrityError:
                conn.execute("ROLLBACK")
                raise StoreError("an upload with this token is kept already") from None
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def get(self, kind: str, token) -> StoredUpload | None:
        """The upload of ``kind`` under ``token``, or None (unknown, dropped, not a token)."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            return None
        with closing(self._connect()) as conn:
            row = conn.execute(f"SELECT data, summary, created_at FROM {UPLOADS_TABLE} WHERE kind = ? AND token = ?",
                               [kind, token]).fetchone()
        if row is None:
            return None
        return StoredUpload(kind, token, unpack(row["data"]), json.loads(row["summary"]), row["created_at"])

    def has(self, kind: str, token) -> bool:
        """Whether an upload of ``kind`` is kept under ``token`` (without reading it)."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            return False
        with closing(self._connect()) as conn:
            return conn.execute(f"SELECT 1 FROM {UPLOADS_TABLE} WHERE kind = ? AND token = ?",
                                [kind, token]).fetchone() is not None

    def tokens(self, kind: str) -> list[str]:
        """The tokens of ``kind`` kept, oldest first."""
        with closing(self._connect()) as conn:
            return [r[0] for r in conn.execute(f"SELECT token FROM {UPLOADS_TABLE} WHERE kind = ? ORDER BY seq",
                                               [kind])]
