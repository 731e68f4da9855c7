"""Publishing the holiday calendar: the city admin replaces one year's holidays and make-up working days.

When the State Council publishes next year's notice, the city admin sends it as a document (the JSON of
``python -m mapdata.calendar import``); it replaces that year in the store, all or nothing, audited under
the admin's name, and the app answers with it at once.
"""
from __future__ import annotations

import datetime as dt

from layers.common.calendar import refresh_calendar
from layers.common.errors import AccessDenied
from layers.staff.accounts import Account
from mapdata.calendar import CalendarFileError, read_document
from mapdata.store.calendar import CalendarYear


def publish_year(store, account: Account | None, year: int, document) -> tuple[CalendarYear, int, int]:
    """Make ``document`` the whole of ``year``'s calendar; answer the year's record and its numbers of
    holiday days and make-up working days.

    Raises
    ------
    AccessDenied
        ``account`` is not a city admin.
    mapdata.calendar.CalendarFileError
        The document, naming the field (and the day's position) that is wrong; nothing is written.
    """
    if account is None or account.role != "city":
        raise AccessDenied("role", "only a city admin publishes the holiday calendar")
    year, days, published = read_document(document, year)
    if published is not None and published > dt.date(year, 12, 31):
        raise CalendarFileError("published_on", f"{published} is after the year it publishes")
    record = store.calendar.replace_year(year, days, published_on=published, by=account.name)
    refresh_calendar()
    holidays = sum(d.kind == "holiday" for d in days)
    return record, holidays, len(days) - holidays
