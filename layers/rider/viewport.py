"""Stations by viewport: what a map shows of a bounding box at a zoom, bounded whatever the box or the catalogue.

At and above :data:`STATIONS_ZOOM` the answer is the stations themselves; below it (or when a box holds
more than :data:`MAX_FEATURES` stations) they are grouped on a grid of Web Mercator pixels at that zoom:
cells of :data:`CELL_PX` pixels anchored at the world's corner, so a cell is the same cell whichever way
the map is panned. A cell holding one station answers the station; a cell holding more answers a cluster
(its count, the centroid and the bounding box of its members, how many are open and, when the map asks a
question, how many answer it). When a box would still give more than :data:`MAX_FEATURES` cells the cells
are doubled until it does not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from layers.common import geojson
from layers.common.errors import QuestionError

#: From this zoom on, stations are answered one by one (a city block fills a phone's screen).
STATIONS_ZOOM = 14
#: The side of a cluster cell, in pixels at the asked zoom.
CELL_PX = 60
#: The most features one answer holds, whatever the box.
MAX_FEATURES = 2_000
#: Zooms a map may ask for.
MIN_ZOOM, MAX_ZOOM = 3, 19
TILE_PX = 256
#: Web Mercator stops here; stations beyond it are drawn at its edge.
MAX_MERCATOR_LAT = 85.05112878


def mercator_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude as Web Mercator world coordinates in [0, 1] (x east, y south), as tiles count."""
    x = (np.asarray(lon, dtype=float) + 180.0) / 360.0
    phi = np.radians(np.clip(np.asarray(lat, dtype=float), -MAX_MERCATOR_LAT, MAX_MERCATOR_LAT))
    y = (1.0 - np.log(np.tan(phi) + 1.0 / np.cos(phi)) / math.pi) / 2.0
    return np.clip(x, 0.0, 1.0), np.clip(y, 0.0, 1.0)


def check_view(bbox, zoom) -> tuple[tuple[float, float, float, float], int]:
    """``bbox`` (min lon, min lat, max lon, max lat) and ``zoom`` checked: finite, in range, min below max.

    Raises
    ------
    QuestionError
        Naming ``bbox`` or ``zoom``.
    """
    try:
        box = tuple(float(v) for v in bbox)
    except (TypeError, ValueError):
        raise QuestionError("bbox", "expected four numbers: min lon, min lat, max lon, max lat") from None
    if len(box) != 4 or not all(math.isfinite(v) for v in box):
        raise QuestionError("bbox", "expected four finite numbers: min lon, min lat, max lon, max lat")
    west, south, east, north = box
    if not (-180 <= west <= 180 and -180 <= east <= 180):
        raise QuestionError("bbox", f"longitudes must be within -180..180, got {west:g} and {east:g}")
    if not (-90 <= south <= 90 and -90 <= north <= 90):
        raise QuestionError("bbox", f"latitudes must be within -90..90, got {south:g} and {north:g}")
    if not (west < east and south < north):
        raise QuestionError("bbox", f"min must be below max: got lon {west:g}..{east:g}, lat {south:g}..{north:g}")
    if isinstance(zoom, bool) or not isinstance(zoom, (int, np.integer)) or not MIN_ZOOM <= zoom <= MAX_ZOOM:
        raise QuestionError("zoom", f"expected a whole number from {MIN_ZOOM} to {MAX_ZOOM}, got {zoom!r}")
    return (west, south, east, north), int(zoom)


@dataclass
class ViewIndex:
    """The stations ordered by longitude, with their Web Mercator coordinates: built once per store version.

    Parameters
    ----------
    lon, lat : the stations' coordinates, in the catalogue's row order
    """

    order: np.ndarray      # catalogue rows by longitude
    lon: np.ndarray        # sorted
    lat: np.ndarray
    x: np.ndarray          # Web Mercator [0, 1], same order
    y: np.ndarray

    @classmethod
    def build(cls, lon: np.ndarray, lat: np.ndarray) -> ViewIndex:
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        order = np.argsort(lon, kind="stable")
        x, y = mercator_xy(lon[order], lat[order])
        return cls(order, lon[order], lat[order], x, y)

    def inside(self, bbox) -> np.ndarray:
        """Positions in the index (not catalogue rows) of the stations inside ``bbox``, edges included."""
        west, south, east, north = bbox
        a, b = int(np.searchsorted(self.lon, west, "left")), int(np.searchsorted(self.lon, east, "right"))
        lat = self.lat[a:b]
        return a + np.flatnonzero((lat >= south) & (lat <= north))


