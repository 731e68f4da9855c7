"""Staff accounts and API tokens in the store's own file: rows of two tables, hashes only, every change audited.

The tables are made on first use, so a store built by an older release (or by the demo build, which
ships no account) gains them in place. Passwords and tokens arrive here already hashed; nothing in
this module ever sees a secret in plain text.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mapdata import clock
from mapdata.store.base import StoreError
from mapdata.store.side_tables import SideTables

ACCOUNTS_TABLE = "staff_accounts"
TOKENS_TABLE = "staff_tokens"
#: The store's audit log (made by the build; rows, accounts and logins all land there).
AUDIT_TABLE = "audit_log"
#: One entry of the audit log (parameters: at, user, layer, row_id, action, before, after).
AUDIT_INSERT = (f'INSERT INTO {AUDIT_TABLE} (at, "user", layer, row_id, action, before, after) '
                "VALUES (?,?,?,?,?,?,?)")
#: The audit log's ``layer`` for account events (logins, failed logins, account changes).
ACCOUNTS_LAYER = "accounts"

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {ACCOUNTS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, "
    "role TEXT NOT NULL, stations TEXT NOT NULL DEFAULT '[]', street TEXT, adcode INTEGER, "
    "password_hash TEXT NOT NULL, session_epoch INTEGER NOT NULL DEFAULT 1, disabled INTEGER NOT NULL DEFAULT 0, "
    "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {TOKENS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    f"account_id INTEGER NOT NULL REFERENCES {ACCOUNTS_TABLE}(id), token_hash TEXT NOT NULL UNIQUE, "
    "label TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)",
)
#: What an account change may set (the id, name and creation time are fixed).
EDITABLE = ("role", "stations", "street", "adcode", "password_hash", "disabled")


class AccountExists(StoreError):
    """An account of that name is already there."""


class UnknownAccount(StoreError):
    """No account of that name or id."""


@dataclass(frozen=True)
class AccountRecord:
    """One account as stored: who, which role over which area, and the hash of the password."""

    id: int
    name: str
    role: str
    stations: tuple[str, ...]
    street: str | None
    adcode: int | None
    password_hash: str
    session_epoch: int
    disabled: bool
    created_at: str
    updated_at: str

    def public(self) -> dict:
        """What the audit log and the account list show: everything but the hash."""
        return {"name": self.name, "role": self.role, "stations": list(self.stations), "street": self.street,
                "adcode": self.adcode, "disabled": self.disabled}


def _record(row: sqlite3.Row) -> AccountRecord:
    return AccountRecord(id=row["id"], name=row["name"], role=row["role"], stations=tuple(json.loads(row["stations"])),
                         street=row["street"], adcode=row["adcode"], password_hash=row["password_hash"],
                         session_epoch=row["session_epoch"], disabled=bool(row["disabled"]),
                         created_at=row["created_at"], updated_at=row["updated_at"])


class AccountTable(SideTables):
    """Accounts, tokens and account events of one SQLite (GeoPackage) file."""

    def _prepare(self, conn: sqlite3.Connection) -> None:
        for statement in _SCHEMA:
            conn.execute(statement)

    # -- reading ------------------------------------------------------------------------------
    def list(self) -> list[AccountRecord]:
        with closing(self._connect()) as conn:
            return [_record(r) for r in conn.execute(f"SELECT * FROM {ACCOUNTS_TABLE} ORDER BY name")]

    def count(self) -> int:
        with closing(self._connect()) as conn:
            return int(conn.execute(f"SELECT count(*) FROM {ACCOUNTS_TABLE}").fetchone()[0])

    def get(self, name: str) -> AccountRecord | None:
        with closing(self._connect()) as conn:
            row = conn.execute(f"SELECT * FROM {ACCOUNTS_TABLE} WHERE name = ?", [name]).fetchone()
        return None if row is None else _record(row)

    def by_id(self, account_id: int) -> AccountRecord | None:
        with closing(self._connect()) as conn:
            row = conn.execute(f"SELECT * FROM {ACCOUNTS_TABLE} WHERE id = ?", [int(account_id)]).fetchone()
        return None if row is None else _record(row)

    def by_token_hash(self, token_hash: str) -> AccountRecord | None:
        """The account an unrevoked token belongs to."""
        with closing(self._connect()) as conn:
            row = conn.execute(f"SELECT a.* FROM {TOKENS_TABLE} t JOIN {ACCOUNTS_TABLE} a ON a.id = t.account_id "
                               "WHERE t.token_hash = ? AND t.revoked = 0", [token_hash]).fetchone()
        return None if row is None else _record(row)

    def tokens(self, name: str) -> list[dict]:
        with closing(self._connect()) as conn:
            rows = conn.execute(f"SELECT t.id, t.label, t.created_at, t.revoked FROM {TOKENS_TABLE} t JOIN "
                                f"{ACCOUNTS_TABLE} a ON a.id = t.account_id WHERE a.name = ? ORDER BY t.id", [name])
            return [dict(r) for r in rows]

    def events(self, name: str | None = None) -> list[dict]:
        """Account events from the audit log, oldest first (of one account, or all)."""
        query, params = f'SELECT seq, at, "user", row_id, action, before, after FROM {AUDIT_TABLE} WHERE layer = ?', \
            [ACCOUNTS_LAYER]
        if name is not None:
            query += " AND row_id = ?"
            params.append(name)
        with closing(self._connect()) as conn:
            rows = conn.execute(query + " ORDER BY seq", params).fetchall()
        return [{**dict(r), "before": json.loads(r["before"]) if r["before"] else None,
                 "after": json.loads(r["after"]) if r["after"] else None} for r in rows]

    # -- writing: each change and its audit row in one transaction --------------------------------
    def add(self, *, name: str, role: str, password_hash: str, by: str, stations=(), street: str | None = None,
            adcode: int | None = None, now: datetime | None = None) -> AccountRecord:
        stamp = (now or clock.now()).isoformat()
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(f"INSERT INTO {ACCOUNTS_TABLE} (name, role, stations, street, adcode, password_hash, "
                             "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                             [name, role, json.dumps(list(stations)), street, adcode, password_hash, stamp, stamp])
                record = _record(conn.execute(f"SELECT * FROM {ACCOUNTS_TABLE} WHERE name = ?", [name]).fetchone())
                _audit(conn, stamp, by, name, "account_add", None, record.public())
                conn.execute("COMMIT")
            except sqlite3.IntegrityError:
                conn.execute("ROLLBACK")
                raise AccountExists(f"an account named {name!r} already exists") from None
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return record

    def update(self, name: str, values: Mapping[str, Any], *, by: str, action: str = "account_change",
               end_sessions: bool = False, now: datetime | None = None) -> AccountRecord:
        """Change an account; ``end_sessions`` (a new password, a disabled account) ends every session it has."""
        unknown = [k for k in values if k not in EDITABLE]
        if unknown:
            raise StoreError(f"account field {unknown[0]!r} cannot be changed; fields: {', '.join(EDITABLE)}")
        stamp = (now or clock.now()).isoformat()
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(f"SELECT * FROM {ACCOUNTS_TABLE} WHERE name = ?", [name]).fetchone()
                if row is None:
                    raise UnknownAccount(f"no account named {name!r}")
                before = _record(row)
                stored = {k: json.dumps(list(v)) if k == "stations" else int(v) if k == "disabled" else v
                          for k, v in values.items()}
                sets = [f'"{k}" = ?' for k in stored] + ["updated_at = ?"]
                params = [*stored.values(), stamp]
                if end_sessions:
                    sets.append("session_epoch = session_epoch + 1")
                conn.execute(f"UPDATE {ACCOUNTS_TABLE} SET {', '.join(sets)} WHERE id = ?", [*params, before.id])
                after = _record(conn.execute(f"SELECT * FROM {ACCOUNTS_TABLE} WHERE id = ?", [before.id]).fetchone())
                if end_sessions and values.get("disabled"):
                    conn.execute(f"UPDATE {TOKENS_TABLE} SET revoked = 1 WHERE account_id = ?", [before.id])
                detail_after = after.public()
                if "password_hash" in values:
                    detail_after["password"] = "changed"
                _audit(conn, stamp, by, name, action, before.public(), detail_after)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return after

    def add_token(self, name: str, token_hash: str, label: str, *, by: str, now: datetime | None = None) -> int:
        stamp = (now or clock.now()).isoformat()
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(f"SELECT id FROM {ACCOUNTS_TABLE} WHERE name = ?", [name]).fetchone()
                if row is None:
                    raise UnknownAccount(f"no account named {name!r}")
                token_id = int(conn.execute(f"INSERT INTO {TOKENS_TABLE} (account_id, token_hash, label, created_at) "
                                            "VALUES (?,?,?,?) RETURNING id", [row["id"], token_hash, label,
                                                                              stamp]).fetchone()[0])
                _audit(conn, stamp, by, name, "token_add", None, {"token": token_id, "label": label})
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return token_id

    def record(self, name: str, action: str, detail: Mapping[str, Any], *, by: str | None = None,
               now: datetime | None = None) -> None:
        """An account event without a change: a login, a failed login, a logout."""
        stamp = (now or clock.now()).isoformat()
        with closing(self._connect()) as conn:
            _audit(conn, stamp, by or name, name, action, None, dict(detail))


def _audit(conn: sqlite3.Connection, stamp: str, by: str, name: str, action: str, before, after) -> None:
    conn.execute(AUDIT_INSERT,
                 [stamp, by, ACCOUNTS_LAYER, name, action,
                  None if before is None else json.dumps(before, ensure_ascii=False),
                  None if after is None else json.dumps(after, ensure_ascii=False)])
