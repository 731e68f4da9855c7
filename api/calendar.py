"""Routes of the holiday calendar: what the app answers with for a year, and the city admin's publishing of a
year's notice (the same document as ``python -m mapdata.calendar import FILE.json``)."""
from __future__ import annotations

import datetime as dt
from typing import Literal

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field

from api.auth import STAFF, require_account
from api.errors import ApiError
from api.params import parse_json_body, parse_path, services
from api.spec import ApiBlueprint
from api.stations import PREFIX, answer
from layers.common.calendar import year_schedule
from layers.staff.calendar import publish_year
from mapdata.calendar import MAX_DAYS, CalendarFileError
from mapdata.store.calendar import DAY_KINDS, HOLIDAY_KEYS

bp = ApiBlueprint("api_calendar", __name__)
MAX_DOCUMENT_BYTES = 64 * 1024
_CHINESE_NAMES = {h.value: h.chinese for h in chinese_calendar.Holiday}
_YEARS = dict(ge=1970, le=2199)


class CalendarPath(BaseModel):
    year: int = Field(**_YEARS, description="a year, e.g. 2027", examples=[2027])


class CalendarDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: str = Field(max_length=10, description="YYYY-MM-DD, in the year of the path", examples=["2027-01-01"])
    kind: Literal[DAY_KINDS] = Field(description="holiday, or makeup_workday (a Saturday or Sunday worked)")  # type: ignore[valid-type]
    holiday: str = Field(max_length=40, description=f"the holiday: one of {', '.join(HOLIDAY_KEYS)} or its "
                                                    "Chinese name (元旦, 春节 …)")


class CalendarDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int | None = Field(None, **_YEARS, description="may be left out; if given, the year of the path")
    published_on: str | None = Field(None, max_length=10, description="the notice's date, YYYY-MM-DD")
    days: list[CalendarDayIn] = Field(max_length=MAX_DAYS, description="every holiday day and make-up working day "
                                                                        "of the year (the whole year is replaced)")


class CalendarDayOut(BaseModel):
    day: dt.date
    kind: Literal[DAY_KINDS]  # type: ignore[valid-type]
    holiday: str = Field(description="the holiday's key")
    holiday_zh: str = Field(description="the holiday's Chinese name")


class CalendarYearOut(BaseModel):
    year: int
    schedule: Literal["notice", "statutory"] = Field(
        description="notice: the State Council's notice as published in the store; statutory: no notice yet, the "
                    "statutory holiday days of the national regulation (no make-up working days)")
    published_on: dt.date | None
    imported_by: str | None
    imported_at: str | None
    days: list[CalendarDayOut]


def _year_answer(year: int) -> dict:
    source, record, days = year_schedule(year)
    return {"year": year, "schedule": source.value,
            "published_on": record.published_on if record else None,
            "imported_by": record.imported_by if record else None,
            "imported_at": record.imported_at if record else None,
            "days": [{"day": d, "kind": kind.value, "holiday": key, "holiday_zh": _CHINESE_NAMES.get(key, key)}
                     for d, kind, key in days]}


@bp.operation("GET", f"{PREFIX}/calendar/<year>", path=CalendarPath, response=CalendarYearOut, errors=(400,),
              summary="The holidays and make-up working days the app answers with in a year, and where they come from")
def calendar_year(year: str):
    path = parse_path(CalendarPath, year=year)
    return answer(CalendarYearOut, _year_answer(path.year))


@bp.operation("PUT", f"{PREFIX}/calendar/<year>", path=CalendarPath, body={"application/json": CalendarDocument},
              response=CalendarYearOut, errors=(400, 401, 403, 413, 415), security=STAFF,
              summary="Publish a year's notice (city admins): it replaces the year's holidays and make-up working "
                      "days, all or nothing, audited")
def publish_calendar_year(year: str):
    path = parse_path(CalendarPath, year=year)
    account = require_account(write=True)
    body = parse_json_body(CalendarDocument, MAX_DOCUMENT_BYTES, rows_field="days")
    document = body.model_dump(exclude_none=True)
    try:
        publish_year(services().store, account, path.year, document)
    except CalendarFileError as exc:
        # a day's problem names it by its place in the list, as a client sent it
        field = exc.field if exc.line is None else f"days[{exc.line - 2}].{exc.field}"
        raise ApiError(400, "invalid_calendar", f"{field}: {exc.reason}; nothing was published", field) from None
    return answer(CalendarYearOut, _year_answer(path.year))
