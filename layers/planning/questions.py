"""What the planner page asks of the coverage and siting model, shaped for display: validated questions, real dates, hexagons, deltas."""
from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

import h3
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator

from layers.planning.coverage import DEFAULT_MAX_RADIUS_M, CoverageModel, CoverageResult
from layers.common.hours import DayKind, as_local, day_kind, holiday_name
from layers.planning.siting import MAX_K, SitingResult, exact_mclp, greedy_mclp
from mapdata.vocabulary import AMENITY_KEYS

#: The planner's radius is clipped to this range: beyond the model's pair table (2 km) the table
#: would be rebuilt for everyone, and a "coverage radius" stops meaning a short ride.
MIN_RADIUS_M, MAX_RADIUS_M = 100.0, DEFAULT_MAX_RADIUS_M
H3_RESOLUTIONS = (7, 8, 9)
TIME_KINDS = ("any", "week", "holiday")
#: Hypothetical stations one what-if may hold: enough to sketch a plan, bounded work per click.
MAX_EXTRA_STATIONS = 30
#: The exact solve on the page is refused above this many cells of its reduced matrix, so that a
#: click answers within seconds (layers.planning.siting.EXACT_MAX_CELLS is the API's larger limit).
PAGE_EXACT_MAX_CELLS = 400_000
PAGE_EXACT_TIME_LIMIT_S = 30.0
#: Colour classes of uncovered demand per hexagon: quantiles of hexagon demand at that resolution,
#: so the legend means the same thing whatever the other controls say.
GAP_QUANTILES = (0.5, 0.75, 0.9, 0.97)


class PlannerQuery(BaseModel):
    """One coverage question from the page, every field clipped or filtered to something safe.

    Anything a client sends is accepted and made sane rather than refused: the page is a
    control panel, and a hostile or stale value must neither fail nor cost the server more.
    """

    model_config = ConfigDict(extra="ignore")

    radius_m: float = Field(1000.0, description=f"metres, clipped to {MIN_RADIUS_M:.0f}–{MAX_RADIUS_M:.0f}")
    amenities: tuple[str, ...] = Field((), description="known amenity keys, vocabulary order")
    at: str | None = Field(None, description="naive ISO local time (Asia/Shanghai) or None for any time")
    mode: str = Field("straight")
    h3_res: int = Field(8)

    @field_validator("radius_m", mode="before")
    @classmethod
    def _clip_radius(cls, v):
        try:
            r = float(v)
        except (TypeError, ValueError):
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
            t = as_local(dt.datetime.fromisoformat(v))
        except (ValueError, TypeError):
            return None
        return t.strftime("%Y-%m-%dT%H:%M")

    @field_validator("mode", mode="before")
    @classmethod
    def _known_mode(cls, v):
        return v if v in ("straight", "network") else "straight"

    @field_validator("h3_res", mode="before")
    @classmethod
    def _known_res(cls, v):
        try:
            res = int(v)
        except (TypeError, ValueError):
            return 8
        return res if res in H3_RESOLUTIONS else 8

    def coverage_args(self) -> dict:
        """Keyword arguments of :meth:`CoverageModel.coverage` for this question."""
        return {"radius_m": self.radius_m, "amenities": self.amenities, "at": self.at, "mode": self.mode,
                "h3_res": self.h3_res}

    def report_params(self) -> dict:
        """The query string the report downloads take (``at=any`` for any time)."""
        params = {"radius_m": f"{self.radius_m:g}", "amenities": ",".join(self.amenities), "at": self.at or "any",
                  "mode": self.mode, "h3_res": str(self.h3_res)}
        if not self.amenities:
            del params["amenities"]
        return params


def clip_k(value) -> int:
    """How many new stations to recommend: an integer from 1 to :data:`layers.planning.siting.MAX_K` (5 if unreadable)."""
    try:
        k = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return 5
    return int(min(max(k, 1), MAX_K))


# ---------------------------------------------------------------------------------------------
# real dates for "a weekday" and "a public holiday"

