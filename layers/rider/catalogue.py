"""The station catalogue: the stations, their finder, their state and their GeoJSON, kept current with the store."""
from __future__ import annotations

import gzip
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np

from layers.common import geojson
from layers.common.caching import BoundedCache, Derived
from layers.common.calendar import as_local, calendar_generation, to_minute
from layers.common.errors import QuestionError
from layers.common.hours import StationState, station_state
from layers.common.network import RoadNetwork
from layers.rider.compound_names import CompoundNames
from layers.rider.nearest import StationFinder
from layers.rider.search import PlaceIndex
from layers.rider.viewport import MAX_FEATURES, ViewIndex, check_view, view
from mapdata.store import Store

#: The properties of a station as the API and the map publish it.
PUBLIC_PROPERTIES = ("id", "name", "district", "street", "address", "phone", "amenities", "amenities_out",
                     "opening_hours", "status", "status_note", "status_until", "confirmed_at", "version")

#: What the map needs of each station: small enough for 100,000 stations on a phone.
MAP_FIELDS = ("id", "name", "status")

#: Layers published whole (stations have their own routes).
PUBLIC_LAYERS = ("districts", "roads", "compounds", "gates", "buildings", "entry_routes", "wayfinding_signs")

#: Simplification steps a client may ask a layer for, in metres: a few fixed steps keep the cache
#: of serialised layers small (any float would make a new entry).
SIMPLIFY_STEPS_M = (1.0, 2.0, 5.0, 10.0, 30.0, 100.0)
#: Serialised layers kept at once (a layer and a filter each).
LAYER_CACHE_SIZE = 32
#: Serialised station collections kept per store version (one per field list asked for).
COLLECTION_CACHE_SIZE = 8
ENTRY_LAYERS = ("compounds", "gates", "buildings", "entry_routes", "wayfinding_signs")


@dataclass
class Snapshot:
    """The stations of one store version and what is built on them."""

    stations: gpd.GeoDataFrame
    finder: StationFinder
    by_id: dict[str, int]
    bodies: BoundedCache = field(default_factory=lambda: BoundedCache(2 * COLLECTION_CACHE_SIZE))
    #: the viewport index, the columns it reads and the open masks of recent minutes (:meth:`stations_view`)
    views: BoundedCache = field(default_factory=lambda: BoundedCache(2 * COLLECTION_CACHE_SIZE))


