"""The planning context: the coverage model over the stored stations and demand, built once per store version, and planners' recent uploads."""
from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

import shapely

from layers.common.caching import BoundedCache
from layers.planning.coverage import CoverageModel
from layers.common.districts import chengdu_outline

#: Uploaded demands (and candidate lists) kept on the server at once; the oldest goes first.
MAX_UPLOADS = 4
#: Tokens are 22 URL-safe characters; anything longer is refused without a lookup.
MAX_TOKEN_CHARS = 64


@dataclass
class Upload:
    """One planner upload kept on the server under a random token.

    Attributes
    ----------
    value : DemandPoints or GeoDataFrame
        The uploaded demand points, or the candidate sites (as :func:`layers.planning.siting.candidate_sites`
        gives them).
    summary : dict
        What the page shows about it: ``name`` (file name), ``rows``, ``weight`` (total), ``crs``.
    model : CoverageModel or None
        For demand: its coverage model, rebuilt when the store changes (``store_token``).
    """

    value: object
    summary: dict
    model: CoverageModel | None = None
    store_token: object = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class RecentUploads:
    """At most ``size`` uploads under random tokens, the least recently used dropped first; thread-safe."""

    def __init__(self, size: int = MAX_UPLOADS):
        self.size = size
        self._items: BoundedCache[Upload] = BoundedCache(size)

    def add(self, upload: Upload) -> str:
        token = secrets.token_urlsafe(16)
        self._items.put(token, upload)
        return token

    def get(self, token) -> Upload | None:
        """The upload under ``token``, or None for anything else (unknown, dropped, not a token)."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            return None
        return self._items.get(token)

    def __len__(self) -> int:
        return len(self._items)


class PlanningContext:
    """What the planner page and the coverage API share: one :class:`CoverageModel` of the stored
    demand, rebuilt only when the store changes, plus the districts and candidate sites.

    Parameters
    ----------
    store : mapdata.store.Store
    catalogue : layers.rider.catalogue.StationCatalogue
        Gives the stations and the road network the rider side uses, so both agree.
    """

    def __init__(self, store, catalogue):
        self.store = store
        self.catalogue = catalogue
        self._lock = threading.Lock()
        self._model = None
        self._token = None
        self._candidates = None
        self._outline = None
        self.uploads = RecentUploads(MAX_UPLOADS)
        self.candidate_uploads = RecentUploads(MAX_UPLOADS)

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

    def add_upload(self, points, name: str | None = None) -> str:
        """Keep a planner's uploaded demand (:class:`layers.planning.demand.DemandPoints`) and build its model.

        Returns the token that :meth:`model_for_token` takes. Only the :data:`MAX_UPLOADS` most
        recently used uploads are kept.
        """
        token = self._current_token()
        model = self.model_for(points.lon, points.lat, points.weight)
        summary = {"name": name, "rows": len(points), "weight": float(points.weight.sum()), "crs": points.crs}
        return self.uploads.add(Upload(points, summary, model, token))

    def upload(self, token) -> Upload | None:
        """The uploaded demand under ``token`` (None when unknown or dropped), its model up to date."""
        upload = self.uploads.get(token)
        if upload is None:
            return None
        current = self._current_token()
        with upload.lock:
            if upload.model is None or current != upload.store_token or current is None:
                p = upload.value
                upload.model = self.model_for(p.lon, p.lat, p.weight)
                upload.store_token = current
        return upload

    def model_for_token(self, token) -> CoverageModel | None:
        """The coverage model of the uploaded demand under ``token``, or None when it is unknown or dropped."""
        upload = self.upload(token)
        return None if upload is None else upload.model

    def add_candidates(self, sites, name: str | None = None, crs: str | None = None) -> str:
        """Keep a planner's own candidate sites (:func:`layers.planning.demand.parse_candidate_upload`); returns a token."""
        from layers.planning.siting import candidate_sites

        frame = candidate_sites(self.districts(), spacing_m=None, planner_sites=sites)
        return self.candidate_uploads.add(Upload(frame, {"name": name, "rows": len(frame), "crs": crs}))

    def candidates_for_token(self, token):
        """The candidate sites uploaded under ``token``, or None when unknown or dropped."""
        upload = self.candidate_uploads.get(token)
        return None if upload is None else upload.value

    def districts(self):
        return self.store.read("districts")

    def outline(self):
        """Chengdu's outline (WGS-84, prepared): where uploaded demand and sites must lie."""
        token = self._current_token()
        hit = self._outline
        if hit is None or hit[0] != token or token is None:
            outline = chengdu_outline(self.districts())
            shapely.prepare(outline)
            hit = self._outline = (token, outline)
        return hit[1]

    def candidates(self):
        """Candidate sites for new stations: OSM places and compounds in the centre, a grid elsewhere."""
        if self._candidates is None:
            from layers.planning.siting import candidate_sites

            self._candidates = candidate_sites(self.districts(), compounds=self.store.read("compounds"),
                                               osm_places=self.store.read("places"))
        return self._candidates