def today() -> dt.date:
    """Today's date in Chengdu (Asia/Shanghai)."""
    return as_local(dt.datetime.now().astimezone()).date()


def ordinary_week_monday(today: dt.date) -> dt.date:
    """The Monday of the next week (from the coming Monday) with no holiday and no make-up working day."""
    monday = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
    for _ in range(60):
        days = [monday + dt.timedelta(days=i) for i in range(7)]
        if all(day_kind(d) in (DayKind.WORKDAY, DayKind.WEEKEND) for d in days):
            return monday
        monday += dt.timedelta(days=7)
    return monday


@dataclass(frozen=True)
class HolidayBlock:
    """Consecutive official holiday days under one name (e.g. 国庆节 2026-10-01 … 10-07)."""

    first: dt.date
    last: dt.date
    name_en: str
    name_zh: str

    def label(self, lang: str) -> str:
        name = self.name_zh if lang == "zh" else self.name_en
        return f"{name} {self.first:%Y-%m-%d}–{self.last:%m-%d}"


@functools.lru_cache(maxsize=8)
def holiday_blocks(today: dt.date, window_days: int = 400) -> tuple[HolidayBlock, ...]:
    """Official holiday blocks the calendar knows within ``window_days`` before and after ``today``."""
    blocks: list[HolidayBlock] = []
    day = today - dt.timedelta(days=window_days)
    end = today + dt.timedelta(days=window_days)
    while day <= end:
        if day_kind(day) == DayKind.HOLIDAY:
            name = holiday_name(day, "en") or ""
            if blocks and blocks[-1].last == day - dt.timedelta(days=1) and blocks[-1].name_en == name:
                b = blocks[-1]
                blocks[-1] = HolidayBlock(b.first, day, b.name_en, b.name_zh)
            else:
                blocks.append(HolidayBlock(day, day, name, holiday_name(day, "zh") or name))
        day += dt.timedelta(days=1)
    return tuple(blocks)


def default_holiday(today: dt.date) -> HolidayBlock | None:
    """The next National Day or Spring Festival the calendar knows; else the most recent one; else any."""
    blocks = holiday_blocks(today)
    big = [b for b in blocks if b.name_en in ("National Day", "Spring Festival")]
    future = [b for b in big if b.last >= today]
    if future:
        return future[0]
    if big:
        return big[-1]
    return blocks[-1] if blocks else None


def known_holiday_day(value, today: dt.date) -> dt.date | None:
    """``value`` as a date when it is a day of a holiday block on offer, else None."""
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    return day if any(b.first <= day <= b.last for b in holiday_blocks(today)) else None


def query_time(kind: str, weekday, hour, holiday_day, today: dt.date) -> str | None:
    """The moment asked about, as a naive local ISO time, or None for any time.

    ``kind="week"``: ``weekday`` (0 = Monday) of the next ordinary week at ``hour``;
    ``kind="holiday"``: ``holiday_day`` (a day of a known holiday block) at ``hour``.
    Malformed values fall back to Wednesday, 12:00 and the default holiday.
    """
    if kind not in ("week", "holiday"):
        return None
    try:
        h = int(hour)
    except (TypeError, ValueError):
        h = 12
    h = h if 0 <= h <= 23 else 12
    if kind == "holiday":
        day = known_holiday_day(holiday_day, today)
        if day is None:
            block = default_holiday(today)
            if block is None:
                return None
            day = block.first
    else:
        try:
            w = int(weekday)
        except (TypeError, ValueError):
            w = 2
        w = w if 0 <= w <= 6 else 2
        day = ordinary_week_monday(today) + dt.timedelta(days=w)
    return f"{day.isoformat()}T{h:02d}:00"


# ---------------------------------------------------------------------------------------------
# the gap map

