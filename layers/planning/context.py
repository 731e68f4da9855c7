"""The planning context: the coverage model over the stored stations and demand, the candidate sites, and
planners' recent uploads, each rebuilt only when the layers it is made of change.

Uploads are kept in the store (``store.uploads``) under their token, so whichever worker or server
answers the planner's next request finds them; each process keeps the ones it used last, decoded
and with their coverage model, and asks the store only whether they are still kept.
"""
from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.common.caching import BoundedCache, Derived
from layers.common.districts import chengdu_outline
from layers.planning.coverage import CoverageModel
from layers.planning.demand import DemandPoints
from layers.planning.naming import SiteNamer
from layers.planning.siting import candidate_sites
from layers.rider.catalogue import StationCatalogue

#: Uploaded demands (and candidate lists) kept on the server at once; the oldest goes first.
MAX_UPLOADS = 4
#: The kinds of upload in the store's table of uploads.
DEMAND_KIND, CANDIDATES_KIND = "demand", "candidates"
#: Tokens are 22 URL-safe characters; anything longer is refused without a lookup.
MAX_TOKEN_CHARS = 64
#: The layers a coverage model of uploaded demand is built from (besides the upload itself).
_MODEL_LAYERS = ("stations", "districts", "roads")
#: The layers a site is named from (:class:`layers.planning.naming.SiteNamer`), and the default candidates made of.
_NAMING_LAYERS = ("districts", "compounds", "places", "roads")


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
        For demand: its coverage model, rebuilt when the stations change (``versions``).
    """

    value: object
    summary: dict
    model: CoverageModel | None = None
    versions: tuple | None = None
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

    def put(self, token: str, upload: Upload) -> None:
        self._items.put(token, upload)

    def drop(self, token) -> None:
        self._items.pop(token)

    def __len__(self) -> int:
        return len(self._items)


class StoredUploads:
    """Uploads of one kind kept in the store under random tokens (the ``size`` newest), shared by every
    process on that store, with this process's recently used ones decoded in a :class:`RecentUploads`.

    Parameters
    ----------
    table : mapdata.store.uploads.UploadTable
    kind : str
    encode : callable
        The upload's value as named numpy arrays (no objects).
    decode : callable
        ``(arrays, summary)`` back to the value.
    """

    def __init__(self, table, kind: str, encode: Callable[[object], dict], decode: Callable[[dict, dict], object],
                 size: int = MAX_UPLOADS):
        self.table, self.kind, self.size = table, kind, size
        self._encode, self._decode = encode, decode
        self._cache = RecentUploads(size)

    def add(self, upload: Upload) -> str:
        token = secrets.token_urlsafe(16)
        self.table.put(self.kind, token, self._encode(upload.value), upload.summary, keep=self.size)
        self._cache.put(token, upload)
        return token

    def get(self, token) -> Upload | None:
        """The upload under ``token``, or None for anything else (unknown, dropped by any process, not a token)."""
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
            return None
        if not self.table.has(self.kind, token):
            self._cache.drop(token)
            return None
        hit = self._cache.get(token)
        if hit is not None:
            return hit
        stored = self.table.get(self.kind, token)
        if stored is None:
            return None
        upload = Upload(self._decode(stored.arrays, stored.summary), stored.summary)
        self._cache.put(token, upload)
        return upload

    def __len__(self) -> int:
        return len(self.table.tokens(self.kind))


def _demand_arrays(points: DemandPoints) -> dict:
    arrays = {"lon": points.lon, "lat": points.lat, "weight": points.weight, "row_numbers": points.row_numbers}
    if points.time is not None:
        arrays["time"] = points.time
    return arrays


def _demand_of(arrays: dict, summary: dict) -> DemandPoints:
    return DemandPoints(lon=arrays["lon"], lat=arrays["lat"], weight=arrays["weight"], time=arrays.get("time"),
                        row_numbers=arrays["row_numbers"], crs=summary["crs"])


def _site_arrays(frame: gpd.GeoDataFrame) -> dict:
    """Candidate sites as arrays: the points' coordinates, numeric columns as they are, the others as JSON text."""
    geometry = frame.geometry.name
    numeric = [c for c in frame.columns if c != geometry and pd.api.types.is_numeric_dtype(frame[c])]
    text = {c: [None if v is None or v is pd.NA or v != v else v for v in frame[c].tolist()]  # missing: null
            for c in frame.columns if c != geometry and c not in numeric}
    dtypes = {c: str(frame[c].dtype) for c in text}
    layout = {"columns": [str(c) for c in frame.columns], "geometry": geometry, "text": text, "dtypes": dtypes}
    return {"lon": shapely.get_x(frame.geometry.values.to_numpy()), "lat": shapely.get_y(frame.geometry.values.to_numpy()),
            **{f"col:{c}": frame[c].to_numpy() for c in numeric},
            "layout": np.frombuffer(json.dumps(layout, ensure_ascii=False).encode(), dtype=np.uint8)}


def _sites_of(arrays: dict, summary: dict) -> gpd.GeoDataFrame:
    layout = json.loads(arrays["layout"].tobytes().decode())
    geometry = layout["geometry"]
    data = {c: (gpd.points_from_xy(arrays["lon"], arrays["lat"]) if c == geometry else
                pd.Series(layout["text"][c], dtype=layout["dtypes"][c]) if c in layout["text"] else arrays[f"col:{c}"])
            for c in layout["columns"]}
    return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")


