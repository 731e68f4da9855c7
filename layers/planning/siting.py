"""Where to add stations: candidate sites, greedy and exact maximal covering (MCLP), existing stations kept."""
from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from layers.common.districts import district_index
from layers.common.errors import LimitError
from layers.common.geodesy import candidate_counts, pairs_within
from mapdata.crs import METRIC_EPSG, check_wgs84

SOURCES = ("osm_place", "compound", "grid", "planner")
MAX_K = 100
#: Candidate × demand pairs one siting request may examine (about three times those it keeps).
SITING_CANDIDATE_BUDGET = 20_000_000
#: The exact solve is refused above this many cells of the reduced coverage matrix (distinct
#: demand patterns × useful candidates). spopt builds its PuLP model cell by cell, about 13 µs a
#: cell on the reference machine (docs/GUIDE §4: 10k × 1k took 129 s to build), so the limit
#: keeps a solve near half a minute; the greedy answers any size.
EXACT_MAX_CELLS = 2_500_000


@dataclass
class SitingResult:
    """New stations in the order picked, with what each adds.

    Attributes
    ----------
    picks : DataFrame
        One row per new station: ``rank`` (1 …), ``candidate`` (position in the candidate
        arrays), ``id`` (the candidate id when given), ``lon``, ``lat``, ``gain`` (weighted
        demand newly covered by this pick), ``gain_points``, and cumulative ``covered``,
        ``share``, ``points_covered``, ``point_share`` (existing stations included).
    objective : float
        Weighted demand covered by existing and new stations together.
    points_covered : int
    baseline, baseline_points : float, int
        What the existing stations cover on their own.
    total_demand, total_points : float, int
    k : int
        Stations asked for; ``len(picks)`` is smaller when no further site adds demand.
    method : {"greedy", "exact"}
    seconds : float
        Wall time of the solve (pair search included).
    """

    picks: pd.DataFrame
    objective: float
    points_covered: int
    baseline: float
    baseline_points: int
    total_demand: float
    total_points: int
    k: int
    method: str
    seconds: float

    @property
    def share(self) -> float | None:
        return self.objective / self.total_demand if self.total_demand > 0 else None

    @property
    def added(self) -> float:
        """Weighted demand the new stations add."""
        return self.objective - self.baseline

    def to_dict(self) -> dict:
        picks = self.picks.astype(object).where(self.picks.notna(), None).to_dict("records")
        for row in picks:
            for key, value in row.items():
                if isinstance(value, np.generic):
                    row[key] = value.item()
        return {"method": self.method, "k": self.k, "objective": self.objective, "share": self.share,
                "added": self.added, "points_covered": self.points_covered, "baseline": self.baseline,
                "baseline_points": self.baseline_points, "total_demand": self.total_demand,
                "total_points": self.total_points, "seconds": self.seconds, "picks": picks}


# ---------------------------------------------------------------------------------------------
# candidate sites

def _points_of(gdf: gpd.GeoDataFrame) -> np.ndarray:
    geoms = gdf.geometry.values.to_numpy()
    # a place mapped as an area stands for itself at a point guaranteed inside it
    return np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))


def _names(gdf: gpd.GeoDataFrame | None, n: int) -> np.ndarray:
    if gdf is None or "name" not in gdf:
        return np.full(n, None, dtype=object)
    names = gdf["name"].astype(object).to_numpy()
    return np.array([v if isinstance(v, str) and v.strip() else None for v in names], dtype=object)


