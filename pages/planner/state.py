"""The planner page's state as the client sends it, made safe: the question, k, the what-if, the time controls.

The page is a control panel: a hostile or stale value from any client is clipped or dropped to
something the server can answer cheaply, never refused with an error and never trusted.
"""
from __future__ import annotations

import datetime as dt
import math

import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator

from layers.common.calendar import as_local, check_moment
from layers.planning.coverage import DEFAULT_MAX_RADIUS_M
from layers.planning.dates import default_holiday, known_holiday_day, ordinary_week_monday
from layers.planning.questions import CoverageQuestion
from layers.planning.siting import MAX_K
from mapdata.vocabulary import AMENITY_KEYS

#: The page's radius is clipped to this range: beyond the model's pair table (2 km) the table
#: would be rebuilt for everyone, and a "coverage radius" stops meaning a short ride.
MIN_RADIUS_M, MAX_RADIUS_M = 100.0, DEFAULT_MAX_RADIUS_M
H3_RESOLUTIONS = (7, 8, 9)
DEFAULT_H3_RES = 8
#: Hypothetical stations one what-if may hold: enough to sketch a plan, bounded work per click.
MAX_EXTRA_STATIONS = 30
#: The exact solve on the page is refused above this many cells of its reduced matrix, so that a
#: click answers within seconds (layers.planning.siting.EXACT_MAX_CELLS is the API's larger limit).
PAGE_EXACT_MAX_CELLS = 400_000
PAGE_EXACT_TIME_LIMIT_S = 30.0
DEFAULT_K = 5


class PlannerQuery(BaseModel):
    """One coverage question from the page, every field clipped or filtered to something safe."""

    model_config = ConfigDict(extra="ignore")

    radius_m: float = Field(1000.0, description=f"metres, clipped to {MIN_RADIUS_M:.0f}–{MAX_RADIUS_M:.0f}")
    amenities: tuple[str, ...] = Field((), description="known amenity keys, vocabulary order")
    at: str | None = Field(None, description="naive ISO local time (Asia/Shanghai) or None for any time")
    mode: str = Field("straight")
    h3_res: int = Field(DEFAULT_H3_RES)

    @field_validator("radius_m", mode="before")
    @classmethod
    def _clip_radius(cls, v):
        try:
            r = float(v)
        except (TypeError, ValueError, OverflowError):
            return 1000.0
        if not math.isfinite(r):
            return 1000.0
        return float(min(max(r, MIN_RADIUS_M), MAX_RADIUS_M))

    @field_validator("amenities", mode="before")
    @classmethod
    def _known_amenities(cls, v):
        items = v.split(",") if isinstance(v, str) else (v if isinstance(v, (list, tuple)) else [])
        asked = {x for x in items if isinstance(x, str)}
        return tuple(k for k in AMENITY_KEYS if k in asked)

    @field_validator("at", mode="before")
    @classmethod
    def _local_time(cls, v):
        if not isinstance(v, str) or not v or len(v) > 40:
            return None
        try:
            t = check_moment(dt.datetime.fromisoformat(v))
        except (ValueError, TypeError, OverflowError):  # QuestionError is a ValueError
            return None
        return t.strftime("%Y-%m-%dT%H:%M")

    @field_validator("mode", mode="before")
    @classmethod
    def _known_mode(cls, v):
        return v if v in ("straight", "network") else "straight"

    @field_validator("h3_res", mode="before")
    @classmethod
    def _known_res(cls, v):
        return v if isinstance(v, int) and not isinstance(v, bool) and v in H3_RESOLUTIONS else DEFAULT_H3_RES

    def question(self) -> CoverageQuestion:
        """The domain's question: what the coverage model, the siting and the reports answer."""
        at = None if self.at is None else as_local(dt.datetime.fromisoformat(self.at))
        return CoverageQuestion(self.radius_m, self.amenities, at, self.mode, self.h3_res)

    def report_params(self) -> dict:
        """The query string the report downloads take (``at=any`` for any time)."""
        params = {"radius_m": f"{self.radius_m:g}", "amenities": ",".join(self.amenities), "at": self.at or "any",
                  "mode": self.mode, "h3_res": str(self.h3_res)}
        if not self.amenities:
            del params["amenities"]
        return params


def the_query(data) -> PlannerQuery:
    """The page's question from the query store, re-validated: the store is client data."""
    return PlannerQuery.model_validate(data if isinstance(data, dict) else {})


def clip_k(value) -> int:
    """How many new stations to recommend: an integer from 1 to :data:`layers.planning.siting.MAX_K` (5 if unreadable)."""
    try:
        k = float(value)
    except (TypeError, ValueError, OverflowError):
        return DEFAULT_K
    if not math.isfinite(k):
        return DEFAULT_K
    return int(min(max(int(k), 1), MAX_K))


def query_time(kind, weekday, hour, holiday_day, today: dt.date) -> str | None:
    """The moment asked about, as a naive local ISO time, or None for any time.

    ``kind="week"``: ``weekday`` (0 = Monday) of the next ordinary week at ``hour``;
    ``kind="holiday"``: ``holiday_day`` (a day of a known holiday block) at ``hour``.
    Malformed values fall back to Wednesday, 12:00 and the default holiday.
    """
    if kind not in ("week", "holiday"):
        return None
    h = hour if isinstance(hour, int) and not isinstance(hour, bool) and 0 <= hour <= 23 else 12
    if kind == "holiday":
        day = known_holiday_day(holiday_day, today)
        if day is None:
            block = default_holiday(today)
            if block is None:
                return None
            day = block.first
    else:
        w = weekday if isinstance(weekday, int) and not isinstance(weekday, bool) and 0 <= weekday <= 6 else 2
        day = ordinary_week_monday(today) + dt.timedelta(days=w)
    return f"{day.isoformat()}T{h:02d}:00"


def inside(outline, lon, lat) -> bool:
    """Whether (lon, lat) from a client lies inside Chengdu's (prepared) outline."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError, OverflowError):
        return False
    return math.isfinite(x) and math.isfinite(y) and bool(shapely.contains_xy(outline, x, y))


def clean_what_if(whatif, station_ids, outline, max_extra: int = MAX_EXTRA_STATIONS) -> dict:
    """A what-if from a client, with only points inside Chengdu and known station ids kept."""
    whatif = whatif if isinstance(whatif, dict) else {}
    added = []
    points = whatif.get("added")
    for p in points if isinstance(points, list) else []:
        if isinstance(p, (list, tuple)) and len(p) == 2 and inside(outline, p[0], p[1]):
            added.append([round(float(p[0]), 6), round(float(p[1]), 6)])
        if len(added) >= max_extra:
            break
    known = set(station_ids)
    ids = whatif.get("removed")
    removed = sorted({s for s in (ids if isinstance(ids, list) else []) if isinstance(s, str) and s in known})
    return {"added": added, "removed": removed}