class PlanningContext:
    """What the planner page and the coverage API share.

    One :class:`CoverageModel` of the stored demand, the districts and Chengdu's outline, the
    default candidate sites (OSM places and compounds in the centre, a grid elsewhere), each
    rebuilt only when its layers change; and the planners' recent uploads.

    Parameters
    ----------
    store : mapdata.store.Store
    catalogue : StationCatalogue
        Gives the stations, their opening hours and the road network the rider side uses, so both agree.
    """

    def __init__(self, store, catalogue: StationCatalogue):
        self.store = store
        self.catalogue = catalogue
        self._model = Derived(store, ("demand", *_MODEL_LAYERS), self._build_model)
        self._districts = Derived(store, ("districts",), lambda: store.read("districts"))
        self._outline = Derived(store, ("districts",), self._build_outline)
        self._namer = Derived(store, _NAMING_LAYERS, self._build_namer)
        self._candidates = Derived(store, _NAMING_LAYERS, self._build_candidates)
        self.uploads = StoredUploads(store.uploads, DEMAND_KIND, _demand_arrays, _demand_of, MAX_UPLOADS)
        self.candidate_uploads = StoredUploads(store.uploads, CANDIDATES_KIND, _site_arrays, _sites_of, MAX_UPLOADS)

    # -- derived structures ------------------------------------------------------------------
    def _build_model(self) -> CoverageModel:
        return CoverageModel.from_layers(self.catalogue.stations, self.store.read("demand"),
                                         districts=self.districts(), network=self.catalogue.network(),
                                         hours=self.catalogue.finder.hours)

    def _build_outline(self):
        outline = chengdu_outline(self.districts())
        shapely.prepare(outline)
        return outline

    def _build_namer(self) -> SiteNamer:
        return SiteNamer(self.districts(), places=self.store.read("places"), roads=self.store.read("roads"),
                         compounds=self.store.read("compounds"))

    def _build_candidates(self) -> gpd.GeoDataFrame:
        sites = candidate_sites(self.districts(), compounds=self.store.read("compounds"),
                                osm_places=self.store.read("places"))
        return self.site_namer().label_candidates(sites)

    def model(self) -> CoverageModel:
        """The coverage model of the stored demand against the stored stations."""
        return self._model.get()

    def districts(self) -> gpd.GeoDataFrame:
        return self._districts.get()

    def outline(self):
        """Chengdu's outline (WGS-84, prepared): where uploaded demand and sites must lie."""
        return self._outline.get()

    def candidates(self) -> gpd.GeoDataFrame:
        """Candidate sites for new stations: OSM places and compounds in the centre, a grid elsewhere; each
        with its ``label`` and ``label_en`` (:meth:`layers.planning.naming.SiteNamer.label_candidates`)."""
        return self._candidates.get()

    def site_namer(self) -> SiteNamer:
        """Names a point by its district and the nearest named place, street or compound."""
        return self._namer.get()

    def adcodes(self) -> list[int]:
        """The districts' adcodes, in the layer's order."""
        return [int(a) for a in self.districts()["adcode"]]

    # -- uploads -------------------------------------------------------------------------------
    def model_for(self, lon, lat, weight) -> CoverageModel:
        """A coverage model of uploaded demand against the stored stations (not cached)."""
        return CoverageModel(self.catalogue.stations, lon, lat, weight, districts=self.districts(),
                             network=self.catalogue.network(), hours=self.catalogue.finder.hours)

    def _versions(self) -> tuple:
        return tuple(self.store.version(layer) for layer in _MODEL_LAYERS)

    def add_upload(self, points: DemandPoints, name: str | None = None) -> str:
        """Keep a planner's uploaded demand and build its model; returns the token :meth:`upload` takes.

        Only the :data:`MAX_UPLOADS` newest uploads are kept (in the store, for every process on it).
        """
        versions = self._versions()
        model = self.model_for(points.lon, points.lat, points.weight)
        summary = {"name": name, "rows": len(points), "weight": float(points.weight.sum()), "crs": points.crs}
        return self.uploads.add(Upload(points, summary, model, versions))

    def upload(self, token) -> Upload | None:
        """The uploaded demand under ``token`` (None when unknown or dropped), its model up to date."""
        upload = self.uploads.get(token)
        if upload is None:
            return None
        versions = self._versions()
        with upload.lock:
            if upload.model is None or upload.versions != versions:
                p = upload.value
                upload.model = self.model_for(p.lon, p.lat, p.weight)
                upload.versions = versions
        return upload

    def model_for_token(self, token) -> CoverageModel | None:
        """The coverage model of the uploaded demand under ``token``, or None when it is unknown or dropped."""
        upload = self.upload(token)
        return None if upload is None else upload.model

    def add_candidates(self, sites: gpd.GeoDataFrame, name: str | None = None, crs: str | None = None) -> str:
        """Keep a planner's own candidate sites (:func:`layers.planning.demand.parse_candidate_upload`); returns a token."""
        frame = self.site_namer().label_candidates(candidate_sites(self.districts(), spacing_m=None,
                                                                  planner_sites=sites))
        return self.candidate_uploads.add(Upload(frame, {"name": name, "rows": len(frame), "crs": crs}))

    def candidates_for_token(self, token) -> gpd.GeoDataFrame | None:
        """The candidate sites uploaded under ``token``, or None when unknown or dropped."""
        upload = self.candidate_uploads.get(token)
        return None if upload is None else upload.value
