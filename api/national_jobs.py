"""Routes of the national coverage job: post a large demand CSV or (Geo)Parquet file, follow the job's progress
from any worker, cancel it, download its tables. The work runs in a background thread of the worker that took the
file; the job's row in the store (:mod:`mapdata.store.jobs`) is what every worker answers from."""
from __future__ import annotations

import os
import re
import tempfile
import threading
from typing import Literal

from flask import request
from pydantic import BaseModel, Field

from api.errors import ApiError, from_question, too_large
from api.models import _AMENITIES, _AT, _RADIUS, AMENITIES_PATTERN, AT_PATTERN, QueryFloat, QueryInt, _Query, _text
from api.params import parse_amenity_keys, parse_path, parse_query, parse_time, services
from api.reports import XLSX, _download
from api.spec import ApiBlueprint
from api.stations import PREFIX, answer
from exports.table_xlsx import coverage_table_xlsx
from layers.common.errors import QuestionError
from layers.planning.coverage import DEFAULT_H3_RES
from layers.planning.national import DEFAULT_CHUNK_ROWS
from layers.planning.national_job import KIND, jobs_of, national_question, run_national_job
from layers.planning.questions import H3_RES_RANGE, CoverageQuestion
from mapdata.store.jobs import MAX_JOB_ID, STATES, InputTooLarge, Job

JOBS = f"{PREFIX}/planner/national-jobs"
CSV_TYPES = ("text/csv",)
#: Parquet's media type (IANA, 2024) and the one tools sent before it; GeoParquet is Parquet with its metadata.
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet")
PARQUET_MAGIC = b"PAR1"
#: The body's first line, as the document says it: the header ``lon,lat`` or ``lon,lat,weight``.
HEADER_PATTERN = r"^\ufeff?lon,lat(,weight)?\r?\n"
_BLOCK = 1 << 20
#: National jobs computing at once in one worker; the others wait as ``queued``.
_RUNNING = threading.Semaphore(1)

bp = ApiBlueprint("api_national_jobs", __name__)


class NationalJobQuery(_Query):
    """The question of a national coverage job (straight-line distance; stations of the store)."""

    radius_m: QueryFloat = Field(1000.0, **_RADIUS)
    amenities: str = Field("", description=_AMENITIES, **_text(AMENITIES_PATTERN))
    at: str = Field("any", description=_AT, **_text(AT_PATTERN))
    h3_res: QueryInt = Field(DEFAULT_H3_RES, ge=H3_RES_RANGE[0], le=H3_RES_RANGE[1],
                         description="H3 resolution of the hexagon table")
    chunk_rows: QueryInt = Field(DEFAULT_CHUNK_ROWS, ge=1, le=DEFAULT_CHUNK_ROWS,
                                 description="rows read at a time: progress is recorded and a cancel is heard after "
                                             "each chunk")


class NationalJobPath(BaseModel):
    job_id: int = Field(ge=1, le=MAX_JOB_ID, description="the job's id, as the start answered it")


class NationalJobQuestion(BaseModel):
    radius_m: float
    amenities: list[str]
    at: str | None = Field(description="ISO 8601; null: every station whatever its hours")
    h3_res: int


class NationalJobResponse(BaseModel):
    """A national coverage job as every worker sees it."""

    id: int
    kind: str
    state: Literal[STATES]  # type: ignore[valid-type]
    rows_done: int = Field(description="demand rows read and covered so far")
    bytes_read: int
    bytes_total: int = Field(description="the uploaded file's size")
    fraction: float | None = Field(description="bytes read of the file's bytes, 0 to 1 (1 when done); null for an "
                                               "empty file")
    question: NationalJobQuestion
    created_at: str
    updated_at: str
    cancel_requested: bool
    error: str | None = Field(description="why a failed job stopped: the row and field of the first bad cell")
    status_url: str
    cancel_url: str
    result_url: str | None = Field(description="the tables (Excel) of a done job")


def _job_body(job: Job) -> dict:
    base = f"{JOBS}/{job.id}"
    return {"id": job.id, "kind": job.kind, "state": job.state, "rows_done": job.rows_done,
            "bytes_read": job.bytes_read, "bytes_total": job.bytes_total, "fraction": job.fraction,
            "question": job.question, "created_at": job.created_at, "updated_at": job.updated_at,
            "cancel_requested": job.cancel_requested, "error": job.error, "status_url": base,
            "cancel_url": f"{base}/cancel", "result_url": f"{base}/tables.xlsx" if job.state == "done" else None}


def _unknown(job_id: int) -> ApiError:
    return ApiError(404, "not_found", f"no job {job_id} on the server: it is unknown, or older than the last "
                    f"{jobs_of(services().store).keep} jobs", "job_id")


def _job(job_id) -> Job:
    path = parse_path(NationalJobPath, job_id=job_id)
    job = jobs_of(services().store).get(path.job_id)
    if job is None or job.kind != KIND:
        raise _unknown(path.job_id)
    return job


def launch(work) -> None:
    """Start a job's work in a background thread; one job computes at a time in this worker. ``work`` takes an
    optional ``after_chunk`` hook and ``chunk_rows`` (a display of its progress, a smaller chunk)."""
    def run():
        with _RUNNING:
            work()

    threading.Thread(target=run, name="national-job", daemon=True).start()