def candidate_sites(districts: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame | None = None,
                    osm_places: gpd.GeoDataFrame | None = None, spacing_m: float | None = 1000.0,
                    planner_sites: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Where a new station could go.

    Real places where they are mapped, a regular grid where they are not:

    * ``osm_place``: each place of ``osm_places`` (shops, restaurants, malls …; an area at a
      point inside it);
    * ``compound``: each residential compound of ``compounds``, at a point inside it;
    * ``grid``: a square grid of ``spacing_m`` in UTM 48N over Chengdu, leaving out the area the
      places and compounds describe (their convex hull), so the centre is not counted twice;
    * ``planner``: each point of ``planner_sites`` (the planner's own list).

    Parameters
    ----------
    districts : GeoDataFrame
        The ``districts`` layer, EPSG:4326; its union is where candidates may lie.
    compounds, osm_places, planner_sites : GeoDataFrame, optional
        EPSG:4326; ``name`` is used when present. Sites outside Chengdu are left out.
    spacing_m : float or None
        Grid spacing in metres; None for no grid (e.g. only the planner's list).

    Returns
    -------
    GeoDataFrame
        ``id`` (``cs-000001`` …), ``source``, ``name`` (None for grid points), ``adcode`` and
        Point ``geometry`` in EPSG:4326, places first, then compounds, grid, planner sites.

    Raises
    ------
    ValueError
        For a layer not in EPSG:4326 or a spacing under 50 m.
    """
    check_wgs84(districts, "districts")
    outline = shapely.union_all(districts.geometry.values.to_numpy())
    shapely.prepare(outline)
    parts: list[tuple[str, np.ndarray, np.ndarray]] = []
    real = []
    for source, layer in (("osm_place", osm_places), ("compound", compounds)):
        if layer is None or len(layer) == 0:
            continue
        check_wgs84(layer, source)
        pts = _points_of(layer)
        parts.append((source, pts, _names(layer, len(layer))))
        real.append(pts)
    if spacing_m is not None:
        spacing = float(spacing_m)
        if not (np.isfinite(spacing) and spacing >= 50):
            raise ValueError(f"spacing_m must be at least 50 metres, got {spacing_m!r}")
        metric = gpd.GeoSeries([outline], crs=4326).to_crs(METRIC_EPSG).iloc[0]
        x0, y0, x1, y1 = metric.bounds
        xs = np.arange(x0 + spacing / 2, x1, spacing)
        ys = np.arange(y0 + spacing / 2, y1, spacing)
        gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
        shapely.prepare(metric)
        inside = shapely.contains_xy(metric, gx, gy)
        if real:
            centre = shapely.convex_hull(shapely.multipoints(np.concatenate(real)))
            centre = gpd.GeoSeries([centre], crs=4326).to_crs(METRIC_EPSG).iloc[0]
            inside &= ~shapely.contains_xy(centre, gx, gy)
        grid = gpd.GeoSeries(gpd.points_from_xy(gx[inside], gy[inside]), crs=METRIC_EPSG).to_crs(4326)
        pts = grid.values.to_numpy()
        parts.append(("grid", pts, np.full(len(pts), None, dtype=object)))
    if planner_sites is not None and len(planner_sites):
        check_wgs84(planner_sites, "planner_sites")
        parts.append(("planner", _points_of(planner_sites), _names(planner_sites, len(planner_sites))))

    if parts:
        source = np.concatenate([np.full(len(p[1]), p[0], dtype=object) for p in parts])
        geoms = np.concatenate([p[1] for p in parts])
        names = np.concatenate([p[2] for p in parts])
    else:
        source, geoms, names = (np.empty(0, dtype=object),) * 3
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    keep = shapely.contains_xy(outline, x, y) if len(geoms) else np.zeros(0, dtype=bool)
    source, geoms, names, x, y = source[keep], geoms[keep], names[keep], x[keep], y[keep]
    pos = district_index(x, y, districts)
    adcode = districts["adcode"].to_numpy(np.int64)[pos] if len(pos) else np.empty(0, np.int64)
    return gpd.GeoDataFrame({
        "id": [f"cs-{i:06d}" for i in range(1, len(geoms) + 1)],
        "source": source,
        "name": names,
        "adcode": adcode,
    }, geometry=list(geoms), crs="EPSG:4326")


# ---------------------------------------------------------------------------------------------
# the problem, shared by the greedy and the exact solve

@dataclass
class _Problem:
    weight: np.ndarray          # of every demand point
    uncovered: np.ndarray       # positions of the points the existing stations leave uncovered
    matrix: sparse.csr_matrix   # candidates × uncovered points, 1 where within the radius
    cand_lon: np.ndarray
    cand_lat: np.ndarray
    ids: np.ndarray | None
    baseline: float
    baseline_points: int
    k: int


def _problem(demand_lon, demand_lat, weight, cand_lon, cand_lat, existing_covered_mask, radius_m, k,
             candidate_ids) -> _Problem:
    dlon = np.asarray(demand_lon, dtype=float).reshape(-1)
    dlat = np.asarray(demand_lat, dtype=float).reshape(-1)
    n = len(dlon)
    w = np.ones(n) if weight is None else np.asarray(weight, dtype=float).reshape(-1)
    if len(dlat) != n or len(w) != n:
        raise ValueError(f"demand arrays differ in length: {n} lon, {len(dlat)} lat, {len(w)} weights")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("demand weights must be finite and not negative")
    clon = np.asarray(cand_lon, dtype=float).reshape(-1)
    clat = np.asarray(cand_lat, dtype=float).reshape(-1)
    if len(clon) != len(clat):
        raise ValueError(f"{len(clon)} candidate longitudes for {len(clat)} latitudes")
    if existing_covered_mask is None:
        existing = np.zeros(n, dtype=bool)
    else:
        existing = np.asarray(existing_covered_mask, dtype=bool).reshape(-1)
        if len(existing) != n:
            raise ValueError(f"existing_covered_mask has {len(existing)} values for {n} demand points")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
        raise ValueError(f"k must be an integer from 1 to {MAX_K}, got {k!r}")
    ids = None
    if candidate_ids is not None:
        ids = np.asarray(candidate_ids, dtype=object).reshape(-1)
        if len(ids) != len(clon):
            raise ValueError(f"{len(ids)} candidate ids for {len(clon)} candidates")
    # Demand the existing stations already reach can gain nothing: dropping it is exactly what
    # keeping those stations as required facilities means, and shrinks the problem.
    uncovered = np.flatnonzero(~existing)
    examined = int(candidate_counts(dlon[uncovered], dlat[uncovered], clon, clat, radius_m).sum())
    if examined > SITING_CANDIDATE_BUDGET:
        raise LimitError("radius_m", f"at {radius_m:,.0f} m the {len(uncovered):,} uncovered demand points and "
                                     f"{len(clon):,} candidate sites make about {examined:,} pairs to examine; one "
                                     f"request may examine {SITING_CANDIDATE_BUDGET:,} (use a smaller radius or "
                                     "fewer candidates)", SITING_CANDIDATE_BUDGET, examined)
    di, cj, _ = pairs_within(dlon[uncovered], dlat[uncovered], clon, clat, radius_m)
    matrix = sparse.csr_matrix((np.ones(len(di), dtype=np.float64), (cj, di)), shape=(len(clon), len(uncovered)))
    return _Problem(w, uncovered, matrix, clon, clat, ids, float(w[existing].sum()), int(existing.sum()), int(k))


def _pattern_groups(by_demand: sparse.csr_matrix, reached: np.ndarray) -> tuple[np.ndarray, int]:
    """Which points are reached by exactly the same candidates: a group number per reached row, numbered
    in order of first appearance, and the number of groups.

    Each row's candidate set is hashed twice (sums of random 64-bit keys, wrapping) with its length, all
    vectorised: a Python loop over rows took seconds before a too-large problem could be refused. Two
    different sets share all three only with probability about 2**-128 per pair.
    """
    if len(reached) == 0:
        return np.empty(0, dtype=np.int64), 0
    rng = np.random.default_rng(0x5EED)
    keys = rng.integers(0, 2**63, size=(2, by_demand.shape[1]), dtype=np.uint64)
    starts = by_demand.indptr[reached]
    lengths = np.diff(by_demand.indptr)[reached]
    h1 = np.add.reduceat(keys[0][by_demand.indices], starts)
    h2 = np.add.reduceat(keys[1][by_demand.indices], starts)
    signature = np.stack([h1, h2, lengths.astype(np.uint64)], axis=1)
    _, first, inverse = np.unique(signature, axis=0, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)], len(first)


def _result(problem: _Problem, chosen: list[int], method: str, started: float) -> SitingResult:
    """Picks in the order given, each with its marginal gain on top of the ones before."""
    w_u = problem.weight[problem.uncovered]
    covered_u = np.zeros(len(w_u), dtype=bool)
    total, n = float(problem.weight.sum()), len(problem.weight)
    got, got_points = problem.baseline, problem.baseline_points
    rows = []
    m = problem.matrix
    for rank, j in enumerate(chosen, start=1):
        idx = m.indices[m.indptr[j]:m.indptr[j + 1]]
        new = idx[~covered_u[idx]]
        covered_u[new] = True
        gain, gain_points = float(w_u[new].sum()), len(new)
        got += gain
        got_points += gain_points
        rows.append({"rank": rank, "candidate": int(j), "id": None if problem.ids is None else problem.ids[j],
                     "lon": float(problem.cand_lon[j]), "lat": float(problem.cand_lat[j]),
                     "gain": gain, "gain_points": gain_points, "covered": got,
                     "share": got / total if total > 0 else np.nan, "points_covered": got_points,
                     "point_share": got_points / n if n else np.nan})
    columns = ["rank", "candidate", "id", "lon", "lat", "gain", "gain_points", "covered", "share",
               "points_covered", "point_share"]
    picks = pd.DataFrame(rows, columns=columns)
    return SitingResult(picks, got, got_points, problem.baseline, problem.baseline_points, total, n,
                        problem.k, method, time.perf_counter() - started)


def _lazy_greedy(matrix: sparse.csr_matrix, w_u: np.ndarray, k: int) -> list[int]:
    """Lazy greedy maximal coverage: the stale gain of a site bounds its fresh gain (coverage is
    submodular), so a site re-measured and still on top of the heap is the true best pick."""
    covered = np.zeros(len(w_u), dtype=bool)
    gains = np.asarray(matrix @ w_u).reshape(-1)
    # ties go to the lower candidate position, which makes the answer deterministic
    heap = [(-g, j, 0) for j, g in enumerate(gains.tolist()) if g > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    indptr, indices = matrix.indptr, matrix.indices
    while heap and len(chosen) < k:
        neg, j, stamp = heapq.heappop(heap)
        if stamp == len(chosen):
            chosen.append(j)
            idx = indices[indptr[j]:indptr[j + 1]]
            covered[idx] = True
            continue
        idx = indices[indptr[j]:indptr[j + 1]]
        fresh = float(w_u[idx[~covered[idx]]].sum())
        if fresh > 0:
            heapq.heappush(heap, (-fresh, j, len(chosen)))
    return chosen


def _interchange(matrix: sparse.csr_matrix, w_u: np.ndarray, chosen: list[int], max_passes: int) -> list[int]:
    """Improve a set of sites by single swaps (Teitz and Bart's vertex substitution).

    Each chosen site in turn is taken out and the candidate that then adds the most is put in,
    when that adds more than the site covered alone. One pass costs one sparse product per site;
    passes stop when none swaps. The objective never decreases.
    """
    if not chosen:
        return chosen
    chosen = list(chosen)
    by_site = matrix
    count = np.asarray(by_site[chosen].sum(axis=0)).reshape(-1)  # chosen sites reaching each point
    indptr, indices = by_site.indptr, by_site.indices
    tolerance = 1e-12 * max(float(w_u.sum()), 1.0)
    for _ in range(max_passes):
        swapped = False
        for slot in range(len(chosen)):
            j = chosen[slot]
            idx = indices[indptr[j]:indptr[j + 1]]
            count[idx] -= 1
            residual = np.where(count == 0, w_u, 0.0)
            loss = float(residual[idx].sum())
            gains = by_site @ residual
            best = int(np.argmax(gains))
            if gains[best] > loss + tolerance:
                chosen[slot] = best
                swapped = True
                j = best
            count[indices[indptr[j]:indptr[j + 1]]] += 1
        if not swapped:
            break
    return chosen


def _greedy_order(matrix: sparse.csr_matrix, w_u: np.ndarray, chosen) -> list[int]:
    """The sites of ``chosen`` ordered greedily by marginal gain; those adding nothing left out."""
    chosen = np.asarray(chosen, dtype=np.int64)
    if len(chosen) == 0:
        return []
    order = _lazy_greedy(matrix[chosen], w_u, len(chosen))
    return [int(chosen[i]) for i in order]


def greedy_mclp(demand_lon, demand_lat, weight, cand_lon, cand_lat, existing_covered_mask, radius_m: float,
                k: int, candidate_ids=None, interchange_passes: int = 3) -> SitingResult:
    """Recommend up to ``k`` new stations that add the most covered demand, keeping every existing one.

    Lazy greedy on a sparse candidate × demand coverage matrix (pairs within ``radius_m``
    great-circle metres, ``<=`` as in :mod:`layers.planning.coverage`), then up to
    ``interchange_passes`` passes of single swaps (:func:`_interchange`), then the final set
    ordered greedily so that each pick's gain is what it adds to the picks before it. Demand the
    existing stations already cover is removed first: that is what keeping them as required
    facilities means. Plain greedy guarantees 1 - 1/e of the optimum and reached 97 % of it on
    small clustered instances; the swaps bring those to the optimum or within a fraction of a
    percent (tests/test_siting.py, bench/bench_siting.py).

    When fewer than ``k`` sites add any weighted demand, the result stops there: a station that
    covers nothing new is not recommended, and ``len(result.picks) < k`` tells the planner so.

    Parameters
    ----------
    demand_lon, demand_lat : array_like of float
        WGS-84 degrees.
    weight : array_like of float or None
        Non-negative demand weights; None for 1 each.
    cand_lon, cand_lat : array_like of float
        WGS-84 degrees of the candidate sites.
    existing_covered_mask : array_like of bool or None
        Per demand point, whether an existing station already covers it (e.g.
        :meth:`layers.planning.coverage.CoverageModel.covered_mask`).
    radius_m : float
    k : int
        From 1 to :data:`MAX_K`.
    candidate_ids : array_like, optional
        Echoed in ``picks["id"]``.
    interchange_passes : int
        0 for the plain greedy.

    Returns
    -------
    SitingResult
        ``method="greedy"``; gains are non-increasing.
    """
    started = time.perf_counter()
    problem = _problem(demand_lon, demand_lat, weight, cand_lon, cand_lat, existing_covered_mask, radius_m, k,
                       candidate_ids)
    w_u = problem.weight[problem.uncovered]
    chosen = _lazy_greedy(problem.matrix, w_u, problem.k)
    if interchange_passes > 0:
        chosen = _greedy_order(problem.matrix, w_u, _interchange(problem.matrix, w_u, chosen, interchange_passes))
    return _result(problem, chosen, "greedy", started)


def exact_mclp(demand_lon, demand_lat, weight, cand_lon, cand_lat, existing_covered_mask, radius_m: float,
               k: int, candidate_ids=None, max_cells: int = EXACT_MAX_CELLS, time_limit_s: float | None = 120.0
               ) -> SitingResult:
    """The optimal ``k`` new stations, by spopt's MCLP solved with CBC.

    Before handing the problem to spopt it is reduced without changing its optimum: demand the
    existing stations cover is dropped (the same optimum as spopt's ``predefined_facilities_arr``
    with the stations as fixed columns, and a smaller model), so is demand no candidate reaches;
    points reached by exactly the same candidates are merged, their weights summed; candidates
    that reach nothing are dropped. The picks are then ordered greedily by marginal gain, and, as
    in :func:`greedy_mclp`, sites that add no weighted demand are left out.

    Parameters
    ----------
    demand_lon, demand_lat, weight, cand_lon, cand_lat, existing_covered_mask, radius_m, k, candidate_ids
        As in :func:`greedy_mclp`.
    max_cells : int
        Largest reduced matrix (distinct demand patterns × useful candidates) accepted.
    time_limit_s : float or None
        CBC's time limit; a solve stopped by it is refused rather than reported as optimal.

    Returns
    -------
    SitingResult
        ``method="exact"``.

    Raises
    ------
    ValueError
        When the reduced problem exceeds ``max_cells`` (the message gives its size and
        suggests the greedy), or the solver does not prove optimality.
    """
    started = time.perf_counter()
    problem = _problem(demand_lon, demand_lat, weight, cand_lon, cand_lat, existing_covered_mask, radius_m, k,
                       candidate_ids)
    w_u = problem.weight[problem.uncovered]
    by_demand = problem.matrix.T.tocsr()
    by_demand.sort_indices()
    reached = np.flatnonzero(np.diff(by_demand.indptr) > 0)
    group, n_groups = _pattern_groups(by_demand, reached)
    useful = np.flatnonzero(np.diff(problem.matrix.indptr) > 0)
    cells = n_groups * len(useful)
    if cells > max_cells:
        raise LimitError("method", f"the exact solve is limited to {max_cells:,} cells; this problem has "
                         f"{n_groups:,} distinct demand patterns × {len(useful):,} candidates = {cells:,}: "
                         "use method=greedy, a smaller radius or fewer candidates", max_cells, cells)
    if n_groups == 0 or len(useful) == 0:
        return _result(problem, [], "exact", started)
    # imported only now: spopt and PuLP take about two seconds to import, which a refusal must not pay
    import pulp
    from spopt.locate import MCLP

    group_weight = np.bincount(group, weights=w_u[reached], minlength=n_groups)
    # 0/1 incidence of the reduced problem, written as a cost matrix (0 = reached, 2 = not) for
    # spopt's service radius of 1
    first = np.unique(group, return_index=True)[1]
    incidence = by_demand[reached[first]][:, useful].toarray() > 0
    cost = np.where(incidence, 0.0, 2.0)
    p = min(problem.k, len(useful))
    model = MCLP.from_cost_matrix(cost, group_weight, service_radius=1.0, p_facilities=p, name="nuanxin_mclp")
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s)
    model.solve(solver, results=False)
    status = pulp.LpStatus[model.problem.status]
    if status != "Optimal" or model.problem.sol_status != pulp.LpSolutionOptimal:
        raise ValueError(f"the exact solve did not prove optimality (status {status}); use the greedy answer")
    chosen_cols = [j for j, var in enumerate(model.fac_vars) if var.value() is not None and var.value() > 0.5]
    chosen = useful[chosen_cols]
    # order the optimal set by marginal gain so each pick reads like the greedy's
    return _result(problem, _greedy_order(problem.matrix, w_u, chosen), "exact", started)
