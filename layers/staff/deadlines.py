"""When a rider's report is due: acknowledged within one working day, resolved within two (the districts'
"双日研判" rhythm), counted on China's working-day calendar in Asia/Shanghai, and whether it is overdue."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from layers.common.calendar import add_working_days, as_local, check_moment

ACKNOWLEDGE_WORKING_DAYS = 1
RESOLVE_WORKING_DAYS = 2
#: States in which a report is finished: no due date runs any more.
CLOSED_STATES = ("resolved", "rejected", "duplicate")


@dataclass(frozen=True)
class DueDates:
    received: dt.datetime
    acknowledge_by: dt.datetime
    resolve_by: dt.datetime


def due_dates(received) -> DueDates:
    """The due dates of a report received at ``received`` (any time zone; naive is Asia/Shanghai)."""
    at = check_moment(received, "received")
    return DueDates(at, add_working_days(at, ACKNOWLEDGE_WORKING_DAYS), add_working_days(at, RESOLVE_WORKING_DAYS))


def overdue(due: DueDates, state: str, now, acknowledged_at=None, closed_at=None) -> list[str]:
    """What is late at ``now``: ``acknowledge`` and/or ``resolve`` (a report acknowledged or closed late stays
    late for the ledger's "resolved on time" count)."""
    now = as_local(check_moment(now, "now"))
    late = []
    acked = as_local(acknowledged_at) if acknowledged_at is not None else None
    closed = as_local(closed_at) if closed_at is not None else None
    if (acked is None and state == "new" and now > due.acknowledge_by) or (acked is not None and acked > due.acknowledge_by):
        late.append("acknowledge")
    if (closed is None and state not in CLOSED_STATES and now > due.resolve_by) or \
            (closed is not None and closed > due.resolve_by):
        late.append("resolve")
    return late
