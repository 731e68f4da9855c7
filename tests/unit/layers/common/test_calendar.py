"""Working days in China's calendar: the due dates of the service ledger (双日研判)."""
from __future__ import annotations

import datetime as dt

import pytest

from layers.common.errors import QuestionError


def test_due_dates_count_working_days_across_national_day_and_a_makeup_saturday():
    from layers.common.calendar import add_working_days

    tz = dt.timezone(dt.timedelta(hours=8))
    assert add_working_days(dt.datetime(2026, 9, 30, 17, 0), 2) == dt.datetime(2026, 10, 9, 17, 0, tzinfo=tz)
    assert add_working_days(dt.datetime(2026, 10, 9, 17, 0), 2) == dt.datetime(2026, 10, 12, 17, 0, tzinfo=tz)
    assert add_working_days(dt.datetime(2026, 10, 9, 17, 0), 1) == dt.datetime(2026, 10, 10, 17, 0, tzinfo=tz)
    # sent during the holiday: the first working day after it
    assert add_working_days("2026-10-03T10:00+08:00", 1) == dt.datetime(2026, 10, 8, 10, 0, tzinfo=tz)
    assert add_working_days("2026-10-03T10:00+08:00", 0) == dt.datetime(2026, 10, 3, 10, 0, tzinfo=tz)
    with pytest.raises(QuestionError):
        add_working_days("2026-10-03T10:00", -1)
    with pytest.raises(QuestionError):
        add_working_days("2199-12-31T10:00", 5)