@functools.lru_cache(maxsize=6)
def hexagon_collection(cells: tuple[str, ...], res: int) -> dict:
    """GeoJSON of the H3 cells, in the given order: property ``i`` is the position, ``r`` the resolution.

    The geometry depends only on the resolution; the colours come from :func:`gap_levels` in the
    same order, so a control change sends a short list of levels, not the polygons again.
    """
    features = []
    for i, cell in enumerate(cells):
        ring = [[round(lon, 5), round(lat, 5)] for lat, lon in h3.cell_to_boundary(cell)]
        ring.append(ring[0])
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": {"i": i, "r": res}})
    return {"type": "FeatureCollection", "features": features}


def gap_hexagons(model: CoverageModel, res: int) -> dict:
    """The hexagons holding demand at resolution ``res``, in the order of every coverage result's ``hexagons``."""
    cells = model.coverage(MIN_RADIUS_M, h3_res=res).hexagons["h3"]
    return hexagon_collection(tuple(cells), res)


def gap_breaks(hexagons: pd.DataFrame) -> list[float]:
    """Class limits of uncovered demand for one resolution (from the demand per hexagon)."""
    demand = hexagons["demand"].to_numpy(float)
    if len(demand) == 0:
        return []
    return [float(x) for x in np.unique(np.round(np.quantile(demand, GAP_QUANTILES), 1))]


def gap_levels(hexagons: pd.DataFrame, breaks: list[float]) -> list[int]:
    """Per hexagon: 0 when nothing is left uncovered, else 1 … len(breaks) + 1 by uncovered demand."""
    unc = hexagons["uncovered"].to_numpy(float)
    levels = np.searchsorted(np.asarray(breaks, float), unc, side="right") + 1
    levels[unc <= 1e-9] = 0
    return levels.astype(int).tolist()


def district_shares(result: CoverageResult) -> dict[str, float | None]:
    """adcode → weighted share covered (None for a district without demand), for the choropleth."""
    out = {}
    for code, share in zip(result.districts["adcode"], result.districts["share"]):
        out[str(int(code))] = None if pd.isna(share) else round(float(share), 4)
    return out


_OUTLINES: dict[int, tuple] = {}


def _outline(districts) -> shapely.Geometry:
    # keyed by the layer object, which is kept alive with its outline so the key is not reused
    hit = _OUTLINES.get(id(districts))
    if hit is None or hit[0] is not districts:
        outline = shapely.union_all(districts.geometry.values.to_numpy())
        shapely.prepare(outline)
        _OUTLINES.clear()
        hit = _OUTLINES[id(districts)] = (districts, outline)
    return hit[1]


