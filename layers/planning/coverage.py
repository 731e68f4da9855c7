"""Coverage of rider demand by open stations: share within reach, per district, per H3 hexagon, per hour of a week."""
from __future__ import annotations

import datetime as dt
import functools
import threading
from dataclasses import dataclass, field

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from layers.common.amenities import amenity_mask, masks_for, parse_amenities
from layers.common.caching import BoundedCache
from layers.common.calendar import as_local, calendar_generation, check_day, day_kind, holiday_name, to_minute
from layers.common.districts import district_index
from layers.common.errors import LimitError
from layers.common.geodesy import (
    as_float_array,
    candidate_counts,
    check_lonlat,
    check_radius,
    chord_for,
    haversine_m,
    pairs_within,
    unit_vectors,
)
from layers.common.hours import HoursTable
from layers.common.network import RoadNetwork
from mapdata.crs import check_wgs84

MODES = ("straight", "network")
#: The radius the pair table is built for unless asked otherwise: 500 m and 1 km fit with room for a
#: custom radius; a larger radius extends the table once (see :meth:`CoverageModel.coverage`).
DEFAULT_MAX_RADIUS_M = 2_000.0
DEFAULT_H3_RES = 8
#: The demand-station pairs the table of one model may examine (about three times the pairs it keeps):
#: 40 M keep its build near a second and its memory a few hundred MB whatever the upload.
PAIR_CANDIDATE_BUDGET = 40_000_000
MIN_TABLE_RADIUS_M = 100.0
#: Beyond the table each covered-or-not answer is one KD-tree lookup per point; one request may make this many.
FAR_LOOKUP_BUDGET = 10_000_000
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_OPEN_CACHE = 512  # two weeks of hours (336) fit: the week view and its holiday comparison


@dataclass
class CoverageResult:
    """The answer to one coverage question.

    Attributes
    ----------
    overall : dict
        ``demand`` (total weight), ``covered`` (weight within reach), ``share`` (covered /
        demand, None without demand), ``points``, ``points_covered``, ``point_share``.
    districts : DataFrame
        One row per district (all of them, also those without demand): ``adcode``, ``name``,
        ``name_en``, ``demand``, ``covered``, ``share``, ``points``, ``points_covered``,
        ``point_share``. Sums equal :attr:`overall`.
    hexagons : DataFrame
        One row per H3 cell holding demand: ``h3``, ``demand``, ``covered``, ``uncovered``,
        ``points``, ``points_covered``. Sums equal :attr:`overall`.
    covered : numpy.ndarray of bool
        Per demand point, in the model's order.
    radius_m, mode, at, amenities, h3_res
        The question.
    open_stations : int
        Existing stations counted (amenities, opening hours and removals applied); a hypothetical
        station is not a station and is not among them.
    hypothetical_stations : int
        Hypothetical stations added to the question (``extra_stations``), counted apart.
    network_points, fallback_points : int
        In ``mode="network"``: points measured on the road network, and points measured in a
        straight line because the network does not reach them or one of their stations; both 0
        in ``mode="straight"``.
    """

    overall: dict
    districts: pd.DataFrame
    hexagons: pd.DataFrame
    covered: np.ndarray
    radius_m: float
    mode: str
    at: dt.datetime | None
    amenities: tuple[str, ...]
    h3_res: int
    open_stations: int
    network_points: int = 0
    fallback_points: int = 0
    hypothetical_stations: int = 0

    def to_dict(self) -> dict:
        """The API's JSON shape: ``overall``, ``districts``, ``hexagons`` and the ``query``; the rows hold Python
        scalars only, with None for a missing or infinite number."""
        def records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
            # column by column (tolist gives Python scalars), a missing or infinite number as None (JSON has
            # neither): thousands of hexagons' rows in a few milliseconds
            values = []
            for column in columns:
                series = frame[column]
                items = series.tolist()
                missing = ~np.isfinite(series.to_numpy(dtype=float)) if series.dtype.kind == "f" \
                    else series.isna().to_numpy()
                if missing.any():
                    items = [None if gone else v for v, gone in zip(items, missing)]
                values.append(items)
            return [dict(zip(columns, row)) for row in zip(*values)]

        return {
            "overall": dict(self.overall),
            "districts": records(self.districts, ["adcode", "name", "name_en", "demand", "covered", "share",
                                                  "points", "points_covered", "point_share"]),
            "hexagons": records(self.hexagons, ["h3", "demand", "covered", "points", "points_covered"]),
            "query": {"radius_m": self.radius_m, "mode": self.mode,
                      "at": None if self.at is None else self.at.isoformat(),
                      "amenities": list(self.amenities), "h3_res": self.h3_res,
                      "open_stations": self.open_stations, "hypothetical_stations": self.hypothetical_stations,
                      "network_points": self.network_points, "fallback_points": self.fallback_points},
        }


