"""The service ledger's due dates in working days (双日研判), around National Day 2026 and its make-up Saturday."""
from __future__ import annotations

import datetime as dt

from layers.staff.deadlines import due_dates, overdue
from mapdata.vocabulary import REPORT_KIND_KEYS, REPORT_STATES

TZ = dt.timezone(dt.timedelta(hours=8))


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def test_a_report_before_national_day_is_due_after_it():
    due = due_dates("2026-09-30T17:00")
    assert due.acknowledge_by == at(2026, 10, 8, 17, 0)
    assert due.resolve_by == at(2026, 10, 9, 17, 0)


def test_the_makeup_saturday_counts_as_a_working_day():
    due = due_dates(dt.datetime(2026, 10, 9, 17, 0))
    assert due.acknowledge_by == at(2026, 10, 10, 17, 0)
    assert due.resolve_by == at(2026, 10, 12, 17, 0)


def test_overdue_is_what_is_late_now_and_stays_late_once_closed_late():
    due = due_dates("2026-10-09T17:00")
    assert overdue(due, "new", "2026-10-10T16:59") == []
    assert overdue(due, "new", "2026-10-10T17:01") == ["acknowledge"]
    assert overdue(due, "acknowledged", "2026-10-12T18:00", acknowledged_at="2026-10-10T09:00") == ["resolve"]
    assert overdue(due, "resolved", "2026-10-20T00:00", acknowledged_at="2026-10-10T09:00",
                   closed_at="2026-10-12T10:00") == []
    assert overdue(due, "resolved", "2026-10-20T00:00", acknowledged_at="2026-10-11T09:00",
                   closed_at="2026-10-13T10:00") == ["acknowledge", "resolve"]


def test_the_vocabularies():
    assert len(REPORT_KIND_KEYS) == 7 and "facility_broken" in REPORT_KIND_KEYS and "suggestion" in REPORT_KIND_KEYS
    assert REPORT_STATES[0] == "new" and REPORT_STATES[-3:] == ("resolved", "rejected", "duplicate")
