"""Callbacks of the rider page: the decorated callbacks only; pages/rider/views.py builds what they return."""
from __future__ import annotations

from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, no_update

from pages.ids import RIDER, compound_suggestion_id, result_id, search_alternative_id, suggestion_id
from pages.rider import views


@callback(
    Output(RIDER.results, "children"),
    Output(RIDER.highlight, "data"),
    Output(RIDER.suggest, "children"),
    Output(RIDER.where_text, "children"),
    Output(RIDER.stations, "hideout"),
    Output(RIDER.map, "viewport", allow_duplicate=True),
    Input(RIDER.where, "data"),
    Input(RIDER.chips, "value"),
    Input(RIDER.open_now, "value"),
    Input(RIDER.open_day, "value"),
    Input(RIDER.open_time, "value"),
    Input(RIDER.state, "data"),
    State(RIDER.highlight, "data"),
    State(RIDER.routes, "data"),
    prevent_initial_call=True,  # the page is served with its first results already in it
)
def show_results(where, chips, open_now, day, time, state, shown, routes):
    """The list, its pins, the stations that do not answer (drawn muted), and the map fitted to a new answer."""
    open_at = None if open_now else views.planned(day, time)
    items, highlight, suggest, where_text = views.results_view(where, chips, open_now, open_at, state)
    answer = views.map_answer(where, chips, open_now, open_at, state)
    entry_shown = isinstance(routes, dict) and bool(routes.get("features"))
    return items, highlight, suggest, where_text, answer, views.fit_view(highlight, shown, where, entry_shown)


@callback(
    Output(RIDER.state, "data", allow_duplicate=True),
    Output(RIDER.chips, "value", allow_duplicate=True),
    Input(suggestion_id(ALL, ALL), "n_clicks"),
    State(RIDER.state, "data"),
    State(RIDER.chips, "value"),
    prevent_initial_call=True,
)
def apply_suggestion(clicks, state, chips):
    if not ctx.triggered_id or not any(isinstance(n, int) and n > 0 for n in (clicks or [])):
        return no_update, no_update
    return views.suggestion_effect(ctx.triggered_id, state, chips)


@callback(
    Output(RIDER.open_now, "value"),
    Output(RIDER.open_day, "value"),
    Output(RIDER.open_time, "value"),
    Input(RIDER.open_now, "value"),
    Input(RIDER.open_day, "value"),
    Input(RIDER.open_time, "value"),
    prevent_initial_call=True,
)
def either_now_or_a_planned_time(open_now, day, time):
    return views.time_pickers(ctx.triggered_id, open_now, day, time)


@callback(
    Output(RIDER.where, "data", allow_duplicate=True),
    Input(RIDER.map, "clickData"),
    prevent_initial_call=True,
)
def tap_on_map(click):
    return views.tap_location(click)