@dataclass
class WeekComparison:
    """Coverage of a normal week against a public-holiday week, hour by hour.

    Attributes
    ----------
    normal, holiday : DataFrame
        7 × 24 tables from :meth:`CoverageModel.week`.
    difference : DataFrame
        ``holiday - normal``, in share points (negative: the holiday week is worse covered).
    """

    normal: pd.DataFrame
    holiday: pd.DataFrame
    difference: pd.DataFrame = field(init=False)

    def __post_init__(self):
        self.difference = pd.DataFrame(self.holiday.to_numpy() - self.normal.to_numpy(),
                                       index=self.normal.index, columns=self.normal.columns)

    def to_dict(self) -> dict:
        def table(frame: pd.DataFrame) -> dict:
            return {"weekday": list(frame.index), "dates": [d.isoformat() for d in frame.attrs.get("dates", [])],
                    "day_kind": list(frame.attrs.get("day_kind", [])),
                    "holiday": list(frame.attrs.get("holiday", [])),
                    "share": np.round(frame.to_numpy(), 6).tolist()}

        return {"normal": table(self.normal), "holiday": table(self.holiday),
                "difference": np.round(self.difference.to_numpy(), 6).tolist()}


_BUCKETS = 65535


@dataclass
class _Pairs:
    """Demand-station pairs ordered by a 16-bit bucket of the distance that decides coverage.

    A radius is then a prefix: every pair in a bucket below the radius's bucket is within it
    (rounding is monotone), and only the pairs of that one bucket need their exact distance
    compared. A 16-bit key sorts by radix, several times faster than sorting the floats.
    """

    demand: np.ndarray
    station: np.ndarray
    distance: np.ndarray
    bucket: np.ndarray
    scale: float

    @classmethod
    def sorted(cls, demand, station, distance, max_distance: float) -> _Pairs:
        scale = _BUCKETS / max_distance
        key = np.minimum(np.floor(np.minimum(distance, max_distance) * scale), _BUCKETS).astype(np.uint16)
        key[~np.isfinite(distance)] = _BUCKETS  # unreachable on the network: after everything
        order = np.argsort(key, kind="stable")
        return cls(demand[order], station[order], distance[order], key[order], scale)

    def within(self, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """(demand, station) of every pair at most ``radius`` apart."""
        b = int(np.floor(radius * self.scale))
        if b >= _BUCKETS:
            # the last bucket also holds the unreachable pairs: compare all of it exactly
            b = _BUCKETS
        lo = int(np.searchsorted(self.bucket, b, side="left"))
        hi = int(np.searchsorted(self.bucket, b, side="right"))
        edge = lo + np.flatnonzero(self.distance[lo:hi] <= radius)
        if len(edge) == 0:
            return self.demand[:lo], self.station[:lo]
        return np.concatenate([self.demand[:lo], self.demand[edge]]), \
            np.concatenate([self.station[:lo], self.station[edge]])


def h3_codes(lat: np.ndarray, lon: np.ndarray, res: int) -> np.ndarray:
    """The H3 cell (as uint64) of each point at resolution ``res``: about 1.6 µs a point."""
    to_cell = h3.api.basic_int.latlng_to_cell
    return np.fromiter((to_cell(a, b, res) for a, b in zip(lat.tolist(), lon.tolist())),
                       dtype=np.uint64, count=len(lat))


class StationReach:
    """Which points lie within ``r`` great-circle metres of a set of stations: the coverage kernel
    that needs no pair table (radii beyond it, and :mod:`layers.planning.national`'s chunks).

    One KD-tree query per point finds its nearest station by chord (monotone in the great circle)
    within a bound a hair above ``r``; that station's haversine decides (``<=``), as
    :func:`layers.common.geodesy.pairs_within` does. The few points whose nearest station lies in
    that hair above ``r`` have every station within the bound measured, so a rounding tie between
    two stations cannot hide one that is within ``r``.

    Parameters
    ----------
    lat, lon : array_like of float
        The stations, WGS-84 degrees.
    """

    def __init__(self, lat, lon):
        self.lat = np.asarray(lat, dtype=float)
        self.lon = np.asarray(lon, dtype=float)
        self._tree = cKDTree(unit_vectors(self.lat, self.lon)) if len(self.lat) else None

    def __len__(self) -> int:
        return len(self.lat)

    def covered(self, lat, lon, radius: float, xyz: np.ndarray | None = None, workers: int = 1) -> np.ndarray:
        """Per point, whether a station lies within ``radius`` great-circle metres (``<=``).

        ``xyz`` are the points' :func:`unit_vectors` when the caller keeps them; ``workers`` as in
        :meth:`scipy.spatial.cKDTree.query` (-1: every core).
        """
        lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
        covered = np.zeros(len(lat), dtype=bool)
        if self._tree is None or len(lat) == 0:
            return covered
        if xyz is None:
            xyz = unit_vectors(lat, lon)
        bound = float(chord_for(radius)) * (1 + 1e-9) + 1e-9
        _, idx = self._tree.query(xyz, k=1, distance_upper_bound=bound, workers=workers)
        near = np.flatnonzero(idx < len(self.lat))
        d = haversine_m(lat[near], lon[near], self.lat[idx[near]], self.lon[idx[near]])
        inside = d <= radius
        covered[near[inside]] = True
        doubt = near[~inside]
        if len(doubt):
            found = self._tree.query_ball_point(xyz[doubt], r=bound, workers=workers)
            counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(doubt))
            point = np.repeat(doubt, counts)
            station = np.fromiter((j for f in found for j in f), dtype=np.int64, count=int(counts.sum()))
            hit = haversine_m(lat[point], lon[point], self.lat[station], self.lon[station]) <= radius
            covered[point[hit]] = True
        return covered


