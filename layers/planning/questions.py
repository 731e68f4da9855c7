"""The planner's questions, each answered once for the page, the API and every report.

A :class:`CoverageQuestion` is what a planner asks (reach, facilities, time, distance mode,
hexagon size); the functions here answer what follows from it: where to add ``k`` stations,
how the greedy answer compares with the optimum in one district, what a what-if changes.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from layers.common.amenities import parse_amenities
from layers.common.calendar import check_moment
from layers.common.errors import LimitError, QuestionError
from layers.common.geodesy import MAX_RADIUS_M
from layers.planning.coverage import DEFAULT_H3_RES, MODES, CoverageModel, CoverageResult
from layers.planning.naming import coords_text
from layers.planning.siting import MAX_K, SitingResult, exact_mclp, greedy_mclp

#: The most hexagons one answer lists (a JSON answer or a gap map of 100,000 hexagons is tens of MB).
MAX_HEXAGONS = 100_000
#: H3 resolutions a question may ask for (5 ≈ 250 km² … 10 ≈ 0.015 km² per hexagon).
H3_RES_RANGE = (5, 10)


@dataclass(frozen=True)
class CoverageQuestion:
    """One coverage question, checked.

    Attributes
    ----------
    radius_m : float
        Reach in metres: great-circle, or riding distance in ``mode="network"``.
    amenities : tuple of str
        Facilities a station must all have to count (vocabulary order).
    at : datetime or None
        Only stations open then count (aware, Asia/Shanghai); None: every station, any time.
    mode : {"straight", "network"}
    h3_res : int
        Resolution of the hexagons the answer is broken down into.

    Raises
    ------
    QuestionError
        Naming the field that is out of range or unknown.
    """

    radius_m: float
    amenities: tuple[str, ...] = ()
    at: dt.datetime | None = None
    mode: str = "straight"
    h3_res: int = DEFAULT_H3_RES

    def __post_init__(self):
        try:
            radius = float(self.radius_m)
        except (TypeError, ValueError):
            raise QuestionError("radius_m", f"got {self.radius_m!r}; expected a number of metres") from None
        if not (np.isfinite(radius) and 0 < radius <= MAX_RADIUS_M):
            raise QuestionError("radius_m", f"got {self.radius_m!r}; expected metres in (0, {MAX_RADIUS_M:,.0f}]")
        try:
            amenities = parse_amenities(self.amenities)
        except ValueError as exc:
            raise QuestionError("amenities", str(exc)) from None
        at = None if self.at is None else check_moment(self.at)
        if self.mode not in MODES:
            raise QuestionError("mode", f"got {self.mode!r}; expected one of {', '.join(MODES)}")
        lo, hi = H3_RES_RANGE
        if isinstance(self.h3_res, bool) or not isinstance(self.h3_res, (int, np.integer)) \
                or not lo <= self.h3_res <= hi:
            raise QuestionError("h3_res", f"got {self.h3_res!r}; expected an integer from {lo} to {hi}")
        for name, value in (("radius_m", radius), ("amenities", amenities), ("at", at), ("h3_res", int(self.h3_res))):
            object.__setattr__(self, name, value)

    def coverage_args(self) -> dict:
        """Keyword arguments of :meth:`CoverageModel.coverage` for this question."""
        return {"radius_m": self.radius_m, "amenities": self.amenities, "at": self.at, "mode": self.mode,
                "h3_res": self.h3_res}


def coverage(model: CoverageModel, question: CoverageQuestion, extra_stations=None,
             removed_station_ids=None) -> CoverageResult:
    """The share of demand within reach of a station that counts (see :meth:`CoverageModel.coverage`).

    Raises
    ------
    LimitError
        When the answer would list more than :data:`MAX_HEXAGONS` hexagons (a fine resolution over
        a large upload): decided from the hexagons before the coverage is computed.
    """
    check_hexagons(model, question.h3_res)
    return model.coverage(**question.coverage_args(), extra_stations=extra_stations or None,
                          removed_station_ids=removed_station_ids or None)


def check_hexagons(model: CoverageModel, h3_res: int) -> int:
    """The number of hexagons the model's demand lies in at ``h3_res``; a :class:`LimitError` above
    :data:`MAX_HEXAGONS` (decided from the hexagons alone, before any coverage is computed)."""
    cells = model.hexagon_count(h3_res)
    if cells > MAX_HEXAGONS:
        raise LimitError("h3_res", f"at resolution {h3_res} this demand lies in {cells:,} hexagons; an answer "
                                   f"lists at most {MAX_HEXAGONS:,} (choose a coarser resolution)", MAX_HEXAGONS, cells)
    return cells


def check_k(k) -> int:
    """``k`` new stations: an integer from 1 to :data:`layers.planning.siting.MAX_K`."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
        raise QuestionError("k", f"got {k!r}; expected an integer from 1 to {MAX_K}")
    return int(k)


