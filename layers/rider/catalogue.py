"""The station catalogue: the stations layer and the finder built on it, kept current with the store."""
from __future__ import annotations

import gzip
import json
import threading
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.common.caching import BoundedCache
from layers.common.errors import QuestionError
from mapdata.store import Store
from mapdata.vocabulary import AMENITY_KEYS

#: The properties of a station as the API and the map publish it.
PUBLIC_PROPERTIES = ("id", "name", "district", "street", "address", "phone", "amenities", "opening_hours",
                     "status", "status_note", "status_until", "version")

#: What the map needs of each station: small enough for 100,000 stations on a phone.
MAP_FIELDS = ("id", "name", "status")

#: Simplification steps a client may ask a layer for, in metres: a few fixed steps keep the cache
#: of serialised layers small (any float would make a new entry).
SIMPLIFY_STEPS_M = (1.0, 2.0, 5.0, 10.0, 30.0, 100.0)
#: Serialised layers kept at once (a layer and a filter each).
LAYER_CACHE_SIZE = 32

_ORDER = {k: i for i, k in enumerate(AMENITY_KEYS)}


def amenity_list(value) -> list[str]:
    """A station's amenities as a list in vocabulary order."""
    return sorted(value, key=lambda k: _ORDER.get(k, len(_ORDER)))


def _plain(value):
    if value is None:
        return None
    if isinstance(value, (frozenset, set)):
        return amenity_list(value)
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def station_feature(row, fields=PUBLIC_PROPERTIES) -> dict:
    """One station as a GeoJSON Feature (WGS-84, coordinates rounded to 7 decimals, about 1 cm)."""
    geom = row.geometry
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": {"type": "Point", "coordinates": [round(geom.x, 7), round(geom.y, 7)]},
        "properties": {k: _plain(row[k]) for k in fields},
    }


@dataclass
class _Snapshot:
    token: object
    stations: gpd.GeoDataFrame
    finder: object
    by_id: dict
    collection_json: dict = None  # fields -> bytes
    collection_gzip: dict = None  # fields -> gzip bytes
    places: object = None


class StationCatalogue:
    """Stations, their finder and their GeoJSON, rebuilt only when the store changes.

    Parameters
    ----------
    store : Store
    with_network : bool
        Build riding distances on the road network from the store's ``roads`` layer.
    """

    def __init__(self, store: Store, with_network: bool = True):
        self.store = store
        self.with_network = with_network
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._network = None
        self.layer_cache: BoundedCache[bytes] = BoundedCache(LAYER_CACHE_SIZE)

    def _token(self):
        mtime = getattr(self.store, "_mtime", None)
        return mtime() if mtime else None

    def snapshot(self) -> _Snapshot:
        token = self._token()
        with self._lock:
            snap = self._snapshot
            if snap is None or snap.token != token or token is None:
                from layers.rider.nearest import StationFinder

                stations = self.store.read("stations")
                finder = StationFinder(stations, network=self.network())
                snap = _Snapshot(token, stations, finder, {sid: i for i, sid in enumerate(stations["id"])})
                self._snapshot = snap
            return snap

    def network(self):
        """The riding network, built once: roads do not change while the app runs."""
        if not self.with_network:
            return None
        if self._network is None and "roads" in self.store.layers():
            from layers.common.network import RoadNetwork

            self._network = RoadNetwork.from_roads(self.store.read("roads"))
        return self._network

    @property
    def stations(self) -> gpd.GeoDataFrame:
        return self.snapshot().stations

    @property
    def finder(self):
        return self.snapshot().finder

    def feature(self, station_id: str) -> dict | None:
        snap = self.snapshot()
        i = snap.by_id.get(station_id)
        return None if i is None else station_feature(snap.stations.iloc[i])

    def feature_collection_json(self, fields: tuple[str, ...] = PUBLIC_PROPERTIES) -> bytes:
        """All stations as a GeoJSON FeatureCollection, serialised once per store version and field list."""
        snap = self.snapshot()
        if snap.collection_json is None:
            snap.collection_json = {}
        body = snap.collection_json.get(fields)
        if body is None:
            st = snap.stations
            xs = np.round(st.geometry.x.to_numpy(), 7).tolist()
            ys = np.round(st.geometry.y.to_numpy(), 7).tolist()
            columns = {f: [_plain(v) for v in st[f].tolist()] for f in fields}
            ids = st["id"].tolist()
            features = [{"type": "Feature", "id": ids[i],
                         "geometry": {"type": "Point", "coordinates": [xs[i], ys[i]]},
                         "properties": {f: columns[f][i] for f in fields}} for i in range(len(ids))]
            body = json.dumps({"type": "FeatureCollection", "features": features},
                              ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            snap.collection_json[fields] = body
        return body

    def feature_collection_gzip(self, fields: tuple[str, ...] = PUBLIC_PROPERTIES) -> bytes:
        """The same, gzip-compressed once per store version (a 100,000-station body takes ~0.2 s to compress)."""
        snap = self.snapshot()
        if snap.collection_gzip is None:
            snap.collection_gzip = {}
        body = snap.collection_gzip.get(fields)
        if body is None:
            body = gzip.compress(self.feature_collection_json(fields), compresslevel=6, mtime=0)
            snap.collection_gzip[fields] = body
        return body

    def places(self):
        """The name index for "search a place": stations, compounds, streets, districts."""
        from layers.rider.search import PlaceIndex

        snap = self.snapshot()
        if getattr(snap, "places", None) is None:
            layers = set(self.store.layers())
            read = lambda name: self.store.read(name) if name in layers else None  # noqa: E731
            snap.places = PlaceIndex(snap.stations, read("compounds"), read("roads"), read("districts"))
        return snap.places

    def highway_classes(self) -> tuple[str, ...]:
        """The OSM ``highway`` values the roads layer holds (what a roads filter may name)."""
        token = self._token()
        return self.layer_cache.get_or_build(("highway-classes", token), lambda: tuple(
            sorted(set(self.store.read("roads")["highway"].dropna().astype(str)))))

    def layer_geojson(self, layer: str, highway: tuple[str, ...] = (), simplify_m: float | None = None) -> bytes:
        """A whole layer as GeoJSON, cached (a bounded number) until the store changes; roads can be
        filtered by class.

        Raises
        ------
        QuestionError
            For a ``highway`` class the roads do not hold, a filter on another layer, or a
            ``simplify_m`` that is not one of :data:`SIMPLIFY_STEPS_M`.
        """
        from layers.common.geojson import feature_collection

        highway = tuple(sorted(set(highway)))
        if highway:
            if layer != "roads":
                raise QuestionError("highway", "only the roads layer can be filtered by highway")
            known = self.highway_classes()
            unknown = [h for h in highway if h not in known]
            if unknown:
                raise QuestionError("highway", f"unknown highway class {unknown[0]!r}; the roads hold "
                                               f"{', '.join(known)}")
        if simplify_m is not None and float(simplify_m) not in SIMPLIFY_STEPS_M:
            raise QuestionError("simplify_m", f"got {simplify_m!r}; expected one of "
                                              f"{', '.join(f'{s:g}' for s in SIMPLIFY_STEPS_M)} (metres)")
        simplify = None if simplify_m is None else float(simplify_m)
        token = self._token()

        def build() -> bytes:
            gdf = self.store.read(layer)
            if highway:
                gdf = gdf[gdf["highway"].isin(highway)]
            id_column = "adcode" if layer == "districts" else "id"
            return feature_collection(gdf, id_column=id_column, simplify_m=simplify)

        return self.layer_cache.get_or_build((token, layer, highway, simplify), build)