def inside_districts(lon, lat, districts) -> bool:
    """Whether (lon, lat) lies in one of ``districts`` (WGS-84), i.e. inside Chengdu."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        return False
    if not (math.isfinite(x) and math.isfinite(y)):
        return False
    return bool(shapely.contains_xy(_outline(districts), x, y))


# ---------------------------------------------------------------------------------------------
# what-if

@dataclass
class WhatIf:
    """Coverage with hypothetical stations added and existing ones removed, against the stations as they are."""

    base: CoverageResult
    changed: CoverageResult

    @property
    def delta_share(self) -> float | None:
        a, b = self.base.overall["share"], self.changed.overall["share"]
        return None if a is None or b is None else b - a

    @property
    def delta_points(self) -> int:
        return int(self.changed.overall["points_covered"] - self.base.overall["points_covered"])

    def district_deltas(self) -> pd.Series:
        """adcode → change of weighted share (NaN without demand)."""
        a = self.base.districts.set_index("adcode")["share"]
        b = self.changed.districts.set_index("adcode")["share"]
        return b - a


def clean_what_if(whatif, station_ids, districts, max_extra: int = MAX_EXTRA_STATIONS) -> dict:
    """A what-if from a client, with only points inside Chengdu and known station ids kept."""
    whatif = whatif if isinstance(whatif, dict) else {}
    added = []
    for p in whatif.get("added") or []:
        if isinstance(p, (list, tuple)) and len(p) == 2 and inside_districts(p[0], p[1], districts):
            added.append([round(float(p[0]), 6), round(float(p[1]), 6)])
        if len(added) >= max_extra:
            break
    known = set(station_ids)
    removed = sorted({s for s in whatif.get("removed") or [] if isinstance(s, str) and s in known})
    return {"added": added, "removed": removed}


def what_if(model: CoverageModel, query: PlannerQuery, added, removed) -> WhatIf | None:
    """The coverage change of a what-if (None when it changes nothing)."""
    if not added and not removed:
        return None
    base = model.coverage(**query.coverage_args())
    changed = model.coverage(**query.coverage_args(), extra_stations=added or None,
                             removed_station_ids=removed or None)
    return WhatIf(base, changed)


# ---------------------------------------------------------------------------------------------
# where to add stations

def recommend_sites(model: CoverageModel, candidates, query, k: int, method: str = "greedy",
                    time_limit_s: float | None = None) -> SitingResult:
    """Sites for ``k`` new stations on top of the existing stations that count: the one answer to
    "recommend k sites for this question", which the page, the API and every report ask.

    The existing stations' coverage follows the whole question: its radius, amenities, time and
    distance mode (``query`` has ``radius_m``, ``amenities``, ``at`` and ``mode``). A candidate's
    reach is the straight-line radius, as in :func:`layers.planning.siting.greedy_mclp`.

    Parameters
    ----------
    method : {"greedy", "exact"}
        ``exact`` solves to optimality and raises ValueError when the problem is too large.
    """
    existing = model.covered_mask(query.radius_m, query.amenities, query.at, query.mode)
    args = (model.lon, model.lat, model.weight, candidates.geometry.x.to_numpy(),
            candidates.geometry.y.to_numpy(), existing, query.radius_m, clip_k(k))
    ids = candidates["id"].to_numpy(dtype=object)
    if method == "exact":
        return exact_mclp(*args, candidate_ids=ids, time_limit_s=time_limit_s)
    return greedy_mclp(*args, candidate_ids=ids)


@dataclass
class ExactComparison:
    """Greedy and exact MCLP on one district's demand and candidates."""

    adcode: int
    points: int
    candidates: int
    greedy: SitingResult
    exact: SitingResult | None
    refused: str | None


def compare_in_district(model: CoverageModel, candidates, query: PlannerQuery, k: int, adcode: int,
                        max_cells: int = PAGE_EXACT_MAX_CELLS,
                        time_limit_s: float = PAGE_EXACT_TIME_LIMIT_S) -> ExactComparison:
    """Greedy against exact MCLP on a reduced problem: the demand and candidate sites of one district.

    Raises
    ------
    ValueError
        For a district the model does not know.
    """
    sel = model.in_district(adcode)
    cands = candidates[candidates["adcode"] == int(adcode)]
    existing = model.covered_mask(query.radius_m, query.amenities, query.at, query.mode)[sel]
    args = (model.lon[sel], model.lat[sel], model.weight[sel], cands.geometry.x.to_numpy(),
            cands.geometry.y.to_numpy(), existing, query.radius_m, clip_k(k))
    ids = cands["id"].to_numpy()
    greedy = greedy_mclp(*args, candidate_ids=ids)
    try:
        exact = exact_mclp(*args, candidate_ids=ids, max_cells=max_cells, time_limit_s=time_limit_s)
        refused = None
    except ValueError as exc:
        exact, refused = None, str(exc)
    return ExactComparison(int(adcode), int(sel.sum()), len(cands), greedy, exact, refused)


# ---------------------------------------------------------------------------------------------
# the week view

def week_tables(model: CoverageModel, query: PlannerQuery, normal_monday: dt.date, holiday_day: dt.date | None):
    """(normal week, holiday week or None): 7 × 24 shares in percent, with the dates in ``attrs``."""
    def one(day):
        frame = model.week(query.radius_m, query.amenities, day, query.mode)
        pct = frame * 100.0
        pct.attrs = frame.attrs
        return pct

    return one(normal_monday), (one(holiday_day) if holiday_day else None)
