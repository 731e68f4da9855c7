"""What to call a site that has no name of its own: its district and the nearest named place, street or compound.

A recommended site is often a grid point (``cs-006675``), which means nothing in a district's report.
:class:`SiteNamer` names a point by what a planner would write: ``锦江区 · 东风路 附近`` /
``Jinjiang · near 东风路``, from the store's ``places``, ``roads`` and ``compounds`` layers and the
``districts`` layer. The names of places, streets and compounds are data and stay as mapped (most
are Chinese); the district is given in Chinese and in English, and so is the short phrase joining
them (these two phrasings are the name itself, like 锦江区 / Jinjiang, not page text).

Coordinates to copy go with every name: ``lat, lon`` to 6 decimals (about 0.1 m), WGS-84.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.common.districts import district_index
from mapdata.crs import METRIC_EPSG, check_wgs84

#: A named feature this close (metres) is where the site is: ``锦江区 · 万科金域蓝湾``.
AT_M = 30.0
#: Up to this distance the site is "near" it: ``锦江区 · 东风路 附近``.
NEAR_M = 500.0
#: Up to this distance the site is named by its distance from it: ``锦江区 · 距东风路 1.2 公里``;
#: beyond, only the district names it (``锦江区 · 附近无地名``).
FAR_M = 3000.0
#: Of features equally near, a compound before a place before a street.
KIND_ORDER = {"compound": 0, "place": 1, "road": 2}
#: How a site relates to the feature that names it.
RELATIONS = ("own", "at", "near", "from", "none")


def coords_text(lat: float, lon: float) -> str:
    """``lat, lon`` to 6 decimals (about 0.1 m), the order map apps and 坐标拾取 paste."""
    return f"{float(lat):.6f}, {float(lon):.6f}"


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f}"


@dataclass(frozen=True)
class SiteName:
    """The name of one point.

    Attributes
    ----------
    adcode : int or None
        The district it lies in (None outside every district).
    district, district_en : str
        The district's names (empty outside every district).
    anchor : str or None
        The named place, street or compound it is named after (or the site's own name).
    kind : {"compound", "place", "road", "own"} or None
    relation : {"own", "at", "near", "from", "none"}
        ``own``: the site's own name; ``at``: inside or within :data:`AT_M` of ``anchor``; ``near``:
        within :data:`NEAR_M`; ``from``: within :data:`FAR_M`, named with the distance; ``none``: nothing
        named within :data:`FAR_M`.
    distance_m : float or None
        To ``anchor`` (0 inside a compound; None for ``own`` and ``none``).
    lat, lon : float
        WGS-84.
    """

    adcode: int | None
    district: str
    district_en: str
    anchor: str | None
    kind: str | None
    relation: str
    distance_m: float | None
    lat: float
    lon: float

    @property
    def zh(self) -> str:
        d = self.district or "成都市"
        if self.relation in ("own", "at"):
            return f"{d} · {self.anchor}"
        if self.relation == "near":
            return f"{d} · {self.anchor} 附近"
        if self.relation == "from":
            return f"{d} · 距{self.anchor} {_km(self.distance_m)} 公里"
        return f"{d} · 附近无地名"

    @property
    def en(self) -> str:
        d = self.district_en or self.district or "Chengdu"
        if self.relation in ("own", "at"):
            return f"{d} · {self.anchor}"
        if self.relation == "near":
            return f"{d} · near {self.anchor}"
        if self.relation == "from":
            return f"{d} · {_km(self.distance_m)} km from {self.anchor}"
        return f"{d} · no named place nearby"

    def label(self, lang: str) -> str:
        """:attr:`en` for ``lang="en"``, else :attr:`zh`."""
        return self.en if lang == "en" else self.zh

    @property
    def coords(self) -> str:
        """:func:`coords_text` of the point."""
        return coords_text(self.lat, self.lon)


def _text_or_none(value) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


class SiteNamer:
    """Names points by their district and the nearest named feature.

    Parameters
    ----------
    districts : GeoDataFrame
        The ``districts`` layer (``adcode``, ``name``, ``name_en``), EPSG:4326.
    places, roads, compounds : GeoDataFrame, optional
        The store's layers of those names, EPSG:4326; rows without a name are left out. A street
        is measured to its line, a compound to its outline (0 inside it), a place to its point.
    """

    def __init__(self, districts: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None = None,
                 roads: gpd.GeoDataFrame | None = None, compounds: gpd.GeoDataFrame | None = None):
        check_wgs84(districts, "districts")
        self.districts = districts
        self._adcodes = districts["adcode"].to_numpy(np.int64)
        self._names = districts["name"].astype(str).to_numpy(dtype=object)
        self._names_en = (districts["name_en"].astype(str).to_numpy(dtype=object) if "name_en" in districts
                          else self._names)
        geoms, names, kinds = [], [], []
        for kind, layer in (("compound", compounds), ("place", places), ("road", roads)):
            if layer is None or len(layer) == 0 or "name" not in layer:
                continue
            check_wgs84(layer, kind)
            keep = np.array([_text_or_none(v) is not None for v in layer["name"].to_numpy(dtype=object)], dtype=bool)
            if not keep.any():
                continue
            metric = gpd.GeoSeries(layer.geometry.values[keep], crs=4326).to_crs(METRIC_EPSG).values.to_numpy()
            geoms.append(metric)
            names.extend(_text_or_none(v) for v in layer["name"].to_numpy(dtype=object)[keep])
            kinds.extend([kind] * int(keep.sum()))
        self._geoms = np.concatenate(geoms) if geoms else np.empty(0, dtype=object)
        self._anchor = np.array(names, dtype=object)
        self._kind = np.array(kinds, dtype=object)
        self._kind_rank = np.array([KIND_ORDER[k] for k in kinds], dtype=np.int64)
        self._tree = shapely.STRtree(self._geoms) if len(self._geoms) else None

    def __len__(self) -> int:
        """Named features it may name a point after."""
        return len(self._geoms)

    def _nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per metric point, the position of the nearest named feature within :data:`FAR_M` (-1 for none)
        and its distance; of features equally near, the first by :data:`KIND_ORDER`, then name."""
        n = len(x)
        best = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        if self._tree is None or n == 0:
            return best, dist
        pts = shapely.points(x, y)
        (qi, ti), d = self._tree.query_nearest(pts, max_distance=FAR_M, return_distance=True, all_matches=True)
        if len(qi) == 0:
            return best, dist
        # ties (a point inside two compounds, on a crossing): compound, place, road, then the name
        order = np.lexsort((self._anchor[ti].astype(str), self._kind_rank[ti], d, qi))
        qi, ti, d = qi[order], ti[order], d[order]
        first = np.r_[True, qi[1:] != qi[:-1]]
        best[qi[first]] = ti[first]
        dist[qi[first]] = d[first]
        return best, dist

    def name(self, lon, lat, own_names=None, adcodes=None) -> list[SiteName]:
        """The names of points.

        Parameters
        ----------
        lon, lat : array_like of float
            WGS-84 degrees.
        own_names : array_like of str or None, optional
            A site's own name (a compound or place the site is, a planner's name for it): used as
            it is, with the district.
        adcodes : array_like of int, optional
            The district of each point when known (candidate sites carry it); else looked up.

        Returns
        -------
        list of SiteName, one per point
        """
        lon = np.asarray(lon, dtype=float).reshape(-1)
        lat = np.asarray(lat, dtype=float).reshape(-1)
        n = len(lon)
        if len(lat) != n:
            raise ValueError(f"{n} longitudes for {len(lat)} latitudes")
        own = [None] * n if own_names is None else [_text_or_none(v) for v in own_names]
        if len(own) != n:
            raise ValueError(f"{len(own)} own names for {n} points")
        if adcodes is None:
            pos = district_index(lon, lat, self.districts)
        else:
            codes = np.asarray(adcodes, dtype=np.int64).reshape(-1)
            lookup = {int(a): i for i, a in enumerate(self._adcodes)}
            pos = np.array([lookup.get(int(a), -1) for a in codes], dtype=np.int64)
            missing = pos < 0
            if missing.any():
                pos[missing] = district_index(lon[missing], lat[missing], self.districts)
        need = np.array([o is None for o in own], dtype=bool)
        best = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        if need.any():
            metric = gpd.GeoSeries(gpd.points_from_xy(lon[need], lat[need]), crs=4326).to_crs(METRIC_EPSG)
            best[need], dist[need] = self._nearest(metric.x.to_numpy(), metric.y.to_numpy())
        out = []
        for i in range(n):
            p = int(pos[i])
            adcode = int(self._adcodes[p]) if p >= 0 else None
            district = str(self._names[p]) if p >= 0 else ""
            district_en = str(self._names_en[p]) if p >= 0 else ""
            if own[i] is not None:
                anchor, kind, relation, distance = own[i], "own", "own", None
            elif best[i] < 0:
                anchor, kind, relation, distance = None, None, "none", None
            else:
                j, distance = int(best[i]), float(dist[i])
                anchor, kind = str(self._anchor[j]), str(self._kind[j])
                relation = "at" if distance <= AT_M else "near" if distance <= NEAR_M else "from"
            out.append(SiteName(adcode, district, district_en, anchor, kind, relation, distance,
                                float(lat[i]), float(lon[i])))
        return out

    def label_candidates(self, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``candidates`` (as :func:`layers.planning.siting.candidate_sites` gives them) with ``label`` and
        ``label_en``: each site's :class:`SiteName` in Chinese and English (its own ``name`` when it has one)."""
        out = candidates.copy()
        if len(out) == 0:
            out["label"] = pd.Series([], dtype=object)
            out["label_en"] = pd.Series([], dtype=object)
            return out
        own = out["name"].to_numpy(dtype=object) if "name" in out else None
        codes = out["adcode"].to_numpy(np.int64) if "adcode" in out else None
        names = self.name(out.geometry.x.to_numpy(), out.geometry.y.to_numpy(), own, codes)
        out["label"] = [s.zh for s in names]
        out["label_en"] = [s.en for s in names]
        return out