class StationCatalogue:
    """Stations, their finder, the road network and the published layers, rebuilt only when the store changes.

    Parameters
    ----------
    store : Store
    with_network : bool
        Build riding distances on the road network from the store's ``roads`` layer.
    """

    def __init__(self, store: Store, with_network: bool = True):
        self.store = store
        self.with_network = with_network
        self._network = Derived(store, ("roads",), self._build_network)
        self._snapshot = Derived(store, ("stations", "roads"), self._build_snapshot)
        self._places = Derived(store, ("stations", "compounds", "roads", "districts"), self._build_places)
        self._entry = Derived(store, ENTRY_LAYERS, lambda: {name: store.read(name) for name in ENTRY_LAYERS})
        self._compound_names = Derived(store, ("compounds",), lambda: CompoundNames(self.entry_layers()["compounds"]))
        self.layer_cache: BoundedCache[bytes] = BoundedCache(LAYER_CACHE_SIZE)

    # -- derived structures ------------------------------------------------------------------
    def _build_network(self) -> RoadNetwork | None:
        if not self.with_network or "roads" not in self.store.layers():
            return None
        return RoadNetwork.from_roads(self.store.read("roads"))

    def _build_snapshot(self) -> Snapshot:
        stations = self.store.read("stations")
        if "retired_at" in stations:  # a retired station keeps its history but no rider is sent there
            stations = stations[stations["retired_at"].isna()].reset_index(drop=True)
        finder = StationFinder(stations, network=self.network())
        return Snapshot(stations, finder, {sid: i for i, sid in enumerate(stations["id"])})

    def _build_places(self) -> PlaceIndex:
        layers = set(self.store.layers())

        def read(name):
            return self.store.read(name) if name in layers else None

        return PlaceIndex(self.snapshot().stations, read("compounds"), read("roads"), read("districts"))

    def network(self) -> RoadNetwork | None:
        """The riding network (None without roads), rebuilt when the roads change."""
        return self._network.get()

    def snapshot(self) -> Snapshot:
        return self._snapshot.get()

    @property
    def stations(self) -> gpd.GeoDataFrame:
        return self.snapshot().stations

    @property
    def finder(self) -> StationFinder:
        return self.snapshot().finder

    def places(self) -> PlaceIndex:
        """The name index for "search a place": stations, compounds, streets, districts."""
        return self._places.get()

    def entry_layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The layers :func:`layers.rider.entry.entry_route` reads, as of the current store version."""
        return self._entry.get()

    def compound_names(self) -> CompoundNames:
        """The compounds' names with their pinyin, for :func:`layers.rider.compound_names.closest_compounds`."""
        return self._compound_names.get()

    # -- questions about stations -------------------------------------------------------------
    def position(self, station_id) -> int | None:
        """The row of ``station_id`` in :attr:`stations`, None for an unknown id (or anything else)."""
        if not isinstance(station_id, str):
            return None
        return self.snapshot().by_id.get(station_id)

    def states(self, positions: list[int], at) -> list[StationState]:
        """Whether each station is open at ``at`` and when that changes (temporary closures applied)."""
        hours = self.finder.hours
        is_open = hours.open_at(at)[positions]
        closes = hours.closes_at(at, positions)
        opens = hours.next_opens_at(at, positions)
        return [station_state(bool(o), c, n, at) for o, c, n in zip(is_open, closes, opens)]

    def week_schedule(self, position: int, week_of) -> list[dict]:
        """The week of hours of one station, Monday to Sunday (:meth:`HoursTable.week_schedule`)."""
        return self.finder.hours.week_schedule(position, week_of)

    # -- GeoJSON -----------------------------------------------------------------------------
    def feature(self, station_id: str) -> dict | None:
        """One station as a GeoJSON Feature, None when there is no such station."""
        i = self.position(station_id)
        if i is None:
            return None
        row = self.stations.iloc[i]
        return geojson.feature(geojson.point(row.geometry.x, row.geometry.y),
                               {k: row[k] for k in PUBLIC_PROPERTIES}, row["id"])

    def _check_fields(self, fields: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [f for f in fields if f not in PUBLIC_PROPERTIES]
        if unknown or not fields:
            raise QuestionError("fields", f"unknown field {unknown[0]!r}; fields: {', '.join(PUBLIC_PROPERTIES)}"
                                if unknown else "ask for at least one field")
        # one order for any spelling of the same list, so that the cache has one entry for it
        return tuple(f for f in PUBLIC_PROPERTIES if f in set(fields))

    def feature_collection_json(self, fields: tuple[str, ...] = PUBLIC_PROPERTIES) -> bytes:
        """All stations as a GeoJSON FeatureCollection, serialised once per store version and field list."""
        fields = self._check_fields(tuple(fields))
        snap = self.snapshot()

        def build() -> bytes:
            st = snap.stations
            return geojson.point_collection(st.geometry.x.to_numpy(), st.geometry.y.to_numpy(),
                                            {f: st[f].tolist() for f in fields}, st["id"].tolist())

        return snap.bodies.get_or_build(("json", fields), build)

    def feature_collection_gzip(self, fields: tuple[str, ...] = PUBLIC_PROPERTIES) -> bytes:
        """The same, gzip-compressed once per store version (a 100,000-station body takes ~0.2 s to compress)."""
        fields = self._check_fields(tuple(fields))
        snap = self.snapshot()
        return snap.bodies.get_or_build(("gzip", fields), lambda: gzip.compress(
            self.feature_collection_json(fields), compresslevel=6, mtime=0))

    def stations_view(self, bbox, zoom: int, fields: tuple[str, ...] = MAP_FIELDS, at=None,
                      max_features: int = MAX_FEATURES, question=None) -> dict:
        """The stations inside ``bbox`` (min lon, min lat, max lon, max lat) at ``zoom``, as a GeoJSON
        FeatureCollection dict: the stations themselves (their ``fields``) from zoom 14, clusters on the
        zoom's pixel grid below it, never more than ``max_features`` features
        (:func:`layers.rider.viewport.view`). Clusters count the members open at ``at`` (None: not counted)
        and, given ``question`` (amenity keys, moment or None for any time), the members answering it
        (:meth:`StationFinder.answering`).

        Raises
        ------
        QuestionError
            Naming ``bbox``, ``zoom`` or ``fields``.
        """
        bbox, zoom = check_view(bbox, zoom)
        fields = self._check_fields(tuple(fields))
        snap = self.snapshot()
        st = snap.stations
        index = snap.views.get_or_build("index", lambda: ViewIndex.build(st.geometry.x.to_numpy(),
                                                                          st.geometry.y.to_numpy()))
        columns = {f: snap.views.get_or_build(("column", f), lambda f=f: st[f].to_numpy()) for f in fields}
        ids = snap.views.get_or_build(("column", "id"), lambda: st["id"].astype(str).to_numpy())
        mask = None
        if at is not None:
            t = to_minute(as_local(at))
            mask = snap.views.get_or_build(("open", calendar_generation(), t), lambda: np.asarray(
                snap.finder.hours.open_at(t), dtype=bool))
        answers = None if question is None else snap.finder.answering(*question)
        return view(index, bbox, zoom, columns, ids, open_mask=mask, max_features=max_features,
                    answer_mask=answers)

    def highway_classes(self) -> tuple[str, ...]:
        """The OSM ``highway`` values the roads layer holds (what a roads filter may name)."""
        return self.layer_cache.get_or_build(("highway-classes", self.store.version("roads")), lambda: tuple(
            sorted(set(self.store.read("roads")["highway"].dropna().astype(str)))))

    def layer_geojson(self, layer: str, highway: tuple[str, ...] = (), simplify_m: float | None = None) -> bytes:
        """A whole layer as GeoJSON, cached (a bounded number) until the layer changes; roads can be
        filtered by class.

        Raises
        ------
        QuestionError
            For a layer that is not published, a ``highway`` class the roads do not hold, a filter on
            another layer, or a ``simplify_m`` that is not one of :data:`SIMPLIFY_STEPS_M`.
        """
        if layer not in PUBLIC_LAYERS:
            raise QuestionError("layer", f"no layer {layer!r}; layers: {', '.join(PUBLIC_LAYERS)}")
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

        def build() -> bytes:
            gdf = self.store.read(layer)
            if highway:
                gdf = gdf[gdf["highway"].isin(highway)]
            return geojson.frame_collection(gdf, id_column="adcode" if layer == "districts" else "id",
                                            simplify_m=simplify)

        return self.layer_cache.get_or_build((self.store.version(layer), layer, highway, simplify), build)

