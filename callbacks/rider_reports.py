"""The rider page's callbacks for riders' reports: thin, each calls one view builder of pages/rider/reports.py."""
from __future__ import annotations

from dash import ALL, Input, Output, State, callback, clientside_callback, ctx

from pages.ids import RIDER, RIDER_REPORT
from pages.rider import reports as views

R = RIDER_REPORT


@callback(
    Output(R.panel, "hidden"),
    Output(R.about, "children"),
    Output(R.kinds, "options"),
    Output(R.kinds, "value"),
    Output(R.amenities, "options"),
    Output(R.amenities, "value"),
    Output(R.place, "data"),
    Output(R.note, "value"),
    Output(R.receipt, "children"),
    Output(R.follow, "hidden"),
    Output(R.photo, "data", allow_duplicate=True),
    Output(R.photo_preview, "children", allow_duplicate=True),
    Output(R.photo_row, "hidden", allow_duplicate=True),
    Output(R.photo_msg, "children", allow_duplicate=True),
    Input(views.open_id(ALL, ALL), "n_clicks"),
    State(RIDER.where, "data"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,
)
def open_report_form(_clicks, where, state):
    pressed = ctx.triggered[0]["value"] if ctx.triggered else None
    return views.open_form(ctx.triggered_id, pressed, where, state)


@callback(
    Output(R.photo, "data"),
    Output(R.photo_preview, "children"),
    Output(R.photo_row, "hidden"),
    Output(R.photo_msg, "children"),
    Output(R.photo_in, "data"),
    Input(R.photo_in, "data"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,
)
def check_photo(chosen, state):
    return views.check_photo(chosen, state)


@callback(
    Output(R.photo, "data", allow_duplicate=True),
    Output(R.photo_preview, "children", allow_duplicate=True),
    Output(R.photo_row, "hidden", allow_duplicate=True),
    Output(R.photo_msg, "children", allow_duplicate=True),
    Input(R.photo_clear, "n_clicks"),
    prevent_initial_call=True,
)
def remove_photo(clicks):
    return views.clear_photo(clicks)


@callback(
    Output(R.receipt, "children", allow_duplicate=True),
    Output(R.refs, "data"),
    Output(R.follow, "hidden", allow_duplicate=True),
    Output(R.note, "value", allow_duplicate=True),
    Output(R.photo, "data", allow_duplicate=True),
    Output(R.photo_preview, "children", allow_duplicate=True),
    Output(R.photo_row, "hidden", allow_duplicate=True),
    Input(R.send, "n_clicks"),
    State(R.place, "data"),
    State(R.kinds, "value"),
    State(R.amenities, "value"),
    State(R.note, "value"),
    State(R.photo, "data"),
    State(R.code, "data"),
    State(R.refs, "data"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,
    running=[(Output(R.send, "disabled"), True, False)],
)
def send_report(clicks, place, kind, amenity, note, photo, code, refs, state):
    return views.send_report(clicks, place, kind, amenity, note, photo, code, refs, state)


@callback(
    Output(R.code_body, "children"),
    Input(R.code, "data"),
    Input(R.refs, "data"),
    Input(R.code_panel, "hidden"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,
)
def show_code_panel(code, refs, hidden, state):
    return views.code_view(code, refs, hidden, state)


@callback(
    Output(R.code, "data", allow_duplicate=True),
    Output(R.code_msg, "children", allow_duplicate=True),
    Output(R.code_input, "value"),
    Input(R.code_use, "n_clicks"),
    Input(R.code_input, "n_submit"),
    State(R.code_input, "value"),
    State(R.code, "data"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,
)
def move_typed_code(clicks, submits, text, current, state):
    return views.typed_code(clicks, submits, text, current, state)


# -- on the phone: the code is made and kept here; a photo too large never leaves it ---------------------
clientside_callback(
    "function(cfg, current) { return window.nuanxinReports.adopt(cfg, current); }",
    Output(R.code, "data", allow_duplicate=True),
    Output(R.code_msg, "children"),
    Output(R.code_panel, "hidden", allow_duplicate=True),
    Input(R.texts, "data"),
    State(R.code, "data"),
    prevent_initial_call="initial_duplicate",
)

clientside_callback(
    "function(a, b, c, current, cfg) { return window.nuanxinReports.openCode(a, b, c, current, cfg); }",
    Output(R.code, "data"),
    Output(R.code_panel, "hidden"),
    Input(R.code_open, "n_clicks"),
    Input(R.code_make, "n_clicks"),
    Input(R.follow, "n_clicks"),
    State(R.code, "data"),
    State(R.texts, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    "function(current, cfg) { return window.nuanxinReports.codeLine(current, cfg); }",
    Output(R.code_line, "children"),
    Output(R.code_make, "hidden"),
    Input(R.code, "data"),
    State(R.texts, "data"),
)

clientside_callback(
    "function(contents, name, cfg) { return window.nuanxinReports.checkPhoto(contents, name, cfg); }",
    Output(R.photo_in, "data", allow_duplicate=True),
    Output(R.photo_msg, "children", allow_duplicate=True),
    Output(R.upload, "contents"),
    Input(R.upload, "contents"),
    State(R.upload, "filename"),
    State(R.texts, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    "function(n) { return window.nuanxinReports.closed(n); }",
    Output(R.panel, "hidden", allow_duplicate=True),
    Input(R.close, "n_clicks"),
    prevent_initial_call=True,
)

clientside_callback(
    "function(n) { return window.nuanxinReports.closed(n); }",
    Output(R.code_panel, "hidden", allow_duplicate=True),
    Input(R.code_close, "n_clicks"),
    prevent_initial_call=True,
)

clientside_callback(
    "function(kind) { return window.nuanxinReports.amenityHidden(kind); }",
    Output(R.amenity_wrap, "hidden"),
    Input(R.kinds, "value"),
)
