"""Riders' reports, their photos and sightings, the points ledger and the districts' rewards, in the store's own file.

The tables are made on first use, so a store built by an older release gains them in place. Every
write is one ``BEGIN IMMEDIATE`` transaction: a report with its photo, sighting and audit row, a
state change with its audit row, an award or a redemption with the balance it was checked against.
Points entries are append-only: triggers refuse any UPDATE or DELETE, so a correction is a new entry.

Times are stored as ISO 8601 text in Asia/Shanghai with a fixed ``+08:00`` offset (China keeps no
summer time), so comparing the text compares the moments and ``substr(at, 1, 7)`` is the local month.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from mapdata.store.accounts import AUDIT_INSERT, AUDIT_TABLE
from mapdata.store.base import StoreError
from mapdata.store.side_tables import SideTables

#: The audit log's ``layer`` for reports (intake, merges, state changes, confirmations, points).
REPORTS_LAYER = "reports"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS reports (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, amenity TEXT, "
    "station_id TEXT, compound_id TEXT, lon REAL NOT NULL, lat REAL NOT NULL, adcode INTEGER, street TEXT, "
    "place TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'new', "
    "riders INTEGER NOT NULL DEFAULT 1, received_at TEXT NOT NULL, acknowledge_by TEXT NOT NULL, "
    "resolve_by TEXT NOT NULL, acknowledged_at TEXT, closed_at TEXT, updated_at TEXT NOT NULL, "
    "verified_at TEXT, verified_by TEXT, duplicate_of INTEGER, reason TEXT, public_answer TEXT NOT NULL DEFAULT '', "
    "status_set TEXT, merge_key TEXT NOT NULL, channel TEXT NOT NULL DEFAULT 'web', version INTEGER NOT NULL DEFAULT 1)",
    "CREATE INDEX IF NOT EXISTS reports_area ON reports (adcode, received_at)",
    # the queue's counts per state and of overdue reports read this index alone (half the queue's time at 6,000)
    "CREATE INDEX IF NOT EXISTS reports_area_state ON reports (adcode, state, resolve_by, acknowledge_by)",
    "CREATE INDEX IF NOT EXISTS reports_merge ON reports (merge_key, received_at)",
    "CREATE INDEX IF NOT EXISTS reports_received ON reports (received_at)",
    "CREATE TABLE IF NOT EXISTS report_sightings (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "report_id INTEGER NOT NULL REFERENCES reports(id), at TEXT NOT NULL, code_hash TEXT, addr_hash TEXT, "
    "note TEXT NOT NULL DEFAULT '', photo_id INTEGER)",
    "CREATE INDEX IF NOT EXISTS sightings_report ON report_sightings (report_id)",
    "CREATE INDEX IF NOT EXISTS sightings_code ON report_sightings (code_hash, at)",
    "CREATE INDEX IF NOT EXISTS sightings_addr ON report_sightings (addr_hash, at)",
    "CREATE TABLE IF NOT EXISTS report_photos (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "report_id INTEGER NOT NULL REFERENCES reports(id), image BLOB NOT NULL, media_type TEXT NOT NULL, "
    "width INTEGER NOT NULL, height INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS photos_report ON report_photos (report_id)",
    "CREATE TABLE IF NOT EXISTS points_entries (id INTEGER PRIMARY KEY AUTOINCREMENT, code_hash TEXT NOT NULL, "
    "at TEXT NOT NULL, entry TEXT NOT NULL CHECK (entry IN ('award', 'redemption', 'correction')), "
    'points INTEGER NOT NULL, report_id INTEGER, reward_id INTEGER, station_id TEXT, "by" TEXT NOT NULL, '
    "note TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS points_code ON points_entries (code_hash, id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS points_award_once ON points_entries (code_hash, report_id) "
    "WHERE entry = 'award'",
    "CREATE TABLE IF NOT EXISTS rewards (id INTEGER PRIMARY KEY AUTOINCREMENT, adcode INTEGER NOT NULL, "
    "name TEXT NOT NULL, points INTEGER NOT NULL CHECK (points > 0), active INTEGER NOT NULL DEFAULT 1, "
    "version INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS rewards_district ON rewards (adcode)",
)
#: The points ledger is append-only: the engine refuses an update or a delete (a correction is a new entry).
_APPEND_ONLY = {
    "sqlite": (
        "CREATE TRIGGER IF NOT EXISTS points_no_update BEFORE UPDATE ON points_entries "
        "BEGIN SELECT RAISE(ABORT, 'points entries are append-only: add a correction'); END",
        "CREATE TRIGGER IF NOT EXISTS points_no_delete BEFORE DELETE ON points_entries "
        "BEGIN SELECT RAISE(ABORT, 'points entries are append-only: add a correction'); END"),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION points_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'points entries are append-only: add a correction'; END $$",
        "CREATE OR REPLACE TRIGGER points_no_change BEFORE UPDATE OR DELETE ON points_entries "
        "FOR EACH ROW EXECUTE FUNCTION points_append_only()"),
}
#: Columns of a report a staff action may set (the rest are fixed at intake or kept by the store).
STAFF_FIELDS = ("state", "acknowledged_at", "closed_at", "verified_at", "verified_by", "duplicate_of", "reason",
                "public_answer", "status_set")
#: A report's columns, in the order of the table.
REPORT_COLUMNS = ("id", "kind", "amenity", "station_id", "compound_id", "lon", "lat", "adcode", "street", "place",
                  "note", "state", "riders", "received_at", "acknowledge_by", "resolve_by", "acknowledged_at",
                  "closed_at", "updated_at", "verified_at", "verified_by", "duplicate_of", "reason", "public_answer",
                  "status_set", "merge_key", "channel", "version")


class RateLimited(StoreError):
    """Too many reports from one rider code or one address in a window; ``retry_after`` in seconds."""

    def __init__(self, field: str, limit: int, window_s: int, retry_after: int):
        self.field, self.limit, self.window_s, self.retry_after = field, limit, window_s, retry_after
        super().__init__(f"at most {limit} reports per {window_s // 60} minutes from one {field}; "
                         f"try again in {retry_after} s")


class ReportConflict(StoreError):
    """The report changed since the version the staff member loaded."""

    def __init__(self, report_id: int, expected: int, actual: int):
        self.report_id, self.expected, self.actual = report_id, expected, actual
        super().__init__(f"report {report_id} is at version {actual}, not {expected}: someone changed it since")


class PointsRefused(StoreError):
    """A points entry that would take the balance below zero (``balance`` is what there is)."""

    def __init__(self, balance: int, asked: int):
        self.balance, self.asked = balance, asked
        super().__init__(f"the balance is {balance} points; {asked} cannot be taken")


@dataclass(frozen=True)
class Limit:
    """At most ``count`` sightings per ``window_s`` seconds from one ``field`` (rider_code or address)."""

    field: str
    count: int
    window_s: int


@dataclass(frozen=True)
class Intake:
    """What one rider sends, checked by the domain: the report's values, the sighting's, the photo."""

    report: Mapping[str, Any]        # kind, amenity, station_id, compound_id, lon, lat, adcode, street, place, note,
    #                                  received_at, acknowledge_by, resolve_by, merge_key, channel
    code_hash: str | None
    addr_hash: str | None
    photo: tuple[bytes, str, int, int] | None   # image, media type, width, height
    merge_since: str                 # an open report of the same key received at or after this is merged into
    near: tuple[float, float, float, float] | None = None   # a point's report: merge only within this lon/lat box


@dataclass(frozen=True)
class IntakeResult:
    report: dict
    merged: bool
    counted: bool     # whether this sighting raised the riders count (a rider counted once per report)


def _report(row: sqlite3.Row | None) -> dict | None:
    return None if row is None else dict(row)


def _window_start(at: str, seconds: int) -> str:
    from datetime import datetime, timedelta
    return (datetime.fromisoformat(at) - timedelta(seconds=seconds)).isoformat(timespec="seconds")


class ReportTable(SideTables):
    """Reports, sightings, photos, points and rewards of one SQLite (GeoPackage) file."""

    def _prepare(self, conn) -> None:
        for statement in (*_SCHEMA, *_APPEND_ONLY[conn.dialect]):
            conn.execute(statement)

    # -- reading ------------------------------------------------------------------------------
    def get(self, report_id: int) -> dict | None:
        with closing(self._connect()) as conn:
            return _report(conn.execute("SELECT * FROM reports WHERE id = ?", [int(report_id)]).fetchone())

    def many(self, ids: Sequence[int]) -> list[dict]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute(f"SELECT * FROM reports WHERE id IN ({marks}) ORDER BY id",
                                                  [int(i) for i in ids])]

    def select(self, where: str = "TRUE", params: Sequence = (), order: str = "id", limit: int | None = None,
               offset: int = 0, columns: str = "*") -> list[dict]:
        """Reports matching a WHERE clause the domain composed from fixed fragments (values are parameters)."""
        query = f"SELECT {columns} FROM reports WHERE {where} ORDER BY {order}"
        args = list(params)
        if limit is not None:
            query += " LIMIT ? OFFSET ?"
            args += [int(limit), int(offset)]
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute(query, args)]

    def count(self, where: str = "TRUE", params: Sequence = (), group: str | None = None) -> dict | int:
        with closing(self._connect()) as conn:
            if group is None:
                return int(conn.execute(f"SELECT count(*) FROM reports WHERE {where}", list(params)).fetchone()[0])
            rows = conn.execute(f"SELECT {group} AS g, count(*) AS n FROM reports WHERE {where} GROUP BY {group}",
                                list(params))
            return {r["g"]: int(r["n"]) for r in rows}

    def sightings(self, report_id: int) -> list[dict]:
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute("SELECT id, at, CASE WHEN code_hash IS NULL THEN 0 ELSE 1 END AS with_code, "
                                                  "note, photo_id "
                                                  "FROM report_sightings WHERE report_id = ? ORDER BY id",
                                                  [int(report_id)])]

    def codes_of(self, report_id: int, before: str | None = None) -> list[str]:
        """The distinct rider codes (hashed) that reported it, first reporter first (before a moment)."""
        query, args = "SELECT code_hash, min(id) AS first FROM report_sightings WHERE report_id = ? AND " \
                      "code_hash IS NOT NULL", [int(report_id)]
        if before is not None:
            query += " AND at <= ?"
            args.append(before)
        with closing(self._connect()) as conn:
            return [r["code_hash"] for r in conn.execute(query + " GROUP BY code_hash ORDER BY first", args)]

    def reports_of_code(self, code_hash: str, limit: int = 50) -> list[dict]:
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute(
                "SELECT r.* FROM reports r WHERE r.id IN (SELECT report_id FROM report_sightings WHERE code_hash = ?) "
                "ORDER BY r.id DESC LIMIT ?", [code_hash, int(limit)])]

    def photo(self, photo_id: int) -> dict | None:
        with closing(self._connect()) as conn:
            return _report(conn.execute("SELECT * FROM report_photos WHERE id = ?", [int(photo_id)]).fetchone())

    def photos_of(self, report_id: int) -> list[dict]:
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute("SELECT id, media_type, width, height FROM report_photos "
                                                  "WHERE report_id = ? ORDER BY id", [int(report_id)])]

    def events(self, report_id: int) -> list[dict]:
        """The report's audit rows, oldest first."""
        with closing(self._connect()) as conn:
            rows = conn.execute(f'SELECT seq, at, "user", action, before, after FROM {AUDIT_TABLE} '
                                "WHERE layer = ? AND row_id = ? ORDER BY seq", [REPORTS_LAYER, str(int(report_id))])
            return [{**dict(r), "before": json.loads(r["before"]) if r["before"] else None,
                     "after": json.loads(r["after"]) if r["after"] else None} for r in rows]

    # -- intake: rate limits, merge, photo, sighting and audit in one transaction ------------------
    def take(self, intake: Intake, limits: Iterable[Limit], *, by: str) -> IntakeResult:
        rep = dict(intake.report)
        at = rep["received_at"]
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for limit in limits:
                    value = intake.code_hash if limit.field == "rider_code" else intake.addr_hash
                    if value is None:
                        continue
                    column = "code_hash" if limit.field == "rider_code" else "addr_hash"
                    since = _window_start(at, limit.window_s)
                    rows = conn.execute(f"SELECT at FROM report_sightings WHERE {column} = ? AND at > ? "
                                        "ORDER BY at LIMIT ?", [value, since, limit.count]).fetchall()
                    if len(rows) >= limit.count:
                        from datetime import datetime
                        oldest = datetime.fromisoformat(rows[0]["at"])
                        wait = limit.window_s - int((datetime.fromisoformat(at) - oldest).total_seconds())
                        raise RateLimited(limit.field, limit.count, limit.window_s, max(1, wait))
                query = "SELECT * FROM reports WHERE merge_key = ? AND received_at >= ? AND state IN " \
                        "('new', 'acknowledged', 'in_progress')"
                args = [rep["merge_key"], intake.merge_since]
                if intake.near is not None:
                    query += " AND lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?"
                    args += list(intake.near)
                target = conn.execute(query + " ORDER BY id LIMIT 1", args).fetchone()
                merged = target is not None
                counted = True
                if merged:
                    report_id = int(target["id"])
                    seen = conn.execute(
                        "SELECT 1 FROM report_sightings WHERE report_id = ? AND ((CAST(? AS TEXT) IS NOT NULL AND "
                        "code_hash = ?) OR (CAST(? AS TEXT) IS NULL AND code_hash IS NULL AND addr_hash = ?)) LIMIT 1",
                        [report_id, intake.code_hash, intake.code_hash, intake.code_hash, intake.addr_hash]).fetchone()
                    counted = seen is None
                    if counted:
                        conn.execute("UPDATE reports SET riders = riders + 1, updated_at = ?, version = version + 1 "
                                     "WHERE id = ?", [at, report_id])
                else:
                    names = [c for c in REPORT_COLUMNS if c in rep]
                    report_id = int(conn.execute(f"INSERT INTO reports ({', '.join(names)}, updated_at) VALUES "
                                                 f"({', '.join('?' * len(names))}, ?) RETURNING id",
                                                 [rep[c] for c in names] + [at]).fetchone()[0])
                photo_id = None
                if intake.photo is not None:
                    image, media_type, width, height = intake.photo
                    photo_id = int(conn.execute("INSERT INTO report_photos (report_id, image, media_type, width, "
                                                "height) VALUES (?,?,?,?,?) RETURNING id",
                                                [report_id, image, media_type, width, height]).fetchone()[0])
                conn.execute("INSERT INTO report_sightings (report_id, at, code_hash, addr_hash, note, photo_id) "
                             "VALUES (?,?,?,?,?,?)", [report_id, at, intake.code_hash, intake.addr_hash,
                                                      rep.get("note") or "", photo_id])
                after = dict(conn.execute("SELECT * FROM reports WHERE id = ?", [report_id]).fetchone())
                _audit(conn, at, by, report_id, "report_merge" if merged else "report_new", None,
                       {"kind": after["kind"], "riders": after["riders"], "photo": photo_id is not None,
                        "with_code": intake.code_hash is not None, "counted": counted})
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return IntakeResult(after, merged, counted)

    # -- staff actions -----------------------------------------------------------------------------
    def change(self, report_id: int, values: Mapping[str, Any], *, expected_version: int | None, by: str, at: str,
               action: str, public: Mapping[str, Any] | None = None, awards: Sequence[tuple[str, int]] = (),
               merge_into: int | None = None) -> tuple[dict, list[dict]]:
        """Set a report's staff fields (and award points, or fold its riders into ``merge_into``) in one
        transaction with its audit row; return the report and the award entries written."""
        unknown = [k for k in values if k not in STAFF_FIELDS]
        if unknown:
            raise StoreError(f"report field {unknown[0]!r} is not set by staff")
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT * FROM reports WHERE id = ?", [int(report_id)]).fetchone()
                if row is None:
                    raise StoreError(f"no report {report_id}")
                if expected_version is not None and int(row["version"]) != int(expected_version):
                    raise ReportConflict(int(report_id), int(expected_version), int(row["version"]))
                before = dict(row)
                stored = {k: json.dumps(v, ensure_ascii=False) if k == "status_set" and v is not None else v
                          for k, v in values.items()}
                sets = [f"{k} = ?" for k in stored] + ["updated_at = ?", "version = version + 1"]
                conn.execute(f"UPDATE reports SET {', '.join(sets)} WHERE id = ?", [*stored.values(), at,
                                                                                     int(report_id)])
                written = []
                for code_hash, points in awards:
                    # nothing is added when this code was paid for this report already (points_award_once)
                    paid = conn.execute('INSERT INTO points_entries (code_hash, at, entry, points, report_id, "by", '
                                        "note) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id",
                                        [code_hash, at, "award", int(points), int(report_id), by, ""]).fetchone()
                    if paid is not None:
                        written.append({"id": int(paid[0]), "points": int(points)})
                if merge_into is not None:
                    conn.execute("UPDATE reports SET riders = riders + ?, updated_at = ?, version = version + 1 "
                                 "WHERE id = ?", [int(before["riders"]), at, int(merge_into)])
                    _audit(conn, at, by, int(merge_into), "report_duplicate_in", None,
                           {"duplicate": int(report_id), "riders": int(before["riders"])})
                after = dict(conn.execute("SELECT * FROM reports WHERE id = ?", [int(report_id)]).fetchone())
                shown = {k: after[k] for k in values}
                _audit(conn, at, by, int(report_id), action, {k: before[k] for k in values},
                       {**shown, **(public or {}), **({"points": written} if written else {})})
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return after, written

    # -- points ---------------------------------------------------------------------------------
    def balance(self, code_hash: str) -> int:
        with closing(self._connect()) as conn:
            return int(conn.execute("SELECT coalesce(sum(points), 0) FROM points_entries WHERE code_hash = ?",
                                    [code_hash]).fetchone()[0])

    def entries(self, code_hash: str, limit: int = 200) -> list[dict]:
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute("SELECT * FROM points_entries WHERE code_hash = ? ORDER BY id DESC "
                                                  "LIMIT ?", [code_hash, int(limit)])]

    def take_points(self, code_hash: str, entry: str, points: int, *, by: str, at: str, note: str = "",
                    reward_id: int | None = None, station_id: str | None = None) -> tuple[dict, int]:
        """Append a redemption or correction, refused when the balance would fall below zero; the entry and the
        balance after it."""
        if entry not in ("redemption", "correction"):
            raise StoreError("only redemptions and corrections are added by hand; awards come with a confirmation")
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                balance = int(conn.execute("SELECT coalesce(sum(points), 0) FROM points_entries WHERE code_hash = ?",
                                           [code_hash]).fetchone()[0])
                if balance + int(points) < 0:
                    raise PointsRefused(balance, -int(points))
                if reward_id is not None:
                    reward = conn.execute("SELECT * FROM rewards WHERE id = ? AND active = 1", [reward_id]).fetchone()
                    if reward is None or int(reward["points"]) != -int(points):
                        raise StoreError(f"reward {reward_id} changed or was withdrawn; reload the catalogue")
                row = dict(conn.execute("INSERT INTO points_entries (code_hash, at, entry, points, reward_id, "
                                        'station_id, "by", note) VALUES (?,?,?,?,?,?,?,?) RETURNING *',
                                        [code_hash, at, entry, int(points), reward_id, station_id, by,
                                         note]).fetchone())
                conn.execute(AUDIT_INSERT,
                             [at, by, "points", code_hash[:12], f"points_{entry}", json.dumps({"balance": balance}),
                              json.dumps({"entry": row["id"], "points": int(points), "reward": reward_id,
                                          "station": station_id, "note": note}, ensure_ascii=False)])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return row, balance + int(points)

    # -- rewards ----------------------------------------------------------------------------------
    def rewards(self, adcode: int | None = None, active_only: bool = True) -> list[dict]:
        query, args = "SELECT * FROM rewards WHERE TRUE", []
        if adcode is not None:
            query += " AND adcode = ?"
            args.append(int(adcode))
        if active_only:
            query += " AND active = 1"
        with closing(self._connect()) as conn:
            return [dict(r) for r in conn.execute(query + " ORDER BY adcode, points, name", args)]

    def reward(self, reward_id: int) -> dict | None:
        with closing(self._connect()) as conn:
            return _report(conn.execute("SELECT * FROM rewards WHERE id = ?", [int(reward_id)]).fetchone())

    def save_reward(self, values: Mapping[str, Any], *, reward_id: int | None, expected_version: int | None, by: str,
                    at: str) -> dict:
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if reward_id is None:
                    reward_id = int(conn.execute(
                        "INSERT INTO rewards (adcode, name, points, active, created_at, updated_at) "
                        "VALUES (?,?,?,?,?,?) RETURNING id", [int(values["adcode"]), values["name"],
                                                              int(values["points"]), int(values.get("active", 1)),
                                                              at, at]).fetchone()[0])
                    before = None
                else:
                    row = conn.execute("SELECT * FROM rewards WHERE id = ?", [int(reward_id)]).fetchone()
                    if row is None:
                        raise StoreError(f"no reward {reward_id}")
                    if expected_version is not None and int(row["version"]) != int(expected_version):
                        raise ReportConflict(int(reward_id), int(expected_version), int(row["version"]))
                    before = dict(row)
                    fields = {k: values[k] for k in ("name", "points", "active") if k in values}
                    sets = [f"{k} = ?" for k in fields] + ["updated_at = ?", "version = version + 1"]
                    conn.execute(f"UPDATE rewards SET {', '.join(sets)} WHERE id = ?",
                                 [*fields.values(), at, int(reward_id)])
                after = dict(conn.execute("SELECT * FROM rewards WHERE id = ?", [reward_id]).fetchone())
                conn.execute(AUDIT_INSERT,
                             [at, by, "rewards", str(reward_id), "reward_add" if before is None else "reward_change",
                              None if before is None else json.dumps(before, ensure_ascii=False),
                              json.dumps(after, ensure_ascii=False)])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return after


def _audit(conn: sqlite3.Connection, at: str, by: str, report_id: int, action: str, before, after) -> None:
    conn.execute(AUDIT_INSERT,
                 [at, by, REPORTS_LAYER, str(report_id), action,
                  None if before is None else json.dumps(before, ensure_ascii=False),
                  None if after is None else json.dumps(after, ensure_ascii=False)])