def _spread_bits(v: np.ndarray) -> np.ndarray:
    """The bits of ``v`` (< 2^32) moved to the even positions of a 64-bit word."""
    v = v.astype(np.uint64) & np.uint64(0xFFFFFFFF)
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF), (4, 0x0F0F0F0F0F0F0F0F),
                        (2, 0x3333333333333333), (1, 0x5555555555555555)):
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def _grid(x: np.ndarray, y: np.ndarray, zoom: int, max_cells: int):
    """The points grouped in cells of ``CELL_PX·2^k`` pixels at ``zoom``, the smallest k giving at most
    ``max_cells`` cells: (order of the points, start of each cell in that order, column and row of each cell, k).

    Cells of 2^k·60 px nest in those of 60 px, so one sort on the Z-order (Morton) code of the 60 px cells
    serves every k: the code of a point's cell at k is that code shifted by 2k bits, still sorted.
    """
    world = TILE_PX * 2 ** zoom
    ix0 = (np.minimum(x * world, world - 1) // CELL_PX).astype(np.int64)
    iy0 = (np.minimum(y * world, world - 1) // CELL_PX).astype(np.int64)
    code = _spread_bits(ix0) | (_spread_bits(iy0) << np.uint64(1))
    order = np.argsort(code, kind="stable")
    code = code[order]
    k = 0
    while True:
        shifted = code >> np.uint64(2 * k)
        starts = np.flatnonzero(np.r_[True, shifted[1:] != shifted[:-1]]) if len(code) else np.zeros(0, np.int64)
        if len(starts) <= max_cells or CELL_PX * 2 ** k >= world:
            first = order[starts]
            return order, starts, ix0[first] >> k, iy0[first] >> k, k
        k += 1


def view(index: ViewIndex, bbox, zoom: int, columns: dict[str, np.ndarray], ids: np.ndarray,
         open_mask: np.ndarray | None = None, max_features: int = MAX_FEATURES,
         answer_mask: np.ndarray | None = None) -> dict:
    """The stations inside ``bbox`` at ``zoom`` as a GeoJSON FeatureCollection (a dict), at most ``max_features``.

    Parameters
    ----------
    index : the :class:`ViewIndex` of the catalogue
    bbox : (min lon, min lat, max lon, max lat), checked by :func:`check_view`
    zoom : the map's zoom, checked by :func:`check_view`
    columns : the properties a station feature carries, each a column in catalogue row order
    ids : the stations' ids in catalogue row order
    open_mask : whether each station (catalogue row order) is open now; clusters count them; None to leave out
    answer_mask : whether each station (catalogue row order) answers the rider's question (the asked amenities,
        open at the asked time: :meth:`~layers.rider.nearest.StationFinder.answering`); clusters count them,
        so a map can draw a cluster none of whose stations answers muted; None to leave out

    Returns
    -------
    dict
        ``type``, ``features`` (sorted by id) and the foreign members ``bbox`` (as asked), ``zoom``,
        ``count`` (stations inside), ``clustered`` and ``cell_px`` (the grid's cell, null when not
        clustered). A station feature has its ``columns`` and ``cluster: false``; a cluster has
        ``cluster: true``, ``point_count``, ``open_count`` (null without ``open_mask``), ``answer_count``
        (null without ``answer_mask``) and a ``bbox`` of its members.
    """
    if max_features < 1:
        raise QuestionError("max_features", f"expected at least 1, got {max_features!r}")
    at = index.inside(bbox)
    doc = {"type": "FeatureCollection", "bbox": [float(v) for v in bbox], "zoom": zoom, "count": int(len(at))}
    if zoom >= STATIONS_ZOOM and len(at) <= max_features:
        features = _station_features(index.order[at], index.lon[at], index.lat[at], columns, ids)
        return {**doc, "clustered": False, "cell_px": None, "features": features}
    order, starts, ix, iy, k = _grid(index.x[at], index.y[at], zoom, max_features)
    at = at[order]
    rows = index.order[at]
    counts = np.diff(np.r_[starts, len(at)])
    lon, lat = index.lon[at], index.lat[at]
    cell = CELL_PX * 2 ** k
    features = []
    many = counts > 1
    if many.any():
        c = counts[many]
        mean_lon = np.add.reduceat(lon, starts)[many] / c
        mean_lat = np.add.reduceat(lat, starts)[many] / c
        boxes = [np.round(b[many], geojson.PRECISION).tolist() for b in (
            np.minimum.reduceat(lon, starts), np.minimum.reduceat(lat, starts),
            np.maximum.reduceat(lon, starts), np.maximum.reduceat(lat, starts))]
        opened, answering = ((np.add.reduceat(mask[rows].astype(np.int64), starts)[many].tolist()
                              if mask is not None else [None] * len(c)) for mask in (open_mask, answer_mask))
        for j, (col, row, n) in enumerate(zip(ix[many].tolist(), iy[many].tolist(), c.tolist())):
            features.append({
                "type": "Feature", "id": f"cluster-{zoom}-{cell}-{col}-{row}", "bbox": [b[j] for b in boxes],
                "geometry": geojson.point(mean_lon[j], mean_lat[j]),
                "properties": {"cluster": True, "point_count": n, "open_count": opened[j],
                               "answer_count": answering[j]}})
    single = starts[~many]
    features += _station_features(rows[single], lon[single], lat[single], columns, ids)
    features.sort(key=lambda f: f["id"])
    return {**doc, "clustered": True, "cell_px": cell, "features": features}


def _station_features(rows: np.ndarray, lon: np.ndarray, lat: np.ndarray, columns: dict[str, np.ndarray],
                      ids: np.ndarray) -> list[dict]:
    xs = np.round(lon, geojson.PRECISION).tolist()
    ys = np.round(lat, geojson.PRECISION).tolist()
    values = {name: [geojson.plain(v) for v in col[rows]] for name, col in columns.items()}
    out = [{"type": "Feature", "id": str(ids[r]), "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {**{name: values[name][i] for name in values}, "cluster": False}}
           for i, (r, x, y) in enumerate(zip(rows.tolist(), xs, ys))]
    out.sort(key=lambda f: f["id"])
    return out
