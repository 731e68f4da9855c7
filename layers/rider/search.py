"""Finding a place by (part of) its Chinese name: stations, compounds, streets and districts."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

_KIND_ORDER = {"station": 0, "compound": 1, "road": 2, "district": 3}


@dataclass(frozen=True)
class Place:
    kind: str  # station, compound, road, district
    id: str
    name: str
    lat: float
    lon: float


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no spaces or punctuation: '万科·金域蓝湾' ~ '万科金域蓝湾'."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"[\s·•・,，.。()（）\-_/]+", "", text)


class PlaceIndex:
    """A name index over the layers a rider may search.

    Parameters
    ----------
    stations, compounds, roads, districts : GeoDataFrames (EPSG:4326); any may be None.
    """

    def __init__(self, stations=None, compounds=None, roads=None, districts=None):
        frames = []
        for kind, gdf, id_col in (("station", stations, "id"), ("compound", compounds, "id"),
                                  ("road", roads, "id"), ("district", districts, "adcode")):
            if gdf is None or len(gdf) == 0:
                continue
            g = gdf[gdf["name"].notna()]
            if kind == "road":  # one entry per street name, at the middle of its longest piece
                # lengths in degrees: only to rank the pieces of one street against each other
                g = g.assign(_len=shapely.length(g.geometry.values))
                g = g.sort_values(["name", "_len", id_col], ascending=[True, False, True], kind="stable")
                g = g.drop_duplicates("name")
            pts = shapely.point_on_surface(g.geometry.values) if kind != "road" else \
                shapely.line_interpolate_point(g.geometry.values, 0.5, normalized=True)
            frames.append(pd.DataFrame({"kind": kind, "id": g[id_col].astype(str).values, "name": g["name"].values,
                                        "lat": shapely.get_y(pts), "lon": shapely.get_x(pts)}))
        self.table = pd.concat(frames, ignore_index=True) if frames else \
            pd.DataFrame(columns=["kind", "id", "name", "lat", "lon"])
        self._keys = self.table["name"].map(normalise).to_numpy(dtype=object)
        self._order = self.table["kind"].map(_KIND_ORDER).to_numpy()

    def get(self, kind: str, place_id: str) -> Place | None:
        """The place of that kind and id (as :meth:`search` returned it), or None when there is none."""
        rows = self.table[(self.table["kind"] == kind) & (self.table["id"] == place_id)]
        if rows.empty:
            return None
        r = rows.iloc[0]
        return Place(r["kind"], r["id"], r["name"], float(r["lat"]), float(r["lon"]))

    def search(self, query: str, limit: int = 5, kinds: tuple[str, ...] | None = None) -> list[Place]:
        """Places whose name contains the query; exact names first, then names starting with it, then
        shorter names, stations before compounds before streets before districts."""
        q = normalise(query)
        if not q:
            return []
        hits = np.array([q in k for k in self._keys], dtype=bool)
        if kinds:
            hits &= self.table["kind"].isin(kinds).to_numpy()
        idx = np.flatnonzero(hits)
        if idx.size == 0:
            return []
        keys = self._keys[idx]
        rank = np.array([0 if k == q else 1 if k.startswith(q) else 2 for k in keys])
        lengths = np.array([len(k) for k in keys])
        order = np.lexsort((self.table["name"].to_numpy()[idx], lengths, self._order[idx], rank))
        rows = self.table.iloc[idx[order[:limit]]]
        return [Place(r.kind, r.id, r.name, float(r.lat), float(r.lon)) for r in rows.itertuples()]
