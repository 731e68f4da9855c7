"""Callbacks of the planner page: the decorated callbacks only; pages/planner/views.py builds what they return."""
from __future__ import annotations

from dash import Input, Output, State, callback, clientside_callback, ctx, no_update

from pages.ids import PLANNER, PLANNER_DOWNLOADS
from pages.planner import views
from pages.planner.ids import NATIONAL, PLANNER_MORE

#: The controls that make the planner's question, in the order question_view takes them.
QUESTION_INPUTS = [Input(getattr(PLANNER, name), "value") for name in
                   ("radius", "radius_custom", "mode", "amenities", "time_kind", "weekday", "hour", "holiday", "h3_res")]


@callback(
    Output(PLANNER.query, "data"),
    Output(PLANNER.radius_custom, "disabled"),
    Output(PLANNER.weekday, "disabled"),
    Output(PLANNER.hour, "disabled"),
    Output(PLANNER.holiday, "disabled"),
    Output(PLANNER_MORE.radius_msg, "children"),
    *QUESTION_INPUTS,
    State(PLANNER.state, "data"),
)
def read_question(radius, custom, mode, amenities, time_kind, weekday, hour, holiday, h3_res, state):
    return views.question_view(radius, custom, mode, amenities, time_kind, weekday, hour, holiday, h3_res, state)


# The page's controls live in the URL, so a link reopens the view (the server checks every parameter).
clientside_callback(
    """function(radius, custom, mode, amenities, timeKind, weekday, hour, holiday, res, weekView, k, exact, district,
                whatif, state) {
        return window.nuanxin.planner.writeUrl({radius: radius, radius_custom: custom, mode: mode,
            amenities: amenities, time_kind: timeKind, weekday: weekday, hour: hour, holiday: holiday, h3_res: res,
            week_view: weekView, k: k, exact_district: exact, map_district: district}, whatif, state);
    }""",
    Output(PLANNER.lang_btn, "href"),
    Output(PLANNER_MORE.url_note, "children"),
    *QUESTION_INPUTS,
    Input(PLANNER.week_view, "value"),
    Input(PLANNER.k, "value"),
    Input(PLANNER.exact_district, "value"),
    Input(PLANNER.map_district, "value"),
    Input(PLANNER.whatif, "data"),
    Input(PLANNER.state, "data"),
)


@callback(
    Output(PLANNER.overall_share, "children"),
    Output(PLANNER.overall_points, "children"),
    Output(PLANNER.overall_stations, "children"),
    Output(PLANNER.when, "children"),
    Output(PLANNER.network_note, "children"),
    Output(PLANNER.districts_table, "data"),
    Output(PLANNER.hexagons, "hideout"),
    Output(PLANNER.base_districts, "hideout"),
    Output(PLANNER.legend, "children"),
    Output(PLANNER.whatif_summary, "children"),
    Output(PLANNER.whatif_layer, "data"),
    Output(PLANNER.stations, "hideout"),
    Output(PLANNER.demand_label, "children"),
    Input(PLANNER.query, "data"),
    Input(PLANNER.whatif, "data"),
    Input(PLANNER.demand, "data"),
    State(PLANNER.state, "data"),
)
def show_coverage(query_data, whatif_data, demand, state):
    if query_data is None:
        return (no_update,) * 13
    return views.coverage_view(query_data, whatif_data, state, demand)




@callback(
    Output(PLANNER.hexagons, "data"),
    Input(PLANNER.h3_res, "value"),
    Input(PLANNER.demand, "data"),
    prevent_initial_call=True,
)
def hexagon_shapes(h3_res, demand):
    """New hexagon polygons only when the resolution or the demand changes (the colours come with the coverage)."""
    return views.hexagon_view(h3_res, demand)




