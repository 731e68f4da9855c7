"""Long jobs kept in the store's own database, so every worker and server on it sees their progress and can cancel them.

One table, ``planner_jobs``: per job its ``kind`` (``national_coverage`` …), its ``state`` (queued, running,
done, failed, cancelled), how far it has come (rows done, bytes read of the input's bytes), the question
as JSON, when it was made and last changed, whether someone asked to cancel it, the error of a failed
job and the result of a done one (bytes, e.g. an Excel workbook). At most ``keep`` jobs are kept: making
one drops the oldest beyond that in the same transaction. An input larger than ``max_input_bytes`` is
refused before a job is made.

The process that runs a job writes its progress; any other process answers it from the table. A cancel
is a flag the runner reads between chunks; a queued job is cancelled at once.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime

from mapdata import clock
from mapdata.store.base import StoreError
from mapdata.store.side_tables import SideTables

JOBS_TABLE = "planner_jobs"
STATES = ("queued", "running", "done", "failed", "cancelled")
#: States a job does not leave.
ENDED = frozenset({"done", "failed", "cancelled"})
#: Jobs kept by default (the newest).
DEFAULT_KEEP = 20
#: The largest input a job takes by default: 256 MB (a few million rows of lon, lat, weight).
DEFAULT_MAX_INPUT_BYTES = 256 * 2**20
MAX_ERROR_CHARS = 1000
#: Job ids beyond this are never looked up (the table's ids are 64-bit).
MAX_JOB_ID = 2**62
#: A running job whose progress has not moved for this long lost its worker (killed, restarted): it is failed.
DEFAULT_STALE_AFTER_S = 600.0

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {JOBS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, "
    "state TEXT NOT NULL, rows_done INTEGER NOT NULL, bytes_read INTEGER NOT NULL, bytes_total INTEGER NOT NULL, "
    "question TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, cancel_requested INTEGER NOT NULL, "
    "error TEXT, result BLOB)",
    f"CREATE INDEX IF NOT EXISTS {JOBS_TABLE}_state ON {JOBS_TABLE}(state, id)",
)
_FIELDS = ("id, kind, state, rows_done, bytes_read, bytes_total, question, created_at, updated_at, "
           "cancel_requested, error, result IS NOT NULL AS has_result")


class InputTooLarge(StoreError):
    """An input over the table's ``max_input_bytes``: ``size`` and ``limit`` in bytes."""

    def __init__(self, size: int, limit: int):
        self.size, self.limit = size, limit
        super().__init__(f"the input has {size:,} bytes; a job takes at most {limit:,} bytes")


@dataclass(frozen=True)
class Job:
    """One job as stored (its result is read apart, by :meth:`JobTable.result`)."""

    id: int
    kind: str
    state: str
    rows_done: int
    bytes_read: int
    bytes_total: int
    question: dict
    created_at: str
    updated_at: str
    cancel_requested: bool
    error: str | None
    has_result: bool

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    @property
    def fraction(self) -> float | None:
        """Bytes read of the input's bytes (0 to 1; 1 when done), None for an empty input."""
        if self.state == "done":
            return 1.0
        return min(self.bytes_read / self.bytes_total, 1.0) if self.bytes_total > 0 else None


def _job(row) -> Job:
    return Job(int(row["id"]), row["kind"], row["state"], int(row["rows_done"]), int(row["bytes_read"]),
               int(row["bytes_total"]), json.loads(row["question"]), row["created_at"], row["updated_at"],
               bool(row["cancel_requested"]), row["error"], bool(row["has_result"]))


def _valid_id(job_id) -> bool:
    return isinstance(job_id, int) and not isinstance(job_id, bool) and 0 < job_id <= MAX_JOB_ID


