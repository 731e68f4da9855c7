"""A national coverage job: a demand file streamed in chunks through :func:`national_coverage`, its progress and
end written to the store's job table (:mod:`mapdata.store.jobs`) so any worker can answer and cancel it.

The runner records the rows done and bytes read after each chunk and reads the cancel flag then: a
cancel stops the job between chunks, as ``cancelled``. A bad cell ends it as ``failed`` with the row and
field (:class:`layers.planning.national.NationalInputError`). The result's bytes come from ``write``, a
function of the :class:`~layers.planning.coverage.CoverageResult` the caller gives (the Excel writer of
:mod:`exports`, which the domain does not import).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from layers.common.errors import QuestionError
from layers.planning.coverage import DEFAULT_H3_RES
from layers.planning.national import DEFAULT_CHUNK_ROWS, DemandFile, NationalInputError, national_coverage
from mapdata.store.jobs import Job, JobTable

KIND = "national_coverage"


def jobs_of(store) -> JobTable:
    """The store's job table (every worker and server of the store sees the same jobs)."""
    return store.jobs


def national_question(radius_m: float, amenities=(), at: datetime | None = None,
                      h3_res: int = DEFAULT_H3_RES) -> dict:
    """The question a job keeps (JSON): the reach, the amenities, the moment (ISO, or None for any time)."""
    return {"radius_m": float(radius_m), "amenities": list(amenities), "at": None if at is None else at.isoformat(),
            "h3_res": int(h3_res)}


def input_error_text(exc: NationalInputError) -> str:
    """A refused file's reason without the server's file name: ``row 12, field lat: …``."""
    where = [] if exc.row is None else [f"row {exc.row:,}"]
    if exc.field is not None:
        where.append(f"field {exc.field}")
    return f"{', '.join(where)}: {exc.problem}" if where else exc.problem


class _Cancelled(Exception):
    """The job was asked to stop (or dropped from the table) between chunks."""


def run_national_job(jobs: JobTable, job_id: int, path: str | Path, *, stations, districts=None, hours=None,
                     write: Callable[[object], bytes], chunk_rows: int = DEFAULT_CHUNK_ROWS,
                     after_chunk: Callable[[Job | None], None] | None = None) -> str:
    """Run the queued job ``job_id`` on the CSV at ``path``; its final state (``done``, ``failed``, ``cancelled``).

    Parameters
    ----------
    jobs : JobTable
        Where the job is kept; its question (:func:`national_question`) says radius, amenities, at and h3_res.
    stations, districts, hours
        As for :func:`national_coverage`.
    write : callable
        The result's bytes from the coverage result (e.g. an Excel workbook).
    chunk_rows : int
        Rows read at a time (progress is recorded and the cancel flag read after each chunk).
    after_chunk : callable, optional
        Called with the job as stored after each chunk's progress is recorded (for a progress display).
    """
    job = jobs.get(job_id)
    if job is None or not jobs.start(job_id):
        return "cancelled" if job is None else (jobs.get(job_id) or job).state
    q: Mapping = job.question
    try:
        source = DemandFile(path, chunk_rows)

        def progress(rows: int) -> None:
            go_on = jobs.progress(job_id, rows, source.bytes_read)
            if after_chunk is not None:
                after_chunk(jobs.get(job_id))
                now = jobs.get(job_id)
                go_on = now is not None and now.state == "running" and not now.cancel_requested
            if not go_on:
                raise _Cancelled

        at = None if q.get("at") is None else datetime.fromisoformat(q["at"])
        result = national_coverage(source, stations, q["radius_m"], districts=districts, hours=hours,
                                   amenities=tuple(q.get("amenities", ())), at=at,
                                   h3_res=int(q.get("h3_res", DEFAULT_H3_RES)), progress=progress)
        body = write(result)
        jobs.finish(job_id, body, source.rows_read, source.total_bytes)
    except _Cancelled:
        jobs.cancelled(job_id)
    except NationalInputError as exc:
        jobs.fail(job_id, input_error_text(exc))
    except QuestionError as exc:
        jobs.fail(job_id, f"field {exc.field}: {exc.message}")
    except ValueError as exc:
        jobs.fail(job_id, str(exc))
    except BaseException as exc:
        jobs.fail(job_id, f"the job stopped: {type(exc).__name__}")
        raise
    ended = jobs.get(job_id)
    return ended.state if ended is not None else "cancelled"
