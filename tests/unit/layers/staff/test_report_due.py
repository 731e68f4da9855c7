"""Due dates of reports as the ledger keeps them, around National Day 2026 and its make-up Saturday: sent through
submit_report, stored, and marked overdue by the queue only once the due moment has passed."""
from __future__ import annotations

import datetime as dt

import pytest

from layers.common.calendar import as_local
from layers.rider.reports import submit_report
from layers.staff import reports as ledger
from layers.staff.accounts import Account, create_account
from mapdata.store import open_store

TZ = dt.timezone(dt.timedelta(hours=8))


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


@pytest.fixture()
def district(writable_db):
    store = open_store(writable_db)
    station = store.read("stations").iloc[0]
    record = create_account(store, name="qu-due", role="district", password="correct horse battery",
                            adcode=int(station["adcode"]), by="test")
    return store, Account.of(record), station


def _late(store, account, ref, now) -> list[str]:
    page = ledger.queue(store, account, state="all", now=now)
    return next(r["overdue"] for r in page.rows if r["ref"] == ref)


@pytest.mark.parametrize(("received", "acknowledge_by", "resolve_by"), [
    # National Day: 10-01..10-07 off (the week's Sunday 10-04 too); the next working days are 10-08 and 10-09
    (at(2026, 9, 30, 17, 0), at(2026, 10, 8, 17, 0), at(2026, 10, 9, 17, 0)),
    # Friday 10-09: the make-up Saturday 10-10 is a working day, Sunday 10-11 is not
    (at(2026, 10, 9, 17, 0), at(2026, 10, 10, 17, 0), at(2026, 10, 12, 17, 0)),
])
def test_a_report_is_due_in_working_days_and_overdue_only_after(district, received, acknowledge_by, resolve_by):
    store, account, station = district
    sent = submit_report(store, {"kind": "closed_in_hours", "station_id": station["id"]}, now=received)
    row = store.reports.get(sent.report_id)
    assert as_local(row["acknowledge_by"]) == acknowledge_by and as_local(row["resolve_by"]) == resolve_by
    assert (sent.acknowledge_by, sent.resolve_by) == (acknowledge_by, resolve_by)
    minute = dt.timedelta(minutes=1)
    assert _late(store, account, sent.ref, acknowledge_by - minute) == []
    assert _late(store, account, sent.ref, acknowledge_by + minute) == ["acknowledge"]
    assert _late(store, account, sent.ref, resolve_by - minute) == ["acknowledge"]
    assert _late(store, account, sent.ref, resolve_by + minute) == ["acknowledge", "resolve"]
    # the queue counts it overdue and lists it first among open reports once late
    page = ledger.queue(store, account, now=resolve_by + minute)
    assert page.overdue >= 1 and page.rows[0]["ref"] == sent.ref
    assert ledger.queue(store, account, overdue_only=True, now=acknowledge_by - minute).total == 0


def test_acknowledged_in_time_it_is_late_only_to_resolve(district):
    store, account, station = district
    sent = submit_report(store, {"kind": "closed_in_hours", "station_id": station["id"]}, now=at(2026, 10, 9, 17, 0))
    ledger.act(store, account, sent.report_id, "acknowledge", version=1, now=at(2026, 10, 10, 9, 0))
    assert _late(store, account, sent.ref, at(2026, 10, 11, 12, 0)) == []
    assert _late(store, account, sent.ref, at(2026, 10, 12, 17, 1)) == ["resolve"]
