"""The nearest open stations with the amenities a rider needs: exact, spatially indexed, ranked by distance or riding time."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from layers.common.amenities import amenity_mask, keys_of, masks_for, parse_amenities, rarest
from layers.common.caching import BoundedCache
from layers.common.calendar import as_local, calendar_generation, to_minute
from layers.common.geodesy import EARTH_RADIUS_M, chord_for, haversine_m, unit_vectors
from layers.common.hours import HoursTable
from layers.common.network import EBIKE_M_PER_MIN, RoadNetwork
from mapdata import clock

#: Streets are not straight: off the network a riding time is the straight line times this.
DETOUR_FACTOR = 1.3
SORTS = ("distance", "eta")
# Float margins that make the ball queries a superset of the great-circle disc they stand for
# (chord and haversine round differently in the last bits); the result is then cut exactly.
_REL_MARGIN = 1e-9
_ABS_MARGIN_M = 1e-3
#: Amenity combinations whose matching stations are kept, and instants whose open mask is kept.
_AMENITY_CACHE_SIZE = 64
_OPEN_CACHE_SIZE = 8
#: Stations whose closing time is kept per minute: what a busy minute of national riders asks about.
_CLOSES_KEPT = 20_000


def eta_minutes(distance_m: np.ndarray, riding_m: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Riding minutes at 15 km/h and whether each came from the network.

    Parameters
    ----------
    distance_m : numpy.ndarray
        Great-circle metres.
    riding_m : numpy.ndarray or None
        Network metres, NaN where the network does not cover both ends.

    Returns
    -------
    eta_min, from_network : numpy.ndarray of float, numpy.ndarray of bool
        Never less than ``distance_m`` at 15 km/h, which is what makes ranking by time exact.
    """
    eta = distance_m * DETOUR_FACTOR / EBIKE_M_PER_MIN
    if riding_m is None:
        return eta, np.zeros(len(distance_m), dtype=bool)
    from_network = np.isfinite(riding_m)
    # Rounding could put a perfectly straight route a hair under the straight line.
    eta[from_network] = np.maximum(riding_m[from_network], distance_m[from_network]) / EBIKE_M_PER_MIN
    return eta, from_network


def _check_stations(stations: gpd.GeoDataFrame) -> None:
    if not isinstance(stations, gpd.GeoDataFrame) or stations.crs is None or stations.crs.to_epsg() != 4326:
        raise ValueError(f"stations must be a GeoDataFrame in EPSG:4326 (WGS-84), got CRS {getattr(stations, 'crs', None)}")
    if len(stations) and not (stations.geom_type == "Point").all():
        raise ValueError("stations must have Point geometries")


def _check_query(lat, lon, k, max_distance_m, sort) -> None:
    if not (np.isfinite(lat) and np.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"expected WGS-84 latitude and longitude, got ({lat!r}, {lon!r})")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if max_distance_m is not None and not (np.isfinite(max_distance_m) and max_distance_m >= 0):
        raise ValueError(f"max_distance_m must be a non-negative number of metres or None, got {max_distance_m!r}")
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")


