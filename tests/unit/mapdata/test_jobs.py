"""The store's job table (issue 12): a job's life from queued to an end, its cancel, the newest kept, inputs bounded,
a running job whose worker died failed — on either backend, from two tables on one database as two workers are."""
from __future__ import annotations

import datetime as dt

import pytest

from mapdata import clock
from mapdata.store import open_store
from mapdata.store.jobs import InputTooLarge, JobTable


@pytest.fixture()
def two(writable_db):
    """Two job tables on one database (two workers)."""
    return JobTable(open_store(writable_db).db, keep=3, max_input_bytes=1000), \
        JobTable(open_store(writable_db).db, keep=3, max_input_bytes=1000)


def test_a_job_runs_to_done_and_the_other_worker_sees_each_step(two):
    a, b = two
    job_id = a.create("national_coverage", {"radius_m": 500.0}, 900)
    job = b.get(job_id)
    assert (job.state, job.rows_done, job.bytes_total, job.question) == ("queued", 0, 900, {"radius_m": 500.0})
    assert a.start(job_id) and not a.start(job_id)  # only a queued job starts, once
    assert a.progress(job_id, 10, 300)
    assert (b.get(job_id).rows_done, b.get(job_id).bytes_read, b.get(job_id).fraction) == (10, 300, 300 / 900)
    assert b.result(job_id) is None
    assert a.finish(job_id, b"PK tables", 25, 900)
    done = b.get(job_id)
    assert (done.state, done.rows_done, done.fraction, done.has_result) == ("done", 25, 1.0, True)
    assert b.result(job_id) == b"PK tables"
    assert not a.fail(job_id, "too late") and b.get(job_id).state == "done"  # an ended job stays ended
    assert b.cancel(job_id).state == "done"


def test_a_cancel_is_heard_by_the_runner_and_a_queued_job_never_starts(two):
    a, b = two
    running = a.create("national_coverage", {}, 10)
    assert a.start(running)
    assert b.cancel(running).cancel_requested and b.get(running).state == "running"
    assert not a.progress(running, 5, 5)  # the runner's next look says stop
    assert a.cancelled(running) and b.get(running).state == "cancelled"
    queued = a.create("national_coverage", {}, 10)
    assert b.cancel(queued).state == "cancelled" and not a.start(queued)


def test_only_the_newest_are_kept_and_a_large_input_is_refused(two):
    a, b = two
    made = [a.create("national_coverage", {}, 1) for _ in range(5)]
    assert b.ids() == made[-3:] and b.get(made[0]) is None and b.result(made[0]) is None
    with pytest.raises(InputTooLarge) as refused:
        a.create("national_coverage", {}, 1001)
    assert (refused.value.size, refused.value.limit) == (1001, 1000)
    assert b.ids() == made[-3:]
    assert a.get(0) is None and a.get("1") is None and a.get(True) is None and a.cancel(10**30) is None


def test_a_running_job_whose_worker_died_is_failed_saying_so(two):
    a, b = two
    job_id = a.create("national_coverage", {}, 10)
    a.start(job_id)
    a.progress(job_id, 3, 3)
    later = clock.now() + dt.timedelta(seconds=a.stale_after_s - 1)
    assert b.get(job_id, now=later).state == "running"
    job = b.get(job_id, now=clock.now() + dt.timedelta(minutes=11))
    assert job.state == "failed" and "no progress for 11 minutes" in job.error
    assert not a.progress(job_id, 4, 4) and a.get(job_id).rows_done == 3
