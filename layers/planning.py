"""The planning context: the coverage model over the stored stations and demand, built once per store version."""
from __future__ import annotations

import threading

from layers.coverage import CoverageModel


class PlanningContext:
    """What the planner page and the coverage API share: one :class:`CoverageModel` of the stored
    demand, rebuilt only when the store changes, plus the districts and candidate sites.

    Parameters
    ----------
    store : mapdata.store.Store
    catalogue : layers.catalogue.StationCatalogue
        Gives the stations and the road network the rider side uses, so both agree.
    """

    def __init__(self, store, catalogue):
        self.store = store
        self.catalogue = catalogue
        self._lock = threading.Lock()
        self._model = None
        self._token = None
        self._candidates = None

    def _current_token(self):
        mtime = getattr(self.store, "_mtime", None)
        return mtime() if mtime else None

    def model(self) -> CoverageModel:
        """The coverage model of the stored demand against the stored stations."""
        token = self._current_token()
        with self._lock:
            if self._model is None or token != self._token or token is None:
                self._model = CoverageModel.from_layers(
                    self.catalogue.stations, self.store.read("demand"),
                    districts=self.store.read("districts"), network=self.catalogue.network(),
                    hours=self.catalogue.finder.hours)
                self._token = token
            return self._model

    def model_for(self, lon, lat, weight) -> CoverageModel:
        """A coverage model of uploaded demand against the stored stations (not cached)."""
        return CoverageModel(self.catalogue.stations, lon, lat, weight, districts=self.store.read("districts"),
                             network=self.catalogue.network(), hours=self.catalogue.finder.hours)

    def districts(self):
        return self.store.read("districts")

    def candidates(self):
        """Candidate sites for new stations: OSM places and compounds in the centre, a grid elsewhere."""
        if self._candidates is None:
            from layers.siting import candidate_sites
            from mapdata.demand_demo import osm_pickup_places

            self._candidates = candidate_sites(self.districts(), compounds=self.store.read("compounds"),
                                               osm_places=osm_pickup_places())
        return self._candidates