class StationFinder:
    """Answers "which open stations with these amenities are nearest to me".

    The answer is exactly that of a full scan of every station (``tests/helpers.py`` has one), ties
    broken by station id.
    A KD-tree over Earth-centred unit vectors finds candidates (the chord is monotone in the
    great-circle distance), the search radius grows until ``k`` eligible stations are inside,
    and one ball query at that radius collects every station that could still rank; their
    great-circle distances are then computed with haversine and sorted.

    Parameters
    ----------
    stations : GeoDataFrame
        The ``stations`` layer: EPSG:4326 points with ``id``, ``name``, ``amenities``
        (frozensets), ``opening_hours``, ``status``, ``status_until``, ``district``, ``address``.
    network : RoadNetwork, optional
        For riding distances where it covers both ends; elsewhere times are estimates.
    hours : HoursTable, optional
        Built from the stations' opening hours and status when not given.
    """

    #: Amenity sets held by at most this many stations are scanned directly: the spatial search
    #: would have to grow its radius until it met them, and a few thousand haversines cost less.
    direct_scan_max = 2048

    def __init__(self, stations: gpd.GeoDataFrame, network: RoadNetwork | None = None,
                 hours: HoursTable | None = None):
        _check_stations(stations)
        self.stations = stations
        self.network = network
        self.hours = hours if hours is not None else HoursTable(
            stations["opening_hours"], stations["status"], stations["status_until"])
        self._lat = stations.geometry.y.to_numpy(dtype=float)
        self._lon = stations.geometry.x.to_numpy(dtype=float)
        self._ids = stations["id"].astype(str).to_numpy()
        if len(set(self._ids)) != len(self._ids):
            raise ValueError("station ids must be unique")
        # Integer ranks stand in for ids in the tie-break: lexsort on ints, not on strings.
        self._rank = np.empty(len(self._ids), dtype=np.int64)
        self._rank[np.argsort(self._ids, kind="stable")] = np.arange(len(self._ids))
        self._masks = masks_for(stations["amenities"])
        # amenities out of service (a broken microwave) until status_until, or until cleared
        out = masks_for(stations["amenities_out"]) if "amenities_out" in stations else np.zeros_like(self._masks)
        self._out = out if out.any() else None
        self._out_until = stations["status_until"] if self._out is not None else None
        self._tree = cKDTree(unit_vectors(self._lat, self._lon)) if len(stations) else None
        self._names = stations["name"].to_numpy()
        self._district = stations["district"].to_numpy() if "district" in stations else np.full(len(stations), None)
        self._address = stations["address"].to_numpy() if "address" in stations else np.full(len(stations), None)
        self._open_cache: BoundedCache = BoundedCache(_OPEN_CACHE_SIZE)
        self._amenity_cache: BoundedCache = BoundedCache(_AMENITY_CACHE_SIZE)
        # closing times as the answer writes them, per calendar generation and minute: station -> ISO text
        self._closes_cache: BoundedCache = BoundedCache(_OPEN_CACHE_SIZE)
        # what an answer shows of each station, as Python objects (no NumPy scalar per field per request)
        self._shown = (self._ids.tolist(), self._names.tolist(), self._lat.tolist(), self._lon.tolist(),
                       self._district.tolist(), self._address.tolist())
        # each station's network node, snap metres and cover, once; its row kept when every station's fits
        self._snapped = network.snap(self._lat, self._lon) if network is not None and len(stations) else None
        self._kept_rows = self._snapped is not None and \
            len(np.unique(self._snapped[0][self._snapped[2]])) <= network.row_capacity

    def __len__(self) -> int:
        return len(self._ids)

    # -- eligibility ---------------------------------------------------------------------------

    def _open_mask(self, at):
        """(open mask over all stations or None, local time or None, share open, amenity masks then);
        cached per minute.

        Opening hours change on the minute, so the question is asked at the minute ``at`` falls in:
        a cache keyed on "now" to the microsecond would never be hit twice. The amenity masks leave
        out what is out of service then (with ``at`` None: now).
        """
        t = None if at is None else to_minute(as_local(at))

        def build():
            masks = self._masks_at(t)
            if t is None:
                return None, None, 1.0, masks
            mask = np.asarray(self.hours.open_at(t), dtype=bool)
            return mask, t, float(mask.mean()) if len(mask) else 0.0, masks

        if t is None and self._out is None:
            return None, None, 1.0, self._masks
        # the calendar's generation: an imported notice changes which minutes are open
        key = (calendar_generation(), t if t is not None else ("now", to_minute(clock.now())))
        return self._open_cache.get_or_build(key, build)

    def _masks_at(self, t):
        if self._out is None:
            return self._masks
        moment = pd.Timestamp(t if t is not None else to_minute(clock.now()))
        until = self._out_until
        active = (until.isna() | (until > moment)).to_numpy()
        return self._masks & ~np.where(active, self._out, np.uint32(0))

    def _amenity_match(self, need: int):
        """(indices of the stations with every bit of ``need`` when few, else None; their count)."""
        def build():
            match = np.flatnonzero((self._masks & np.uint32(need)) == need)
            return match if len(match) <= self.direct_scan_max else None, len(match)

        return self._amenity_cache.get_or_build(need, build)

    def _eligible(self, idx: np.ndarray, need: int, gate) -> np.ndarray:
        open_mask, masks = gate
        ok = (masks[idx] & np.uint32(need)) == need
        if open_mask is not None:
            ok &= open_mask[idx]
        return ok

    # -- the search ----------------------------------------------------------------------------

    def _within(self, query, lat, lon, radius_m, need, gate, direct):
        """Every eligible station within ``radius_m`` great-circle metres: (indices, metres)."""
        if direct is not None:
            idx = direct
        elif radius_m >= np.pi * EARTH_RADIUS_M:
            idx = np.arange(len(self._ids))
        else:
            r = chord_for(radius_m) * (1 + _REL_MARGIN) + _ABS_MARGIN_M / EARTH_RADIUS_M
            idx = np.asarray(self._tree.query_ball_point(query, r), dtype=np.intp)
        idx = idx[self._eligible(idx, need, gate)]
        d = haversine_m(lat, lon, self._lat[idx], self._lon[idx])
        inside = d <= radius_m
        return idx[inside], d[inside]

    def _radius_for_k(self, query, lat, lon, k, need, gate, open_share, n_match, limit_m):
        """A great-circle radius holding at least ``k`` eligible stations, or ``limit_m`` if none does."""
        n = len(self._ids)
        share = max(n_match / n * open_share, 1.0 / n)
        kk = min(n, max(16, int(2 * k / share) + 8))
        limit_chord = chord_for(limit_m) if np.isfinite(limit_m) else np.inf
        while True:
            chord, idx = self._tree.query(query, kk)
            chord, idx = np.atleast_1d(chord), np.atleast_1d(idx)
            ok = np.flatnonzero(self._eligible(idx, need, gate))
            if len(ok) >= k:
                first = idx[ok[:k]]
                return min(float(haversine_m(lat, lon, self._lat[first], self._lon[first]).max()), limit_m)
            if kk >= n or chord[-1] > limit_chord:
                return limit_m
            # Grow by what the eligible share seen so far says is needed, at least doubling.
            seen = max(len(ok), 1) / kk
            kk = min(n, max(2 * kk, int(1.5 * k / seen)))

    def _search(self, lat, lon, amenities, at, k, max_distance_m, sort):
        need = amenity_mask(amenities)
        open_mask, t, open_share, masks = self._open_mask(at)
        gate = (open_mask, masks)
        if len(self._ids) == 0:
            return np.empty(0, dtype=np.intp), np.empty(0), np.empty(0), np.empty(0, dtype=bool), t, masks
        direct, n_match = self._amenity_match(need)
        limit_m = np.inf if max_distance_m is None else float(max_distance_m)
        # the direct scan of the few matching stations needs no tree, so no query vector
        query = None if direct is not None else unit_vectors(lat, lon)[0]
        if direct is not None:
            radius = limit_m
        else:
            radius = self._radius_for_k(query, lat, lon, k, need, gate, open_share, n_match, limit_m)
        idx, d = self._within(query, lat, lon, radius, need, gate, direct)
        if sort == "distance":
            if len(d) > k:  # only the stations at most the k-th distance can rank: sort those alone
                near = np.flatnonzero(d <= np.partition(d, k - 1)[k - 1])
                idx, d = idx[near], d[near]
            top = np.lexsort((self._rank[idx], d))[:k]
            idx, d = idx[top], d[top]
            eta, net = self._etas(lat, lon, idx, d)
            return idx, d, eta, net, t, masks
        eta, net = self._etas(lat, lon, idx, d)
        if len(idx) >= k:
            kth = np.sort(eta)[k - 1]
            # A station beyond the radius rides at least its straight line, so it is slower than
            # the k-th found only when that line alone takes longer; otherwise look that far out.
            if not kth < radius / EBIKE_M_PER_MIN:
                radius = min(kth * EBIKE_M_PER_MIN * (1 + _REL_MARGIN) + _ABS_MARGIN_M, limit_m)
                idx, d = self._within(query, lat, lon, radius, need, gate, direct)
                eta, net = self._etas(lat, lon, idx, d)
        top = np.lexsort((self._rank[idx], eta))[:k]
        return idx[top], d[top], eta[top], net[top], t, masks

    def _etas(self, lat, lon, idx, d):
        riding = None
        if self._snapped is not None and len(idx):
            node, snap_m, covered = self._snapped
            riding = self.network.riding_to_snapped(lat, lon, node[idx], snap_m[idx], covered[idx],
                                                    kept_rows=self._kept_rows)
        return eta_minutes(d, riding)

    # -- public --------------------------------------------------------------------------------

    def nearest(self, lat: float, lon: float, amenities=(), at=None, k: int = 5,
                max_distance_m: float | None = None, sort: str = "distance") -> list[dict]:
        """The ``k`` nearest stations that have every asked amenity and are open at ``at``.

        Parameters
        ----------
        lat, lon : float
            The rider, WGS-84.
        amenities : str or iterable of str
            Amenity keys, all required; empty for any station.
        at : datetime, ISO 8601 text or None
            Only stations open then (temporary closures applied); None ignores opening hours.
        k : int
            How many stations at most.
        max_distance_m : float, optional
            Great-circle cut-off in metres, for both sorts.
        sort : {"distance", "eta"}
            Rank by great-circle distance, or by riding minutes (network where it covers both
            ends, else the straight line times 1.3, both at 15 km/h). Ties go to the lower id.

        Returns
        -------
        list of dict
            ``id``, ``name``, ``lat``, ``lon``, ``distance_m`` and ``eta_min`` (rounded to 0.1),
            ``eta_source`` ("network" or "estimate"), ``open`` (None when ``at`` is None),
            ``closes_at`` (ISO 8601 with +08:00, None when open round the clock or ``at`` is None),
            ``amenities`` (vocabulary order), ``district``, ``address``.

        Raises
        ------
        ValueError
            For an unknown amenity (naming it), a bad position, ``k``, ``max_distance_m`` or ``sort``.
        """
        _check_query(lat, lon, k, max_distance_m, sort)
        idx, d, eta, net, t, masks = self._search(float(lat), float(lon), amenities, at, int(k), max_distance_m, sort)
        rows = idx.tolist()
        closes = self._closes_iso(t, rows)
        ids, names, lats, lons, districts, addresses = self._shown
        return [{
            "id": ids[i],
            "name": names[i],
            "lat": lats[i],
            "lon": lons[i],
            "distance_m": round(dist, 1),
            "eta_min": round(minutes, 1),
            "eta_source": "network" if on_network else "estimate",
            "open": None if t is None else True,
            "closes_at": closing,
            "amenities": keys_of(has),
            "amenities_out": keys_of(held & ~has),
            "district": districts[i],
            "address": addresses[i],
        } for i, dist, minutes, on_network, closing, has, held in zip(
            rows, d.tolist(), eta.tolist(), net.tolist(), closes, masks[idx].tolist(), self._masks[idx].tolist())]

    def _closes_iso(self, t, rows: list[int]) -> list[str | None]:
        """When the stations at ``rows`` (open at minute ``t``) next close, as the answer writes it (ISO 8601,
        +08:00; None: open round the clock, or ``t`` None); kept per calendar generation and minute, as the open
        mask is, for the stations asked about so far (at most :data:`_CLOSES_KEPT` of them)."""
        if t is None or not rows:
            return [None] * len(rows)
        known = self._closes_cache.get_or_build((calendar_generation(), t), dict)
        missing = [i for i in dict.fromkeys(rows) if i not in known]
        found = {i: None if c is None else as_local(c).isoformat()
                 for i, c in zip(missing, self.hours.closes_at(t, idx=missing))} if missing else {}
        if found and len(known) < _CLOSES_KEPT:
            known.update(found)  # one dict update: safe beside other threads' reads
        return [found[i] if i in found else known[i] for i in rows]

    def answer_states(self, lat: float, lon: float, amenities=(), at=None, k: int = 2000) -> list[dict]:
        """Whether each of the ``k`` stations nearest to the rider answers the question :meth:`nearest` answers,
        and if not, why: what the map draws muted.

        The same eligibility as :meth:`nearest` (the same open mask and amenity masks at ``at``), so a
        station answers here exactly when :meth:`nearest` could list it; the distance cut-off is not applied.

        Parameters
        ----------
        lat, lon, amenities, at
            As for :meth:`nearest`.
        k : int
            How many of the nearest stations to judge (all of them when there are fewer).

        Returns
        -------
        list of dict
            Nearest first: ``id``; ``distance_m`` (great-circle); ``answers`` (bool); ``paused`` (closed temporarily at ``at``);
            ``closed`` (not open at ``at`` for any other reason; both False when ``at`` is None);
            ``lacking`` (asked amenities the station does not have) and ``out`` (asked amenities it has
            but out of service then), in vocabulary order.
        """
        judged = self._judge(lat, lon, amenities, at, k)
        return [] if judged is None else self._states(judged, slice(None))

    def muted_states(self, lat: float, lon: float, amenities=(), at=None,
                     k: int = 2000) -> tuple[list[dict], float | None]:
        """What the map draws muted: of :meth:`answer_states`, the stations that do not answer (nearest first),
        and how far from the rider stations were judged (the ``k``-th's distance; None when every station was).
        The same judgement, with a dict built only for each station that does not answer."""
        judged = self._judge(lat, lon, amenities, at, k)
        if judged is None:
            return [], None
        idx, d, answers = judged[0], judged[1], judged[2]
        reach = round(float(d[-1]), 1) if len(idx) < len(self._ids) else None  # as its distance_m
        return self._states(judged, np.flatnonzero(~answers)), reach

    def _judge(self, lat, lon, amenities, at, k) -> tuple[np.ndarray, ...] | None:
        """The ``k`` nearest stations' positions and distances, whether each answers, and why not (arrays:
        idx, distance, answers, paused, closed, lacking, broken); None when there is no station."""
        _check_query(lat, lon, k, None, "distance")
        if len(self._ids) == 0:
            return None
        need = amenity_mask(amenities)
        open_mask, t, _, masks = self._open_mask(at)
        _, idx = self._tree.query(unit_vectors(float(lat), float(lon))[0], min(int(k), len(self._ids)))
        idx = np.atleast_1d(idx)
        answers = self._eligible(idx, need, (open_mask, masks))
        d = haversine_m(float(lat), float(lon), self._lat[idx], self._lon[idx])
        closed = np.zeros(len(idx), dtype=bool) if open_mask is None else ~open_mask[idx]
        paused = np.zeros(len(idx), dtype=bool)
        if t is not None:
            paused = np.isin(idx, self.hours.temporarily_closed(t))
        want = np.uint32(need)
        lacking = want & ~self._masks[idx]
        broken = want & self._masks[idx] & ~masks[idx]
        return idx, d, answers, paused, closed, lacking, broken

    def _states(self, judged: tuple[np.ndarray, ...], pick) -> list[dict]:
        """:meth:`answer_states`' dicts of the judged stations at ``pick`` (a slice or positions)."""
        idx, d, answers, paused, closed, lacking, broken = (np.asarray(a)[pick] for a in judged)
        return [{"id": self._ids[i], "distance_m": round(dist, 1), "answers": a, "paused": p and c,
                 "closed": c and not p, "lacking": keys_of(lk), "out": keys_of(br)}
                for i, dist, a, p, c, lk, br in zip(idx.tolist(), d.tolist(), answers.tolist(), paused.tolist(),
                                                    closed.tolist(), lacking.tolist(), broken.tolist())]

    def answering(self, amenities=(), at=None) -> np.ndarray:
        """Whether each station (in the order of :attr:`stations`) answers the question :meth:`nearest` answers:
        every asked amenity, in service at ``at``, and open then (``at`` None: at any time). The same
        eligibility :meth:`nearest` and :meth:`answer_states` apply, for every station at once."""
        need = amenity_mask(amenities)
        open_mask, _, _, masks = self._open_mask(at)
        return self._eligible(np.arange(len(self._ids)), need, (open_mask, masks))

    def rarest_amenity(self, amenities) -> str:
        """Of the asked amenities, the one the fewest stations have: the one to drop first."""
        return rarest(parse_amenities(amenities), self._masks)

    def count_matching(self, lat: float, lon: float, amenities=(), at=None,
                       max_distance_m: float | None = None) -> int:
        """How many stations have every amenity, are open at ``at`` and lie within ``max_distance_m``.

        For suggestions when a search finds nothing: widen the distance, or drop the rarest amenity.
        """
        _check_query(lat, lon, 1, max_distance_m, "distance")
        need = amenity_mask(amenities)
        open_mask, _, _, masks = self._open_mask(at)
        gate = (open_mask, masks)
        if len(self._ids) == 0:
            return 0
        direct, _ = self._amenity_match(need)
        if max_distance_m is None:
            idx = direct if direct is not None else np.arange(len(self._ids))
            return int(np.count_nonzero(self._eligible(idx, need, gate)))
        query = unit_vectors(lat, lon)[0]
        idx, _ = self._within(query, float(lat), float(lon), float(max_distance_m), need, gate, direct)
        return len(idx)
