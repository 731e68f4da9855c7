"""Every map's base: the tile layer when one is configured, our own districts and roads, and on our own base
map where its roads end (the rider map).

With ``NUANXIN_TILES=auto`` the browser (``assets/tiles.js``) removes a tile layer whose tiles do not load and
shows what is drawn here hidden: the extent of our road data and the notes saying so.
"""
from __future__ import annotations

import dash_leaflet as dl
import shapely
from dash import html
from dash_extensions.javascript import Namespace

from pages.context import services
from pages.i18n import t

TILES_JS = Namespace("nuanxin", "tiles")
#: The pane the road extent is drawn in: tiles.js shows it when the tiles fail.
EXTENT_PANE = "road-extent"
EXTENT_STYLE = {"color": "#6b7280", "weight": 1.5, "opacity": 0.7, "dashArray": "6 6", "fill": False}


def map_crs(settings) -> str:
    """The map's CRS: Amap's tiles are drawn in GCJ-02, so the map projects through GCJ-02 (``L.CRS.Gcj02``,
    assets/tiles.js) and every layer, tap and viewport stays WGS-84; Leaflet's Web Mercator otherwise."""
    tiles = settings.tiles if settings else None
    return "Gcj02" if tiles is not None and tiles["crs"] == "gcj02" else "EPSG3857"


def tile_layer(tiles: dict) -> dl.TileLayer:
    """The configured tiles; with ``fallback`` watched by tiles.js (errors, loads, the first load's wait)."""
    handlers = {}
    if tiles["fallback"]:
        handlers = {"eventHandlers": {"loading": TILES_JS("loading"), "tileload": TILES_JS("tileLoad"),
                                      "tileerror": TILES_JS("tileError")}}
    return dl.TileLayer(url=tiles["url"], attribution=tiles["attribution"], maxZoom=19, className="base-tiles",
                        **handlers)


#: Our own base layers: district outlines and the main roads (the riding network's roads are more).
DISTRICTS_URL = "/api/v1/layers/districts?simplify_m=30"
ROADS_URL = "/api/v1/layers/roads?highway=motorway,trunk,primary,secondary,tertiary"


def base_layers(settings, roads: bool = True) -> list:
    """The tiles of ``settings`` (watched for a fallback under ``auto``), then our district outlines and main roads,
    for a small map of the staff pages; pair it with ``crs=map_crs(settings)``."""
    tiles = settings.tiles if settings else None
    layers = [tile_layer(tiles)] if tiles is not None else []
    layers.append(dl.GeoJSON(url=DISTRICTS_URL, interactive=False,
                             style={"color": "#8a8f98", "weight": 1.2, "fill": False}))
    if roads:
        layers.append(dl.GeoJSON(url=ROADS_URL, interactive=False, style={"color": "#c9c3b6", "weight": 2}))
    return layers


def road_extent_geojson() -> dict | None:
    """The extent of the store's road data (where the riding network is complete) as a GeoJSON FeatureCollection,
    None when the store has no roads."""
    network = services().stations.network()
    if network is None:
        return None
    feature = {"type": "Feature", "properties": {"kind": "road_extent"},
               "geometry": shapely.geometry.mapping(shapely.boundary(network.extent))}
    return {"type": "FeatureCollection", "features": [feature]}


def own_base_map(tiles: dict | None, lang: str, common: dict) -> list:
    """The road extent and its note on our own base map; hidden when tiles may load (auto), absent under tiles that
    are always drawn (``osm``, ``amap``)."""
    if tiles is not None and not tiles["fallback"]:
        return []
    hidden = tiles is not None  # auto: shown by tiles.js only when the tiles fail
    extent = road_extent_geojson()
    out = []
    notes = []
    if hidden:
        notes.append(html.P(t("map.tiles_failed", lang), className="base-note tiles-failed-note", hidden=True,
                            role="status"))
    if extent is not None:
        pane_style = {"zIndex": 390, "pointerEvents": "none", **({"display": "none"} if hidden else {})}
        out.append(dl.Pane(dl.GeoJSON(data=extent, style=EXTENT_STYLE, interactive=False, **common),
                           name=EXTENT_PANE, style=pane_style))
        notes.append(html.P([html.Span(className="road-extent-key", **{"aria-hidden": "true"}),
                             t("map.road_extent", lang)], className="base-note road-extent-note", hidden=hidden))
    if notes:
        out.append(html.Div(notes, className="base-notes"))
    return out