def _save_body(limit: int, parquet: bool) -> tuple[str, int]:
    """The request body written to a temporary ``.csv`` (or ``.parquet``) file, refused with a 413 beyond
    ``limit`` bytes, and with a 400 when it does not begin as the document says (the header line; Parquet's
    magic bytes at both ends)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(limit)
    request.max_content_length = limit + 1
    fd, path = tempfile.mkstemp(prefix="nuanxin-national-", suffix=".parquet" if parquet else ".csv")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := request.stream.read(_BLOCK):
                size += len(block)
                if size > limit:
                    raise too_large(limit)
                out.write(block)
    except BaseException:
        os.unlink(path)
        raise
    with open(path, "rb") as saved:
        first = saved.read(200)
        if parquet:
            saved.seek(max(size - 4, 0))
            last = saved.read(4)
    if parquet:
        if size < 12 or first[:4] != PARQUET_MAGIC or last != PARQUET_MAGIC:
            os.unlink(path)
            raise ApiError(400, "invalid_body", "not a Parquet file: it must begin and end with the bytes PAR1",
                           "body")
        return path, size
    if re.match(HEADER_PATTERN, first.decode("utf-8", "replace")) is None:
        os.unlink(path)
        line = first.split(b"\n")[0].decode("utf-8", "replace")[:60]
        raise ApiError(400, "invalid_body", f"the first line must be the header lon,lat or lon,lat,weight "
                       f"(got {line!r})", "body")
    return path, size


@bp.operation("POST", JOBS, query=NationalJobQuery, response=NationalJobResponse, status=202,
              response_description="the job, queued: follow its status_url",
              body={"text/csv": {"type": "string", "pattern": HEADER_PATTERN,
                                 "description": "the header lon,lat or lon,lat,weight on the first line, then one "
                                                "point per row (WGS-84 degrees, anywhere; weight at least 0)",
                                 "examples": ["lon,lat,weight\n104.0648,30.6586,3\n"]},
                    **{kind: {"type": "string", "format": "binary",
                              "description": "GeoParquet with WKB point geometry in WGS-84 (OGC:CRS84 or EPSG:4326), "
                                             "or Parquet with numeric columns lon and lat; an optional weight column"}
                       for kind in PARQUET_TYPES}},
              body_description="demand points as CSV or (Geo)Parquet, at most the server's input limit (256 MB by default); the "
                               "cells are checked as the job reads them: a bad one fails the job naming its row "
                               "and field",
              errors=(400, 413, 415),
              summary="Start a national coverage job on a large demand file (straight-line distance), run in the "
                      "background")
def start_job():
    q = parse_query(NationalJobQuery)
    keys = parse_amenity_keys(q.amenities)
    at = parse_time(q.at)
    try:
        asked = CoverageQuestion(q.radius_m, keys, at, "straight", q.h3_res)
    except QuestionError as exc:
        raise from_question(exc) from None
    if request.mimetype not in (*CSV_TYPES, *PARQUET_TYPES):
        raise ApiError(415, "unsupported_media_type",
                       f"Content-Type {request.content_type or 'missing'!r}: send the demand points as CSV "
                       f"(text/csv) or Parquet ({PARQUET_TYPES[0]})", "Content-Type")
    svc = services()
    jobs = jobs_of(svc.store)
    path, size = _save_body(jobs.max_input_bytes, parquet=request.mimetype in PARQUET_TYPES)
    try:
        job_id = jobs.create(KIND, national_question(asked.radius_m, asked.amenities, asked.at, asked.h3_res), size)
    except InputTooLarge:
        os.unlink(path)
        raise too_large(jobs.max_input_bytes) from None
    except BaseException:
        os.unlink(path)
        raise
    stations, hours, districts = svc.stations.stations, svc.stations.finder.hours, svc.planning.districts()

    def work(after_chunk=None, chunk_rows=None):
        try:
            run_national_job(jobs, job_id, path, stations=stations, districts=districts, hours=hours,
                             write=lambda result: coverage_table_xlsx(result, unit="weight"),
                             chunk_rows=chunk_rows or q.chunk_rows, after_chunk=after_chunk)
        finally:
            os.unlink(path)

    launch(work)
    resp = answer(NationalJobResponse, _job_body(jobs.get(job_id)))
    resp.status_code = 202
    resp.headers["Location"] = f"{JOBS}/{job_id}"
    return resp


@bp.operation("GET", f"{JOBS}/<job_id>", path=NationalJobPath, response=NationalJobResponse, errors=(400, 404),
              summary="A national coverage job's state and progress (any worker answers it)")
def job_status(job_id):
    return answer(NationalJobResponse, _job_body(_job(job_id)))


@bp.operation("POST", f"{JOBS}/<job_id>/cancel", path=NationalJobPath, response=NationalJobResponse,
              errors=(400, 404),
              summary="Ask a national coverage job to stop: a queued one at once, a running one after its chunk; "
                      "an ended one stays as it is")
def cancel_job(job_id):
    job = _job(job_id)
    return answer(NationalJobResponse, _job_body(jobs_of(services().store).cancel(job.id) or job))


@bp.operation("GET", f"{JOBS}/<job_id>/tables.xlsx", path=NationalJobPath, response_type=XLSX,
              response_description="an attachment: the overall, district and hexagon tables", errors=(400, 404),
              summary="The tables of a done national coverage job (Excel)")
def job_tables(job_id):
    job = _job(job_id)
    data = jobs_of(services().store).result(job.id)
    if data is None:
        raise ApiError(404, "not_ready", f"job {job.id} is {job.state}: its tables come when it is done", "job_id")
    return _download(data, XLSX, f"nuanxin-national-coverage-{job.id}.xlsx")
