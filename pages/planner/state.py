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


def k_asked(value) -> tuple[int, bool]:
    """(how many new stations are recommended, whether that is not what the box says): the box's value when
    it is a whole number from 1 to :data:`MAX_K`, else :func:`clip_k` of it, which the page then states."""
    k = clip_k(value)
    exact = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        and value == k
    return k, not exact


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


# ---------------------------------------------------------------------------------------------
# the custom radius: applied in range, else the default with a reason the page states

PRESET_RADII = ("500", "1000")
DEFAULT_RADIUS = "1000"
DEFAULT_RADIUS_M = 1000.0
DEFAULT_CUSTOM_RADIUS_M = 1500


def radius_asked(radius, custom) -> tuple[float, str | None]:
    """(metres the figures use, why the box's value is not used: None, ``"missing"`` or ``"out_of_range"``).

    A preset is used as it is; a custom value only inside :data:`MIN_RADIUS_M`–:data:`MAX_RADIUS_M`,
    otherwise the figures keep the default radius and the page says why.
    """
    if radius != "custom":
        return (float(radius) if radius in PRESET_RADII else DEFAULT_RADIUS_M), None
    if custom is None or custom == "" or isinstance(custom, bool):
        return DEFAULT_RADIUS_M, "missing"
    try:
        r = float(custom)
    except (TypeError, ValueError, OverflowError):
        return DEFAULT_RADIUS_M, "missing"
    if not math.isfinite(r) or not MIN_RADIUS_M <= r <= MAX_RADIUS_M:
        return DEFAULT_RADIUS_M, "out_of_range"
    return r, None


# ---------------------------------------------------------------------------------------------
# the page's state in its URL: every parameter checked, a bad one falls back to its default

DEFAULT_HOUR = 12
DEFAULT_WEEKDAY = 2  # Wednesday: an ordinary working day
TIME_KINDS = ("any", "week", "holiday")
WEEK_VIEWS = ("side", "diff")
#: ``lon,lat`` points of ``added`` read from one URL at most (the what-if keeps :data:`MAX_EXTRA_STATIONS`).
MAX_URL_POINTS = 2 * MAX_EXTRA_STATIONS
#: Removed stations a link carries at most: the router serves a query of up to 2,000 characters
#: (:data:`pages.guard.MAX_PATH_CHARS`), and 30 added points and the controls take about 900 of them.
MAX_URL_REMOVED = 100


def _single(v):
    """A parameter given once, as a short string; a repeated (list) or over-long one is ambiguous: None."""
    return v if isinstance(v, str) and len(v) <= 40 else None


def _whole(v, lo: int, hi: int) -> int | None:
    v = _single(v)
    if v is None or not v.isascii() or not v.isdigit():
        return None
    n = int(v)
    return n if lo <= n <= hi else None


def _url_radius(v) -> tuple[str, float | int]:
    """(radio value, custom box value) from ``r``: a preset, or a custom radius in range; else the default."""
    v = _single(v)
    if v in PRESET_RADII:
        return v, DEFAULT_CUSTOM_RADIUS_M
    try:
        r = float(v) if v is not None else math.nan
    except ValueError:
        r = math.nan
    if math.isfinite(r) and MIN_RADIUS_M <= r <= MAX_RADIUS_M:
        return "custom", int(r) if r == int(r) else r
    return DEFAULT_RADIUS, DEFAULT_CUSTOM_RADIUS_M


def _url_points(v) -> list[list[float]]:
    """``added`` as the reports take it, ``lon,lat;lon,lat``: the well-formed points (checked again by
    :func:`clean_what_if`)."""
    items = v.split(";", MAX_URL_POINTS)[:MAX_URL_POINTS] if isinstance(v, str) else []
    points = []
    for item in items:
        parts = item.split(",") if len(item) <= 40 else []
        try:
            lon, lat = (float(p) for p in parts)
        except ValueError:
            continue
        points.append([lon, lat])
    return points


def url_controls(query: dict, *, holidays: list[str], default_holiday_day: str | None, adcodes: list[int],
                 station_ids, outline) -> dict:
    """The page's controls from its URL's query (``r``, ``mode``, ``a``, ``t``, ``wd``, ``h``, ``hol``, ``res``,
    ``wv``, ``k``, ``xd``, ``d``, and the what-if as the reports take it: ``added`` ``lon,lat;lon,lat``,
    ``removed`` ``id,id``), each checked: a malformed, unknown or out-of-range value
    gives that control's default, never an error.

    ``holidays``: the holiday pickers' values (first days of the blocks on offer); ``adcodes``: the district
    pickers' values, the first the default; ``station_ids`` and ``outline`` check the what-if.
    """
    radius, custom = _url_radius(query.get("r"))
    asked = query.get("a")
    asked = asked if isinstance(asked, list) else [asked]
    named = {k for v in asked[:len(AMENITY_KEYS)] if isinstance(v, str) and len(v) <= 400
             for k in v.split(",")[:len(AMENITY_KEYS)]}
    hol = _single(query.get("hol"))
    res = _whole(query.get("res"), 0, 99)
    k = _whole(query.get("k"), 1, MAX_K)
    wv = _single(query.get("wv"))
    districts = [_whole(query.get(p), 0, 999_999) for p in ("d", "xd")]
    kind = _single(query.get("t"))
    hour = _whole(query.get("h"), 0, 23)
    weekday = _whole(query.get("wd"), 0, 6)
    mode = _single(query.get("mode"))
    removed = query.get("removed") if isinstance(query.get("removed"), str) and len(query["removed"]) <= 20_000 else ""
    whatif = clean_what_if({"added": _url_points(query.get("added")), "removed": removed.split(",")[:500]},
                           station_ids, outline)
    return {
        "radius": radius, "radius_custom": custom,
        "mode": mode if mode in ("straight", "network") else "straight",
        "amenities": [k for k in AMENITY_KEYS if k in named],
        "time_kind": kind if kind in TIME_KINDS else "week",
        "weekday": DEFAULT_WEEKDAY if weekday is None else weekday,
        "hour": DEFAULT_HOUR if hour is None else hour,
        "holiday": hol if hol in holidays else default_holiday_day,
        "h3_res": res if res in H3_RESOLUTIONS else DEFAULT_H3_RES,
        "week_view": wv if wv in WEEK_VIEWS else "side",
        "k": DEFAULT_K if k is None else k,
        "map_district": districts[0] if districts[0] in adcodes else adcodes[0],
        "exact_district": districts[1] if districts[1] in adcodes else adcodes[0],
        "whatif": whatif,
    }


def url_limits() -> dict:
    """What the page's script may put in the URL: beyond, it leaves the removed stations out and says so."""
    return {"removed": MAX_URL_REMOVED}


def url_defaults(*, default_holiday_day: str | None, adcodes: list[int]) -> dict:
    """Each URL parameter's default: the page's script leaves a control at its default out of the URL."""
    return {"r": DEFAULT_RADIUS, "mode": "straight", "a": "", "t": "week", "wd": str(DEFAULT_WEEKDAY),
            "h": str(DEFAULT_HOUR), "hol": default_holiday_day or "", "res": str(DEFAULT_H3_RES), "wv": "side",
            "k": str(DEFAULT_K), "xd": str(adcodes[0]), "d": str(adcodes[0]), "added": "", "removed": ""}