@callback(
    Output(PLANNER.panel, "children"),
    # n_clicks, not clickData: a second click on the same spot repeats clickData, which Dash does not report
    Input(PLANNER.hexagons, "n_clicks"),
    Input(PLANNER.base_districts, "n_clicks"),
    State(PLANNER.hexagons, "clickData"),
    State(PLANNER.base_districts, "clickData"),
    State(PLANNER.click_mode, "value"),
    State(PLANNER.query, "data"),
    State(PLANNER.whatif, "data"),
    State(PLANNER.state, "data"),
    State(PLANNER.demand, "data"),
    prevent_initial_call=True,
)
def inspect(_hex_clicks, _district_clicks, hex_click, district_click, click_mode, query_data, whatif_data, state,
            demand):
    if click_mode != "inspect":
        return no_update
    return views.inspect_view(ctx.triggered_id, hex_click, district_click, query_data, whatif_data, state, demand)




@callback(
    Output(PLANNER.whatif, "data"),
    Output(PLANNER.whatif_summary, "children", allow_duplicate=True),
    Input(PLANNER.map, "n_clicks"),
    Input(PLANNER.stations, "n_clicks"),
    Input(PLANNER.whatif_layer, "n_clicks"),
    Input(PLANNER.whatif_reset, "n_clicks"),
    State(PLANNER.map, "clickData"),
    State(PLANNER.stations, "clickData"),
    State(PLANNER.whatif_layer, "clickData"),
    State(PLANNER.click_mode, "value"),
    State(PLANNER.whatif, "data"),
    State(PLANNER.state, "data"),
    prevent_initial_call=True,
)
def edit_what_if(_map_clicks, _station_clicks, _whatif_clicks, _reset, map_click, station_click, whatif_click,
                 click_mode, whatif_data, state):
    return views.what_if_edit(ctx.triggered_id, map_click, station_click, whatif_click, click_mode, whatif_data, state)




@callback(
    Output(PLANNER.week_graph, "figure"),
    Input(PLANNER.query, "data"),
    Input(PLANNER.week_view, "value"),
    Input(PLANNER.holiday, "value"),
    Input(PLANNER.demand, "data"),
    State(PLANNER.state, "data"),
)
def show_week(query_data, view, holiday_value, demand, state):
    if query_data is None:
        return no_update
    return views.week_view(query_data, view, holiday_value, state, demand)




@callback(
    Output(PLANNER.sites_msg, "children"),
    Output(PLANNER.sites_list, "children"),
    Output(PLANNER_MORE.sites_chart, "children"),
    Output(PLANNER.sites_layer, "data"),
    Input(PLANNER.recommend, "n_clicks"),
    Input(PLANNER.k, "n_submit"),
    Input(PLANNER.query, "data"),
    Input(PLANNER.demand, "data"),
    Input(PLANNER.cands, "data"),
    State(PLANNER.k, "value"),
    State(PLANNER.state, "data"),
    prevent_initial_call=True,
)
def recommend(n_clicks, n_submit, query_data, demand, cands, k_value, state):
    if not (n_clicks or n_submit) or query_data is None:
        return (no_update,) * 4
    return views.sites_view(k_value, query_data, state, demand, cands)




@callback(
    Output(PLANNER.exact_result, "children"),
    Input(PLANNER.exact_go, "n_clicks"),
    State(PLANNER.exact_district, "value"),
    State(PLANNER.k, "value"),
    State(PLANNER.query, "data"),
    State(PLANNER.state, "data"),
    State(PLANNER.demand, "data"),
    State(PLANNER.cands, "data"),
    prevent_initial_call=True,
)
def run_exact(n_clicks, adcode, k_value, query_data, state, demand, cands):
    if not n_clicks:
        return no_update
    return views.exact_view(adcode, k_value, query_data, state, demand, cands)




@callback(
    [Output(getattr(PLANNER, key), "href") for key in PLANNER_DOWNLOADS],
    Output(PLANNER.downloads_note, "children"),
    Input(PLANNER.query, "data"),
    Input(PLANNER.k, "value"),
    Input(PLANNER.map_district, "value"),
    Input(PLANNER.demand, "data"),
    Input(PLANNER.cands, "data"),
    Input(PLANNER.whatif, "data"),
    State(PLANNER.state, "data"),
)
def download_links(query_data, k_value, adcode, demand, cands, whatif, state):
    if query_data is None:
        return [no_update] * len(PLANNER_DOWNLOADS) + [no_update]
    return views.report_links(query_data, k_value, adcode, demand, cands, whatif, views.lang_of(state)) + \
        [views.downloads_note(demand, state)]