def recommend_sites(model: CoverageModel, candidates: pd.DataFrame, question: CoverageQuestion, k: int,
                    method: str = "greedy", time_limit_s: float | None = None) -> SitingResult:
    """Sites for ``k`` new stations on top of the existing stations that count: the one answer to
    "recommend k sites for this question", which the page, the API and every report ask.

    The existing stations' coverage follows the whole question: its radius, amenities, time and
    distance mode. A candidate's reach is the straight-line radius, as in
    :func:`layers.planning.siting.greedy_mclp` (a new station has no network distances yet).

    Parameters
    ----------
    candidates : GeoDataFrame
        Candidate sites with ``id`` and Point geometries (WGS-84).
    method : {"greedy", "exact"}
        ``exact`` solves to optimality and raises ValueError when the problem is too large.
    """
    existing = model.covered_mask(question.radius_m, question.amenities, question.at, question.mode)
    args = (model.lon, model.lat, model.weight, candidates.geometry.x.to_numpy(),
            candidates.geometry.y.to_numpy(), existing, question.radius_m, check_k(k))
    ids = candidates["id"].to_numpy(dtype=object)
    if method == "exact":
        return name_picks(exact_mclp(*args, candidate_ids=ids, time_limit_s=time_limit_s), candidates)
    if method != "greedy":
        raise QuestionError("method", f"got {method!r}; expected greedy or exact")
    return name_picks(greedy_mclp(*args, candidate_ids=ids), candidates)


#: What :func:`name_picks` adds to each pick.
PICK_NAME_COLUMNS = ["name", "name_en", "coords", "adcode"]


def name_picks(result: SitingResult, candidates: pd.DataFrame) -> SitingResult:
    """``result`` with each pick named: ``name`` and ``name_en`` (the candidate's ``label`` and ``label_en``,
    :meth:`layers.planning.naming.SiteNamer.label_candidates`: district and nearest named place, street or
    compound; the candidate's own name or id when it has no label), ``coords`` (``"lat, lon"`` to 6 decimals)
    and ``adcode`` (its district). ``picks["candidate"]`` are positions in ``candidates``; the result is
    changed in place and returned."""
    picks = result.picks
    pos = picks["candidate"].to_numpy(dtype=np.int64)

    def column(name):
        if name not in candidates or len(pos) == 0:
            return [None] * len(pos)
        return [v if isinstance(v, str) and v else None for v in candidates[name].to_numpy(dtype=object)[pos]]

    own = column("name")
    ids = [c or (p if isinstance(p, str) else None) for c, p in zip(column("id"), picks["id"])]
    fallback = [o or i for o, i in zip(own, ids)]
    picks["name"] = [v or f for v, f in zip(column("label"), fallback)]
    picks["name_en"] = [v or f for v, f in zip(column("label_en"), fallback)]
    picks["coords"] = [coords_text(la, lo) for la, lo in zip(picks["lat"], picks["lon"])]
    if "adcode" in candidates and len(pos):
        picks["adcode"] = candidates["adcode"].to_numpy(dtype=np.int64)[pos]
    else:
        picks["adcode"] = pd.Series([None] * len(pos), dtype=object)
    return result


@dataclass
class ExactComparison:
    """Greedy and exact MCLP on one district's demand and candidates."""

    adcode: int
    points: int
    candidates: int
    greedy: SitingResult
    exact: SitingResult | None
    refused: str | None

    @property
    def ratio(self) -> float | None:
        """The greedy objective as a share of the optimum (None when the exact solve was refused)."""
        if self.exact is None:
            return None
        return self.greedy.objective / self.exact.objective if self.exact.objective > 0 else 1.0