class JobTable(SideTables):
    """The recent long jobs of one database (a GeoPackage file or a PostgreSQL database)."""

    def __init__(self, db, *, keep: int = DEFAULT_KEEP, max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
                 stale_after_s: float = DEFAULT_STALE_AFTER_S):
        super().__init__(db)
        if keep < 1:
            raise StoreError(f"keep must be at least 1, got {keep!r}")
        self.keep = int(keep)
        self.max_input_bytes = int(max_input_bytes)
        self.stale_after_s = float(stale_after_s)

    def _prepared(self, conn) -> bool:
        return conn.has_index(f"{JOBS_TABLE}_state")

    def _prepare(self, conn) -> None:
        for statement in _SCHEMA:
            conn.execute(statement)

    def _write(self, sql: str, params) -> int:
        """One statement in its own write transaction; the rows it changed."""
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                changed = conn.execute(sql, params).rowcount
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return changed

    def create(self, kind: str, question: Mapping, bytes_total: int, *, now: datetime | None = None) -> int:
        """A new queued job; its id. Only the ``keep`` newest jobs stay. Raises :class:`InputTooLarge`."""
        if bytes_total > self.max_input_bytes:
            raise InputTooLarge(int(bytes_total), self.max_input_bytes)
        stamp = (now or clock.now()).isoformat()
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                job_id = int(conn.execute(
                    f"INSERT INTO {JOBS_TABLE} (kind, state, rows_done, bytes_read, bytes_total, question, created_at, "
                    "updated_at, cancel_requested) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
                    [kind, "queued", 0, 0, int(bytes_total), json.dumps(dict(question), ensure_ascii=False), stamp,
                     stamp, 0]).fetchone()[0])
                conn.execute(f"DELETE FROM {JOBS_TABLE} WHERE id NOT IN "
                             f"(SELECT id FROM {JOBS_TABLE} ORDER BY id DESC LIMIT ?)", [self.keep])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return job_id

    def get(self, job_id, *, now: datetime | None = None) -> Job | None:
        """The job, or None (unknown, dropped, not an id). A running job whose progress has not moved for
        ``stale_after_s`` lost its worker: it is failed, saying so."""
        if not _valid_id(job_id):
            return None
        with closing(self._connect()) as conn:
            row = conn.execute(f"SELECT {_FIELDS} FROM {JOBS_TABLE} WHERE id = ?", [job_id]).fetchone()
        job = None if row is None else _job(row)
        if job is not None and job.state == "running":
            now = now or clock.now()
            quiet = (now - datetime.fromisoformat(job.updated_at)).total_seconds()
            if quiet > self.stale_after_s and self._end(job.id, "failed", now, error=(
                    f"the worker running the job stopped: no progress for {quiet / 60:,.0f} minutes; start it again")):
                return self.get(job_id, now=now)
        return job

    def ids(self) -> list[int]:
        """The ids of the jobs kept, oldest first."""
        with closing(self._connect()) as conn:
            return [int(r[0]) for r in conn.execute(f"SELECT id FROM {JOBS_TABLE} ORDER BY id")]

    def result(self, job_id) -> bytes | None:
        """The result of a done job, or None."""
        if not _valid_id(job_id):
            return None
        with closing(self._connect()) as conn:
            row = conn.execute(f"SELECT result FROM {JOBS_TABLE} WHERE id = ? AND state = ?",
                               [job_id, "done"]).fetchone()
        return None if row is None or row[0] is None else bytes(row[0])

    def start(self, job_id: int, *, now: datetime | None = None) -> bool:
        """Queued to running; False when the job is gone, not queued or asked to cancel."""
        return self._write(f"UPDATE {JOBS_TABLE} SET state = ?, updated_at = ? WHERE id = ? AND state = ? "
                           "AND cancel_requested = 0",
                           ["running", (now or clock.now()).isoformat(), job_id, "queued"]) == 1

    def progress(self, job_id: int, rows_done: int, bytes_read: int, *, now: datetime | None = None) -> bool:
        """Record how far a running job has come; whether it should go on (False: gone, or asked to cancel)."""
        self._write(f"UPDATE {JOBS_TABLE} SET rows_done = ?, bytes_read = ?, updated_at = ? WHERE id = ? "
                    "AND state = ?", [int(rows_done), int(bytes_read), (now or clock.now()).isoformat(), job_id,
                                      "running"])
        job = self.get(job_id)
        return job is not None and job.state == "running" and not job.cancel_requested

    def cancel(self, job_id, *, now: datetime | None = None) -> Job | None:
        """Ask a job to stop: a queued one is cancelled at once, a running one when its runner next looks;
        an ended one stays as it is. The job as it is now, or None when unknown."""
        if not _valid_id(job_id):
            return None
        stamp = (now or clock.now()).isoformat()
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(f"UPDATE {JOBS_TABLE} SET cancel_requested = 1, updated_at = ? WHERE id = ? "
                             "AND state IN (?, ?)", [stamp, job_id, "queued", "running"])
                conn.execute(f"UPDATE {JOBS_TABLE} SET state = ? WHERE id = ? AND state = ?",
                             ["cancelled", job_id, "queued"])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return self.get(job_id)

    def _end(self, job_id: int, state: str, now, error=None, result=None) -> bool:
        return self._write(f"UPDATE {JOBS_TABLE} SET state = ?, error = ?, result = ?, updated_at = ? "
                           "WHERE id = ? AND state IN (?, ?)",
                           [state, error, result, (now or clock.now()).isoformat(), job_id, "queued", "running"]) == 1

    def finish(self, job_id: int, result: bytes, rows_done: int, bytes_read: int, *,
               now: datetime | None = None) -> bool:
        """A running job done, with its result and final progress (False when it had ended or is gone)."""
        if not isinstance(result, (bytes, bytearray)):
            raise StoreError("a job's result is bytes")
        return self._write(f"UPDATE {JOBS_TABLE} SET state = ?, result = ?, rows_done = ?, bytes_read = ?, "
                           "updated_at = ? WHERE id = ? AND state = ?",
                           ["done", bytes(result), int(rows_done), int(bytes_read), (now or clock.now()).isoformat(),
                            job_id, "running"]) == 1

    def fail(self, job_id: int, error: str, *, now: datetime | None = None) -> bool:
        """A job that could not finish, with the reason (False when it had ended or is gone)."""
        return self._end(job_id, "failed", now, error=str(error)[:MAX_ERROR_CHARS])

    def cancelled(self, job_id: int, *, now: datetime | None = None) -> bool:
        """A job that stopped because it was asked to (False when it had ended or is gone)."""
        return self._end(job_id, "cancelled", now)