@callback(
    Output(PLANNER.demand, "data"),
    Output(PLANNER.demand_msg, "children"),
    Output(PLANNER.demand_errors, "children"),
    Output(PLANNER.demand_upload, "contents"),
    Input(PLANNER.demand_upload, "contents"),
    Input(PLANNER.demand_reset, "n_clicks"),
    State(PLANNER.demand_upload, "filename"),
    State(PLANNER.demand_crs, "value"),
    State(PLANNER.state, "data"),
    prevent_initial_call=True,
)
def load_demand(contents, _reset, filename, crs, state):
    return views.demand_upload_view(ctx.triggered_id, contents, filename, crs, state)




@callback(
    Output(PLANNER.cands, "data"),
    Output(PLANNER.cands_label, "children"),
    Output(PLANNER.cands_msg, "children"),
    Output(PLANNER.cands_errors, "children"),
    Output(PLANNER.cands_upload, "contents"),
    Input(PLANNER.cands_upload, "contents"),
    Input(PLANNER.cands_reset, "n_clicks"),
    State(PLANNER.cands_upload, "filename"),
    State(PLANNER.cands_crs, "value"),
    State(PLANNER.cands, "data"),
    State(PLANNER.state, "data"),
)
def load_candidates(contents, _reset, filename, crs, cands, state):
    return views.candidates_upload_view(ctx.triggered_id, contents, filename, crs, cands, state)


# --- the stations of a national network by the map's view (pages/planner/layout.py: WHOLE_MAP_MAX_STATIONS) -------
# A layer with a url holds every station already; one without is filled by rider.js's stationsView as the map
# moves (clusters below zoom 14), the answer handed to the layer's data when it comes.
clientside_callback(
    """function(bounds, zoom, center, url, shown) {
        if (url) { return window.dash_clientside.no_update; }
        return window.nuanxin.stationsView(bounds, zoom, center, null, "%s", "%s", shown, "id,name,status");
    }""" % (PLANNER.map, PLANNER.stations),
    Output(PLANNER.stations, "data"),
    Input(PLANNER.map, "bounds"),
    Input(PLANNER.map, "zoom"),
    Input(PLANNER.map, "center"),
    State(PLANNER.stations, "url"),
    State(PLANNER.stations, "data"),
)


# --- the national coverage job: the file goes to the jobs API from the browser (assets/planner_national.js) ----------

@callback(
    Output(NATIONAL.post, "data"),
    Input(PLANNER.query, "data"),
)
def national_post_url(query_data):
    return views.national_post_url(query_data)


clientside_callback(
    "function(id) { return window.nuanxin.national.mount(id); }",
    Output(NATIONAL.picker, "title"),
    Input(NATIONAL.picker, "id"),
)

clientside_callback(
    "function(n, url, texts) { return window.nuanxin.national.start(n, url, texts); }",
    Output(NATIONAL.msg, "children"),
    Input(NATIONAL.start, "n_clicks"),
    State(NATIONAL.post, "data"),
    State(NATIONAL.texts, "data"),
    prevent_initial_call=True,
)


@callback(
    Output(NATIONAL.cancelled, "data"),
    Input(NATIONAL.cancel, "n_clicks"),
    State(NATIONAL.job, "data"),
    prevent_initial_call=True,
)
def national_cancel(_n, job_data):
    return views.national_cancel(job_data)


@callback(
    Output(NATIONAL.status, "children"),
    Output(NATIONAL.bar, "value"),
    Output(NATIONAL.bar, "style"),
    Output(NATIONAL.cancel, "style"),
    Output(NATIONAL.download, "href"),
    Output(NATIONAL.download, "style"),
    Output(NATIONAL.poll, "disabled"),
    Output(NATIONAL.msg, "children", allow_duplicate=True),
    Input(NATIONAL.job, "data"),
    Input(NATIONAL.poll, "n_intervals"),
    Input(NATIONAL.cancelled, "data"),
    State(PLANNER.state, "data"),
    prevent_initial_call=True,
)
def national_job(job_data, _n, _cancelled, state):
    return views.national_job_view(job_data, state)