def compare_in_district(model: CoverageModel, candidates: pd.DataFrame, question: CoverageQuestion, k: int,
                        adcode: int, max_cells: int, time_limit_s: float) -> ExactComparison:
    """Greedy against exact MCLP on a reduced problem: the demand and candidate sites of one district.

    Raises
    ------
    QuestionError
        For a district the model does not know.
    """
    try:
        sel = model.in_district(adcode)
    except ValueError as exc:
        raise QuestionError("adcode", str(exc)) from None
    cands = candidates[candidates["adcode"] == int(adcode)]
    existing = model.covered_mask(question.radius_m, question.amenities, question.at, question.mode)[sel]
    args = (model.lon[sel], model.lat[sel], model.weight[sel], cands.geometry.x.to_numpy(),
            cands.geometry.y.to_numpy(), existing, question.radius_m, check_k(k))
    ids = cands["id"].to_numpy()
    cands = cands.reset_index(drop=True)
    greedy = name_picks(greedy_mclp(*args, candidate_ids=ids), cands)
    try:
        exact = name_picks(exact_mclp(*args, candidate_ids=ids, max_cells=max_cells, time_limit_s=time_limit_s),
                           cands)
        refused = None
    except ValueError as exc:
        exact, refused = None, str(exc)
    return ExactComparison(int(adcode), int(sel.sum()), len(cands), greedy, exact, refused)


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
        """adcode → change of weighted share, a fraction (0.012 is 1.2 percentage points); NaN for a district
        the what-if leaves untouched (its covered demand is the same) and for one without demand."""
        a = self.base.districts.set_index("adcode")
        b = self.changed.districts.set_index("adcode")
        delta = b["share"] - a["share"]
        tolerance = 1e-9 * np.maximum(a["demand"].to_numpy(dtype=float), 1.0)
        untouched = np.abs(b["covered"].to_numpy(dtype=float) - a["covered"].to_numpy(dtype=float)) <= tolerance
        return delta.where(~untouched)


#: Hypothetical stations one what-if may add (the page's limit too).
MAX_HYPOTHETICAL = 30
#: Existing stations one what-if may remove.
MAX_REMOVED = 500


def parse_what_if(added_text: str | None, removed_text: str | None, station_ids, outline) -> tuple[list, list]:
    """A what-if as a report's query gives it: ``added`` ``"lon,lat;lon,lat"`` (WGS-84, inside Chengdu, at most
    :data:`MAX_HYPOTHETICAL`) and ``removed`` ``"id,id"`` (known station ids, at most :data:`MAX_REMOVED`).

    Returns
    -------
    (added, removed)
        ``[[lon, lat], …]`` rounded to 6 decimals, and the sorted distinct ids.

    Raises
    ------
    QuestionError
        Naming ``added`` or ``removed``.
    """
    added: list[list[float]] = []
    for part in (added_text or "").split(";"):
        if not part.strip():
            continue
        pieces = part.split(",")
        try:
            lon, lat = (float(v) for v in pieces)
        except ValueError:
            raise QuestionError("added", f"{part.strip()[:40]!r} is not lon,lat; write points as "
                                         "lon,lat;lon,lat in WGS-84") from None
        if not (np.isfinite(lon) and np.isfinite(lat)) or not shapely.contains_xy(outline, lon, lat):
            raise QuestionError("added", f"({lon}, {lat}) lies outside Chengdu; hypothetical stations must lie "
                                         "inside it (lon,lat in WGS-84)")
        added.append([round(lon, 6), round(lat, 6)])
        if len(added) > MAX_HYPOTHETICAL:
            raise QuestionError("added", f"at most {MAX_HYPOTHETICAL} hypothetical stations")
    known = {str(s) for s in station_ids}
    removed = sorted({v.strip() for v in (removed_text or "").split(",") if v.strip()})
    unknown = [v for v in removed if v not in known]
    if unknown:
        raise QuestionError("removed", f"no station with id {unknown[0][:40]!r}")
    if len(removed) > MAX_REMOVED:
        raise QuestionError("removed", f"at most {MAX_REMOVED} stations removed")
    return added, removed


def what_if_params(added, removed) -> dict:
    """The report query parameters of a what-if (the inverse of :func:`parse_what_if`): ``added``
    ``"lon,lat;lon,lat"`` (6 decimals) and ``removed`` ``"id,id"``, each left out when empty."""
    params = {}
    if added:
        params["added"] = ";".join(f"{float(lon):.6f},{float(lat):.6f}" for lon, lat in added)
    if removed:
        params["removed"] = ",".join(sorted({str(s) for s in removed}))
    return params


def what_if(model: CoverageModel, question: CoverageQuestion, added, removed) -> WhatIf | None:
    """The coverage change of adding stations at ``added`` [(lon, lat)] and removing ``removed`` ids
    (None when it changes nothing)."""
    if not added and not removed:
        return None
    return WhatIf(coverage(model, question), coverage(model, question, added, removed))