def _serialised(method):
    """Run a query under the model's lock: queries fill caches and may extend the pair table,
    and one model serves every request thread of the app."""
    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)
    return locked


class CoverageModel:
    """Coverage of a fixed set of demand points by the stations, for any radius, time or filter.

    Built once: every (demand point, station) pair within ``max_radius_m`` is found and sorted
    by distance (:func:`pairs_within`), each point's district is found. Any question with a
    radius up to ``max_radius_m`` is then a prefix of that table, filtered by which stations
    count (amenities, opening hours, removals) and scattered onto the points:
    ``covered[i] = any(eligible[j] and d[i, j] <= radius)``. A point exactly at the radius is
    covered (``<=``).

    Parameters
    ----------
    stations : GeoDataFrame
        The ``stations`` layer, EPSG:4326 points with ``id``, ``amenities``, ``opening_hours``,
        ``status`` and ``status_until``.
    demand_lon, demand_lat : array_like of float
        WGS-84 degrees.
    demand_weight : array_like of float, optional
        Non-negative weights (orders, pickups, riders seen); 1 each by default.
    districts : GeoDataFrame, optional
        The ``districts`` layer, for per-district figures.
    network : RoadNetwork, optional
        For ``mode="network"``.
    max_radius_m : float
        The largest radius answered without extending the pair table.
    hours : HoursTable, optional
        Built from the stations when not given.
    h3_res : int or None
        H3 resolution whose cells are computed at build time (they cost about 1.6 µs a point
        and are cached per resolution); None computes them on first use.
    """

    def __init__(self, stations: gpd.GeoDataFrame, demand_lon, demand_lat, demand_weight=None, *,
                 districts: gpd.GeoDataFrame | None = None, network: RoadNetwork | None = None,
                 max_radius_m: float = DEFAULT_MAX_RADIUS_M, hours: HoursTable | None = None,
                 h3_res: int | None = DEFAULT_H3_RES):
        self._lock = threading.RLock()
        check_wgs84(stations, "stations")
        if len(stations) and not (stations.geom_type == "Point").all():
            raise ValueError("stations must have Point geometries")
        self.stations = stations
        self.station_ids = stations["id"].astype(str).to_numpy()
        if len(set(self.station_ids)) != len(self.station_ids):
            raise ValueError("station ids must be unique")
        self._id_pos = {sid: i for i, sid in enumerate(self.station_ids)}
        self.station_lon = stations.geometry.x.to_numpy(dtype=float)
        self.station_lat = stations.geometry.y.to_numpy(dtype=float)
        self._masks = masks_for(stations["amenities"])
        self.hours = hours if hours is not None else HoursTable(
            stations["opening_hours"], stations["status"], stations["status_until"])
        if len(self.hours) != len(stations):
            raise ValueError(f"hours has {len(self.hours)} stations, the layer {len(stations)}")

        self.lon = as_float_array(demand_lon, "demand_lon")
        self.lat = as_float_array(demand_lat, "demand_lat")
        check_lonlat(self.lon, self.lat, "demand")
        if demand_weight is None:
            self.weight = np.ones(len(self.lon))
        else:
            self.weight = as_float_array(demand_weight, "demand_weight")
            if self.weight.shape != self.lon.shape:
                raise ValueError(f"{len(self.weight)} weights for {len(self.lon)} demand points")
            if (self.weight < 0).any():
                raise ValueError("demand weights must not be negative")
        self.total_demand = float(self.weight.sum())

        self.districts = districts
        if districts is not None:
            self._district_pos = district_index(self.lon, self.lat, districts)
            self._district_table = pd.DataFrame({
                "adcode": districts["adcode"].to_numpy(np.int64),
                "name": districts["name"].astype(str).to_numpy(),
                "name_en": (districts["name_en"].astype(str).to_numpy() if "name_en" in districts
                            else np.full(len(districts), "", dtype=object)),
            })
        self.network = network
        self.max_radius_m = self._table_radius(check_radius(max_radius_m))
        self._xyz: np.ndarray | None = None  # the points' unit vectors, for radii beyond the table
        self._straight = _Pairs.sorted(*pairs_within(self.lon, self.lat, self.station_lon, self.station_lat,
                                                     self.max_radius_m), self.max_radius_m)
        self._network_pairs: _Pairs | None = None
        self._network_info: tuple[np.ndarray, np.ndarray] | None = None
        self._h3: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._open_cache: BoundedCache[np.ndarray] = BoundedCache(_OPEN_CACHE)
        if h3_res is not None:
            self._cells(h3_res)

    @classmethod
    def from_layers(cls, stations: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, **kwargs) -> CoverageModel:
        """Build from the ``stations`` and ``demand`` layers (both EPSG:4326 points)."""
        check_wgs84(demand, "demand")
        weight = demand["weight"].to_numpy(dtype=float) if "weight" in demand else None
        return cls(stations, demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy(), weight, **kwargs)

    def in_district(self, adcode: int) -> np.ndarray:
        """Which demand points lie in the district ``adcode`` (a boolean mask).

        Raises
        ------
        ValueError
            When the model was built without districts or does not know ``adcode``.
        """
        table = getattr(self, "_district_table", None) if self.districts is not None else None
        if table is None or int(adcode) not in set(table["adcode"].astype(int).tolist()):
            raise ValueError(f"unknown district {adcode!r}")
        pos = int(np.flatnonzero(table["adcode"].to_numpy() == int(adcode))[0])
        return self._district_pos == pos

    def hexagon_count(self, res: int) -> int:
        """How many H3 cells at resolution ``res`` hold demand (computed once per resolution)."""
        with self._lock:
            return len(self._cells(res)[0])

    @property
    def n_points(self) -> int:
        return len(self.lon)

    @property
    def n_pairs(self) -> int:
        """Pairs within ``max_radius_m`` (a measure of the model's size)."""
        return len(self._straight.distance)

    # -- building blocks -----------------------------------------------------------------------

    def _table_radius(self, wanted: float) -> float:
        """The radius of the pair table: ``wanted``, halved until the pairs it may hold fit
        :data:`PAIR_CANDIDATE_BUDGET` (a million points packed into the centre would otherwise need
        tens of millions of pairs). Larger radii are answered without the table."""
        radius = wanted
        while radius > MIN_TABLE_RADIUS_M and candidate_counts(
                self.lon, self.lat, self.station_lon, self.station_lat, radius).sum() > PAIR_CANDIDATE_BUDGET:
            radius = max(radius / 2, MIN_TABLE_RADIUS_M)
        return radius

    def _nearest_within(self, radius: float, eligible: np.ndarray, extra_lon=None, extra_lat=None) -> np.ndarray:
        """Per point, whether an eligible (or extra) station lies within ``radius`` great-circle metres.

        For radii beyond the pair table: :class:`StationReach`, one KD-tree query per point,
        memory linear in the points whatever the radius.
        """
        if self.n_points == 0:
            return np.zeros(0, dtype=bool)
        if self._xyz is None:
            self._xyz = unit_vectors(self.lat, self.lon)
        return self._reach(eligible, extra_lon, extra_lat).covered(self.lat, self.lon, radius, xyz=self._xyz)

    def _reach(self, eligible: np.ndarray, extra_lon=None, extra_lat=None) -> StationReach:
        lat, lon = self.station_lat[eligible], self.station_lon[eligible]
        if extra_lon is not None and len(extra_lon):
            lat, lon = np.concatenate([lat, extra_lat]), np.concatenate([lon, extra_lon])
        return StationReach(lat, lon)

    def reach(self, eligible: np.ndarray, extra_stations=None) -> tuple[StationReach, int]:
        """(the eligible stations and any hypothetical ones as a :class:`StationReach`, how many
        hypothetical ones): what decides coverage beyond the pair table, for points the model does not hold."""
        elon, elat = self._extra_xy(extra_stations)
        return self._reach(np.asarray(eligible, dtype=bool), elon, elat), len(elon)

    @_serialised
    def eligible(self, amenities=(), at=None, removed_station_ids=None
                 ) -> tuple[np.ndarray, tuple[str, ...], dt.datetime | None]:
        """(which stations count, the amenity keys, the minute asked) for a question, as :meth:`coverage` counts them."""
        static, keys = self._static_eligible(amenities, removed_station_ids)
        open_mask, t = self._open(at)
        return static & open_mask, keys, t

    def _check_far(self, radius: float, mode: str, lookups: int) -> None:
        """A radius beyond the pair table: straight line only, and a bounded number of point lookups."""
        if mode == "network":
            raise LimitError("radius_m", f"riding distances are answered up to {self.max_radius_m:,.0f} m for "
                                         f"this demand; {radius:,.0f} m was asked (use mode=straight)",
                             self.max_radius_m, radius)
        if lookups > FAR_LOOKUP_BUDGET:
            raise LimitError("radius_m", f"beyond {self.max_radius_m:,.0f} m this question needs {lookups:,} "
                                         f"point lookups; one request may make {FAR_LOOKUP_BUDGET:,} (use a "
                                         f"radius up to {self.max_radius_m:,.0f} m or fewer points)",
                             FAR_LOOKUP_BUDGET, lookups)

    def _cells(self, res: int) -> tuple[np.ndarray, np.ndarray]:
        """(distinct H3 cells as strings, index of each point's cell) at resolution ``res``."""
        if isinstance(res, bool) or not isinstance(res, (int, np.integer)) or not 0 <= res <= 15:
            raise ValueError(f"h3_res must be an integer from 0 to 15, got {res!r}")
        hit = self._h3.get(int(res))
        if hit is None:
            uniq, inverse = np.unique(h3_codes(self.lat, self.lon, res), return_inverse=True)
            hit = self._h3[int(res)] = (np.array([h3.int_to_str(int(c)) for c in uniq], dtype=object),
                                        inverse.reshape(-1))
        return hit

    def _open(self, at) -> tuple[np.ndarray, dt.datetime | None]:
        if at is None:
            return np.ones(len(self.station_ids), dtype=bool), None
        t = to_minute(as_local(at))  # opening hours change on the minute
        # keyed by the calendar's generation too: an imported notice changes which minutes are open
        return self._open_cache.get_or_build((calendar_generation(), t),
                                             lambda: np.asarray(self.hours.open_at(t), dtype=bool)), t

    def _static_eligible(self, amenities, removed_station_ids) -> tuple[np.ndarray, tuple[str, ...]]:
        """Stations with every asked amenity and not removed."""
        keys = parse_amenities(amenities)
        need = np.uint32(amenity_mask(keys))
        ok = (self._masks & need) == need
        if removed_station_ids:
            removed = [str(s) for s in removed_station_ids]
            unknown = [s for s in removed if s not in self._id_pos]
            if unknown:
                raise ValueError(f"unknown station id(s) to remove: {', '.join(unknown[:5])}")
            ok = ok.copy()
            ok[[self._id_pos[s] for s in removed]] = False
        return ok, keys

    def _pairs(self, mode: str) -> _Pairs:
        if mode == "straight":
            return self._straight
        if self.network is None:
            raise ValueError("mode='network' needs a road network; build the model with network=")
        if self._network_pairs is None:
            self._build_network_pairs()
        return self._network_pairs

    def _build_network_pairs(self) -> None:
        """Riding distances for every straight-line pair whose two ends the network covers.

        Riding is never shorter than the straight line, so the straight-line pairs within
        ``max_radius_m`` hold every pair within that riding distance. Pairs with an end off the
        network keep their straight-line distance (the fallback).
        """
        net = self.network
        p = self._straight
        d_node, d_snap, d_on = net.snap(self.lat, self.lon)
        s_node, s_snap, s_on = net.snap(self.station_lat, self.station_lon)
        both = d_on[p.demand] & s_on[p.station]
        distance = p.distance.copy()
        stations_on = np.unique(p.station[both])
        # A block of Dijkstra rows at a time keeps memory at block × nodes whatever the station count.
        block = max(1, int(2e7 // max(net.n_nodes, 1)))
        pair_idx = np.flatnonzero(both)
        pair_station = p.station[pair_idx]
        order = np.argsort(pair_station, kind="stable")
        pair_idx, pair_station = pair_idx[order], pair_station[order]
        for lo in range(0, len(stations_on), block):
            chunk = stations_on[lo:lo + block]
            rows = csgraph.dijkstra(net.graph, directed=False, indices=s_node[chunk], limit=self.max_radius_m)
            # pairs are sorted by station and the chunk is a run of sorted stations
            a = np.searchsorted(pair_station, chunk[0], side="left")
            b = np.searchsorted(pair_station, chunk[-1], side="right")
            idx = pair_idx[a:b]
            row = np.searchsorted(chunk, p.station[idx])
            riding = s_snap[p.station[idx]] + rows[row, d_node[p.demand[idx]]] + d_snap[p.demand[idx]]
            # rounding must not put a route under its straight line
            distance[idx] = np.maximum(riding, p.distance[idx])
        self._network_pairs = _Pairs.sorted(p.demand, p.station, distance, self.max_radius_m)
        fallback = np.zeros(self.n_points, dtype=bool)
        fallback[p.demand[~both]] = True
        self._network_info = (d_on, fallback | ~d_on)

    @staticmethod
    def _extra_xy(extra_stations) -> tuple[np.ndarray, np.ndarray]:
        if extra_stations is None or len(extra_stations) == 0:
            return np.empty(0), np.empty(0)
        xy = np.asarray(extra_stations, dtype=float)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError("extra_stations must be a sequence of (lon, lat) pairs")
        elon, elat = as_float_array(xy[:, 0], "extra station lon"), as_float_array(xy[:, 1], "extra station lat")
        check_lonlat(elon, elat, "extra_stations")
        return elon, elat

    def _extra_pairs(self, extra_stations, radius: float, mode: str) -> tuple[np.ndarray, int]:
        """Demand points covered by hypothetical stations (all amenities, always open)."""
        elon, elat = self._extra_xy(extra_stations)
        if len(elon) == 0:
            return np.empty(0, dtype=np.int64), 0
        di, sj, d = pairs_within(self.lon, self.lat, elon, elat, radius)
        if mode == "network" and len(di):
            net = self.network
            covered = np.zeros(len(di), dtype=bool)
            for j in np.unique(sj):
                sel = sj == j
                riding = net.riding_distances(float(elat[j]), float(elon[j]), self.lat[di[sel]], self.lon[di[sel]])
                on = np.isfinite(riding)
                covered[np.flatnonzero(sel)[on]] = np.maximum(riding[on], d[sel][on]) <= radius
                covered[np.flatnonzero(sel)[~on]] = d[sel][~on] <= radius
            di = di[covered]
        return di.astype(np.int64), len(elon)

    def _covered(self, pairs: _Pairs, radius: float, eligible: np.ndarray) -> np.ndarray:
        demand, station = pairs.within(radius)
        covered = np.zeros(self.n_points, dtype=bool)
        covered[demand[eligible[station]]] = True
        return covered

    def _prepare(self, radius_m, mode: str) -> float:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        radius = check_radius(radius_m)
        if mode == "network" and self.network is None:
            raise ValueError("mode='network' needs a road network; build the model with network=")
        return radius

    # -- questions -----------------------------------------------------------------------------

    @_serialised
    def covered_mask(self, radius_m: float, amenities=(), at=None, mode: str = "straight",
                     extra_stations=None, removed_station_ids=None) -> np.ndarray:
        """Per demand point, whether an eligible station is within reach (see :meth:`coverage`)."""
        radius = self._prepare(radius_m, mode)
        static, _ = self._static_eligible(amenities, removed_station_ids)
        open_mask, _ = self._open(at)
        covered, _ = self._covered_by(radius, mode, static & open_mask, extra_stations)
        return covered

    def _covered_by(self, radius: float, mode: str, eligible: np.ndarray, extra_stations) -> tuple[np.ndarray, int]:
        """(per point: covered by an eligible or extra station, how many extra stations)."""
        if radius <= self.max_radius_m:
            covered = self._covered(self._pairs(mode), radius, eligible)
            extra, n_extra = self._extra_pairs(extra_stations, radius, mode)
            covered[extra] = True
            return covered, n_extra
        self._check_far(radius, mode, self.n_points)
        elon, elat = self._extra_xy(extra_stations)
        return self._nearest_within(radius, eligible, elon, elat), len(elon)

    @_serialised
    def coverage(self, radius_m: float, amenities=(), at=None, mode: str = "straight", h3_res: int = DEFAULT_H3_RES,
                 extra_stations=None, removed_station_ids=None) -> CoverageResult:
        """The share of demand within reach of an eligible station.

        Parameters
        ----------
        radius_m : float
            Straight-line (great-circle) metres, or riding metres in ``mode="network"``. A radius
            beyond ``max_radius_m`` rebuilds the pair table once at that radius.
        amenities : str or iterable of str
            Keys a station must all have (see :func:`layers.common.amenities.parse_amenities`).
        at : datetime, Timestamp, ISO str or None
            Only stations open at that moment count (opening hours with China's holidays and
            make-up days, temporary closures). None counts every station, whatever its hours.
        mode : {"straight", "network"}
            ``"network"``: riding distance on the road network where it covers both the point
            and the station, the straight line elsewhere (reported as ``fallback_points``).
        h3_res : int
            Resolution of the hexagon grid, 0–15.
        extra_stations : sequence of (lon, lat), optional
            Hypothetical stations: every amenity, always open.
        removed_station_ids : iterable of str, optional
            Stations taken out.

        Returns
        -------
        CoverageResult

        Raises
        ------
        ValueError
            For an unknown amenity, mode, station id, a bad radius or resolution, or
            ``mode="network"`` without a network.
        """
        radius = self._prepare(radius_m, mode)
        static, keys = self._static_eligible(amenities, removed_station_ids)
        open_mask, t = self._open(at)
        eligible = static & open_mask
        covered, n_extra = self._covered_by(radius, mode, eligible, extra_stations)
        network_points = fallback_points = 0
        if mode == "network":
            on, fallback = self._network_info
            network_points = int(on.sum())
            fallback_points = int(fallback.sum())
        return self._result(covered, radius, mode, t, keys, h3_res, int(eligible.sum()), network_points,
                            fallback_points, n_extra)

    def _result(self, covered, radius, mode, t, keys, h3_res, open_stations, network_points,
                fallback_points, hypothetical_stations: int = 0) -> CoverageResult:
        w = self.weight
        covered_w = np.where(covered, w, 0.0)
        total, got = self.total_demand, float(covered_w.sum())
        n, n_cov = self.n_points, int(covered.sum())
        overall = {"demand": total, "covered": got, "share": got / total if total > 0 else None,
                   "points": n, "points_covered": n_cov, "point_share": n_cov / n if n else None}

        if self.districts is not None:
            k = len(self._district_table)
            pos = self._district_pos
            frame = self._district_table.copy()
            frame["demand"] = np.bincount(pos, weights=w, minlength=k)
            frame["covered"] = np.bincount(pos, weights=covered_w, minlength=k)
            frame["points"] = np.bincount(pos, minlength=k).astype(np.int64)
            frame["points_covered"] = np.bincount(pos, weights=covered, minlength=k).astype(np.int64)
            with np.errstate(invalid="ignore", divide="ignore"):
                frame["share"] = np.where(frame["demand"] > 0, frame["covered"] / frame["demand"], np.nan)
                frame["point_share"] = np.where(frame["points"] > 0, frame["points_covered"] / frame["points"], np.nan)
        else:
            frame = pd.DataFrame(columns=["adcode", "name", "name_en", "demand", "covered", "share", "points",
                                          "points_covered", "point_share"])

        cells, inverse = self._cells(h3_res)
        m = len(cells)
        hexes = pd.DataFrame({
            "h3": cells,
            "demand": np.bincount(inverse, weights=w, minlength=m),
            "covered": np.bincount(inverse, weights=covered_w, minlength=m),
            "points": np.bincount(inverse, minlength=m).astype(np.int64),
            "points_covered": np.bincount(inverse, weights=covered, minlength=m).astype(np.int64),
        })
        hexes["uncovered"] = hexes["demand"] - hexes["covered"]
        hexes = hexes[["h3", "demand", "covered", "uncovered", "points", "points_covered"]]
        return CoverageResult(overall, frame, hexes, covered, radius, mode, t, keys, int(h3_res), open_stations,
                              network_points, fallback_points, int(hypothetical_stations))

    @_serialised
    def week(self, radius_m: float, amenities=(), week_start: dt.date | None = None,
             mode: str = "straight", removed_station_ids=None) -> pd.DataFrame:
        """Weighted coverage share for each hour of a real week: the heat table.

        Parameters
        ----------
        radius_m, amenities, mode, removed_station_ids
            As in :meth:`coverage`.
        week_start : datetime.date
            Any day of the week wanted; the table runs from that week's Monday to Sunday, on
            the real dates, so public holidays (``PH``) and make-up working days (调休) apply.

        Returns
        -------
        DataFrame
            7 × 24: index ``weekday`` (Mon … Sun), columns the hours 0 … 23, values the weighted
            share covered at the top of that hour (``HH:00``, Asia/Shanghai), NaN without
            demand. ``attrs`` holds ``dates`` (the 7 dates), ``day_kind`` (``workday``,
            ``weekend``, ``holiday`` or ``makeup_workday`` per :func:`layers.common.hours.day_kind`),
            ``holiday`` (the holiday's name or None) and ``point_share`` (a 7 × 24 list of the
            unweighted share).
        """
        week_start = check_day(week_start, "week_start")
        radius = self._prepare(radius_m, mode)
        static, _ = self._static_eligible(amenities, removed_station_ids)
        monday = week_start - dt.timedelta(days=week_start.weekday())
        dates = [monday + dt.timedelta(days=i) for i in range(7)]
        masks = [[self._open(dt.datetime(day.year, day.month, day.day, hour))[0] for hour in range(24)]
                 for day in dates]
        if radius <= self.max_radius_m:
            demand, station = self._pairs(mode).within(radius)
            # the amenity filter and removals do not change over the week: cut the pairs once
            keep = static[station]
            demand, station = demand[keep], station[keep]

            def covered_when(open_mask):
                covered = np.zeros(self.n_points, dtype=bool)
                covered[demand[open_mask[station]]] = True
                return covered
        else:
            distinct = {np.packbits(m).tobytes() for row in masks for m in row}
            self._check_far(radius, mode, self.n_points * len(distinct))

            def covered_when(open_mask):
                return self._nearest_within(radius, static & open_mask)

        share = np.full((7, 24), np.nan)
        point_share = np.full((7, 24), np.nan)
        seen: dict[bytes, tuple[float, float]] = {}
        for d in range(7):
            for hour in range(24):
                open_mask = masks[d][hour]
                key = np.packbits(open_mask).tobytes()
                hit = seen.get(key)
                if hit is None:
                    covered = covered_when(open_mask)
                    got = float(self.weight[covered].sum())
                    hit = seen[key] = (got / self.total_demand if self.total_demand > 0 else np.nan,
                                       covered.mean() if self.n_points else np.nan)
                share[d, hour], point_share[d, hour] = hit
        frame = pd.DataFrame(share, index=pd.Index(_WEEKDAYS, name="weekday"),
                             columns=pd.Index(range(24), name="hour"))
        frame.attrs = {"dates": dates, "day_kind": [day_kind(x).value for x in dates],
                       "holiday": [holiday_name(x) for x in dates], "point_share": point_share.tolist()}
        return frame

    @_serialised
    def compare_weeks(self, normal_week_start: dt.date, holiday_week_start: dt.date, radius_m: float,
                      amenities=(), mode: str = "straight") -> WeekComparison:
        """:meth:`week` for a normal week and a public-holiday week, and their difference."""
        normal = check_day(normal_week_start, "normal_week")
        holiday = check_day(holiday_week_start, "holiday_week")
        return WeekComparison(self.week(radius_m, amenities, normal, mode), self.week(radius_m, amenities, holiday, mode))