@callback(
    Output(RIDER.where, "data", allow_duplicate=True),
    Output(RIDER.search_msg, "children"),
    Output(RIDER.map, "viewport", allow_duplicate=True),
    Output(RIDER.state, "data", allow_duplicate=True),
    Input(RIDER.search_go, "n_clicks"),
    Input(RIDER.search, "n_submit"),
    State(RIDER.search, "value"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,
)
def search_place(_clicks, _submit, query, state):
    return views.search_view(query, state)


@callback(
    Output(RIDER.where, "data", allow_duplicate=True),
    Output(RIDER.search_msg, "children", allow_duplicate=True),
    Output(RIDER.map, "viewport", allow_duplicate=True),
    Output(RIDER.state, "data", allow_duplicate=True),
    Input(search_alternative_id(ALL, ALL), "n_clicks"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,
)
def take_search_alternative(_clicks, state):
    return views.search_alternative_view(ctx.triggered_id, ctx.inputs_list[0], state)


@callback(
    Output(RIDER.state, "data", allow_duplicate=True),
    Input(result_id(ALL), "n_clicks"),
    Input(RIDER.stations, "clickData"),
    Input(RIDER.highlight, "clickData"),
    Input(RIDER.card_close, "n_clicks"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,
)
def select_station(result_clicks, station_click, highlight_click, _close, state):
    click = station_click if ctx.triggered_id == RIDER.stations else highlight_click
    return views.station_selection(ctx.triggered_id, result_clicks, click, state)


@callback(
    Output(RIDER.card_body, "children"),
    Output(RIDER.card, "hidden"),
    Output(RIDER.map, "viewport", allow_duplicate=True),
    Input(RIDER.state, "data"),
    State(RIDER.open_now, "value"),
    State(RIDER.open_day, "value"),
    State(RIDER.open_time, "value"),
    prevent_initial_call=True,  # a station from the link is in the served page already
)
def show_card(state, open_now, day, time):
    body, hidden, centre = views.card_view(state, None if open_now else views.planned(day, time))
    return body, hidden, ({"center": centre, "zoom": 15, "transition": "flyTo"} if centre else no_update)


@callback(
    Output(RIDER.compounds, "url"),
    Output(RIDER.signs, "url"),
    Input(RIDER.layers, "overlays"),
    State(RIDER.compounds, "url"),
    State(RIDER.signs, "url"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,
)
def load_overlays_when_shown(overlays, compounds_url, signs_url, state):
    return views.overlay_urls(overlays, compounds_url, signs_url, state)


@callback(
    Output(RIDER.compound_list, "children"),
    Input(RIDER.compound_name, "value"),
    prevent_initial_call=True,
)
def compound_suggestions(text):
    return views.compound_options(text)


@callback(
    Output(RIDER.routes, "data"),
    Output(RIDER.compound_msg, "children"),
    Output(RIDER.map, "viewport", allow_duplicate=True),
    Input(RIDER.compound_go, "n_clicks"),
    Input(RIDER.compound_building, "n_submit"),
    State(RIDER.compound_name, "value"),
    State(RIDER.compound_building, "value"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,  # a compound from the link is in the served page already
)
def show_entry(_go, _submit, name, building, state):
    return views.entry_view(name, building, views.lang_of(state))


@callback(
    Output(RIDER.compound_name, "value"),
    Output(RIDER.routes, "data", allow_duplicate=True),
    Output(RIDER.compound_msg, "children", allow_duplicate=True),
    Output(RIDER.map, "viewport", allow_duplicate=True),
    Input(compound_suggestion_id(ALL), "n_clicks"),
    State(RIDER.compound_building, "value"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,
)
def take_compound_suggestion(_clicks, building, state):
    return views.entry_from_suggestion(ctx.triggered_id, ctx.inputs_list[0], building, state)


# The rider's location from the browser: asked once on first visit, on every "locate me" tap,
# and the last one remembered on the device (localStorage), never sent anywhere but this server.
clientside_callback(
    """function(n, where, state) { return window.nuanxin.locate(n, where, state); }""",
    Output(RIDER.locate_msg, "children"),
    Input(RIDER.locate, "n_clicks"),
    State(RIDER.where, "data"),
    State(RIDER.state, "data"),
)

clientside_callback(
    """function(where) { return window.nuanxin.remember(where); }""",
    Output(RIDER.remembered, "data"),
    Input(RIDER.where, "data"),
)

# The stations of the map's view, asked for again (debounced) as the map moves or the question changes;
# rider.js hands the answer to the layer's data when it comes.
clientside_callback(
    """function(bounds, zoom, center, answer, shown) {
        return window.nuanxin.stationsView(bounds, zoom, center, answer, "%s", "%s", shown);
    }""" % (RIDER.map, RIDER.stations),
    Output(RIDER.stations, "data"),
    Input(RIDER.map, "bounds"),
    Input(RIDER.map, "zoom"),
    Input(RIDER.map, "center"),
    Input(RIDER.stations, "hideout"),
    State(RIDER.stations, "data"),
)

# The planned-time pickers fold away: the button shows or hides them, and says which (aria-expanded).
clientside_callback(
    """function(n, hidden) {
        if (!n) { return [window.dash_clientside.no_update, window.dash_clientside.no_update]; }
        return [!hidden, hidden ? "true" : "false"];
    }""",
    Output(RIDER.planned, "hidden"),
    Output(RIDER.planned_summary, "aria-expanded"),
    Input(RIDER.planned_summary, "n_clicks"),
    State(RIDER.planned, "hidden"),
    prevent_initial_call=True,
)

# The page state lives in the URL, so a link reproduces the view.
clientside_callback(
    """function(where, chips, openNow, day, time, state, compound, building) {
        return window.nuanxin.writeUrl(where, chips, openNow, day && time ? day + "T" + time : null, state,
                                       compound, building);
    }""",
    Output(RIDER.lang_btn, "href"),
    Input(RIDER.where, "data"),
    Input(RIDER.chips, "value"),
    Input(RIDER.open_now, "value"),
    Input(RIDER.open_day, "value"),
    Input(RIDER.open_time, "value"),
    Input(RIDER.state, "data"),
    Input(RIDER.compound_name, "value"),
    Input(RIDER.compound_building, "value"),
)
