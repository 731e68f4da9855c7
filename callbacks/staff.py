"""Callbacks of the staff workspace: the decorated callbacks only; pages/staff/views.py checks, authorises and builds."""
from __future__ import annotations

import dash_leaflet as dl
from dash import ALL, Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from pages.ids import (
    STAFF,
    account_disable_id,
    compound_pick_id,
    feature_field_id,
    feature_save_id,
    hours_input_id,
    merge_choice_id,
    revert_id,
    staff_station_id,
)
from pages.staff import views

FIELD_IDS = (STAFF.name, STAFF.address, STAFF.phone, STAFF.operator, STAFF.capacity, STAFF.amenities,
             STAFF.amenities_out, STAFF.hours_text, STAFF.status, STAFF.status_note, STAFF.status_until)
FIELD_NAMES = ("name", "address", "phone", "operator", "capacity", "amenities", "amenities_out", "opening_hours",
               "status", "status_note", "status_until")
HOURS = Input(hours_input_id(ALL, ALL), "value")


def _clicked(clicks) -> bool:
    return isinstance(clicks, list) and any(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in clicks)


def _form(values, position, loaded) -> dict:
    form = dict(zip(FIELD_NAMES, values))
    capacity = form.get("capacity")
    if isinstance(capacity, float) and capacity.is_integer():
        form["capacity"] = int(capacity)
    loaded_position = (loaded.get("values") or {}).get("position") if isinstance(loaded, dict) else None
    form["position"] = position if isinstance(position, dict) else loaded_position
    return form


def _editor_outputs(loaded, values):
    """What loading a station sets: the stores, every field, the weekly form, the map."""
    form = views.form_from_text(values["opening_hours"])
    times, ph = form if form is not None else ([""] * 28, "weekday")
    position = values["position"]
    marker = [dl.Marker(position=[position["lat"], position["lon"]])]
    viewport = {"center": [position["lat"], position["lon"]], "zoom": 17}
    return (loaded, *[values[n] for n in FIELD_NAMES], times, ph, None, marker, viewport, {"display": "block"})


EDITOR = [Output(STAFF.loaded, "data", allow_duplicate=True),
          *[Output(i, "value", allow_duplicate=True) for i in FIELD_IDS],
          Output(hours_input_id(ALL, ALL), "value", allow_duplicate=True),
          Output(STAFF.ph, "value", allow_duplicate=True),
          Output(STAFF.position, "data", allow_duplicate=True),
          Output(STAFF.marker, "children", allow_duplicate=True),
          Output(STAFF.map, "viewport", allow_duplicate=True),
          Output(STAFF.editor, "style", allow_duplicate=True)]


@callback(Output(STAFF.list, "children"), Input(STAFF.filter, "value"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def filter_stations(query, state):
    return views.station_list(query, state)


@callback(*EDITOR, Output(STAFF.history, "children", allow_duplicate=True),
          Output(STAFF.message, "children", allow_duplicate=True), Output(STAFF.diff, "children", allow_duplicate=True),
          Output(STAFF.conflict, "children", allow_duplicate=True),
          Input(staff_station_id(ALL), "n_clicks"), State(STAFF.state, "data"), prevent_initial_call=True)
def open_station(clicks, state):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not _clicked(clicks):
        raise PreventUpdate  # a list re-rendered, nothing clicked
    loaded = views.load_station(trigger.get("id"), state)
    if loaded is None:
        raise PreventUpdate
    store, values, history = loaded
    return (*_editor_outputs(store, values), history, None, None, None)


@callback(Output(STAFF.hours_text, "value", allow_duplicate=True), Output(STAFF.hours_form_note, "children"),
          HOURS, Input(STAFF.ph, "value"), State(STAFF.hours_text, "value"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def weekly_form_to_text(times, ph, text, state):
    composed, problem = views.text_from_form(times, ph, views.lang_of(state))
    if problem or composed is no_update:
        return no_update, problem
    if views.form_from_text(text) == views.form_from_text(composed):
        return no_update, None  # the same hours: keep the text as it was written
    return composed, None


@callback(Output(STAFF.preview, "children"), Output(STAFF.hours_error, "children"), Input(STAFF.hours_text, "value"),
          State(STAFF.state, "data"), prevent_initial_call=True)
def hours_preview(text, state):
    return views.preview_view(text, state)


@callback(Output(STAFF.status, "value", allow_duplicate=True), Output(STAFF.status_note, "value", allow_duplicate=True),
          Output(STAFF.status_until, "value", allow_duplicate=True),
          Output(STAFF.amenities_out, "value", allow_duplicate=True),
          Input(STAFF.quick_microwave, "n_clicks"), Input(STAFF.quick_closed_today, "n_clicks"),
          Input(STAFF.quick_normal, "n_clicks"), State(STAFF.amenities_out, "value"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def quick_choice(_m, _c, _n, amenities_out, state):
    kind = {STAFF.quick_microwave: "microwave", STAFF.quick_closed_today: "closed_today",
            STAFF.quick_normal: "normal"}.get(ctx.triggered_id)
    return views.quick_choice(kind, amenities_out, state)


@callback(Output(STAFF.position, "data", allow_duplicate=True), Output(STAFF.moved, "children"),
          Output(STAFF.marker, "children", allow_duplicate=True),
          Input(STAFF.map, "clickData"), State(STAFF.loaded, "data"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def tap_position(click, loaded, state):
    if not isinstance(loaded, dict) or not isinstance(loaded.get("values"), dict):
        raise PreventUpdate  # no station open
    position, note = views.tap(click, loaded["values"].get("position"), state)
    if position is no_update:
        return no_update, no_update, no_update
    return position, note, [dl.Marker(position=[position["lat"], position["lon"]])]


@callback(Output(STAFF.diff, "children", allow_duplicate=True), Output(STAFF.reviewed, "data", allow_duplicate=True),
          Input(STAFF.review, "n_clicks"), *[State(i, "value") for i in FIELD_IDS], State(STAFF.position, "data"),
          State(STAFF.loaded, "data"), State(STAFF.state, "data"), prevent_initial_call=True)
def review_changes(_n, *args):
    *values, position, loaded, state = args
    form = _form(values, position, loaded)
    return views.review(form, loaded, state), views.fingerprint(form, loaded)


SAVED = [Output(STAFF.message, "children", allow_duplicate=True), Output(STAFF.loaded, "data", allow_duplicate=True),
         Output(STAFF.conflict, "children", allow_duplicate=True),
         Output(STAFF.conflict_save, "style"), Output(STAFF.diff, "children", allow_duplicate=True),
         Output(STAFF.history, "children", allow_duplicate=True), Output(STAFF.feed, "children", allow_duplicate=True)]


def _saved(message, loaded, conflict, state):
    shown = {"display": "inline-block"} if conflict is not None else {"display": "none"}
    history = feed = no_update
    if isinstance(loaded, dict) and conflict is None:
        history = views.history_view(loaded["id"], views.lang_of(state))
        feed = views.change_feed(None, None, state)
    return message, loaded, conflict, shown, None, history, feed


@callback(*SAVED, Output(STAFF.reviewed, "data", allow_duplicate=True), Input(STAFF.save, "n_clicks"),
          *[State(i, "value") for i in FIELD_IDS], State(STAFF.position, "data"), State(STAFF.loaded, "data"),
          State(STAFF.reviewed, "data"), State(STAFF.state, "data"), prevent_initial_call=True)
def save_station(_n, *args):
    *values, position, loaded, reviewed, state = args
    form = _form(values, position, loaded)
    seen = views.fingerprint(form, loaded)
    if reviewed != seen:  # show what would be written first; the next Save writes it
        lang = views.lang_of(state)
        return (views.review_first_note(lang), no_update, None, no_update, views.review(form, loaded, state),
                no_update, no_update, seen)
    return (*_saved(*views.save(form, loaded, state), state), None)


@callback(*SAVED, Input(STAFF.conflict_save, "n_clicks"), State(merge_choice_id(ALL), "value"),
          State(merge_choice_id(ALL), "id"), *[State(i, "value") for i in FIELD_IDS],
          State(STAFF.position, "data"), State(STAFF.loaded, "data"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def save_merge(n, choices, choice_ids, *args):
    if not isinstance(n, int) or n < 1:
        raise PreventUpdate
    *values, position, loaded, state = args
    keep = views.merge_choices(choices, choice_ids)
    return _saved(*views.save(_form(values, position, loaded), loaded, state, keep_theirs=keep), state)


@callback(Output(STAFF.message, "children", allow_duplicate=True), Input(STAFF.confirm, "n_clicks"),
          State(STAFF.loaded, "data"), State(STAFF.state, "data"), prevent_initial_call=True)
def confirm_station(n, loaded, state):
    if not isinstance(n, int) or n < 1:
        return no_update
    return views.confirm(loaded, state)


@callback(*EDITOR, Output(STAFF.history, "children", allow_duplicate=True),
          Output(STAFF.message, "children", allow_duplicate=True),
          Input(revert_id(ALL), "n_clicks"), State(STAFF.loaded, "data"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def revert_station(clicks, loaded, state):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not _clicked(clicks):
        raise PreventUpdate  # the history re-rendered, nothing clicked
    message, new_loaded = views.revert(trigger.get("seq"), loaded, state)
    if not isinstance(new_loaded, dict):
        if message is no_update:
            raise PreventUpdate
        unchanged = [[no_update] * len(o) if isinstance(o, list) else no_update for o in ctx.outputs_list]
        return (*unchanged[:-1], message)
    return (*_editor_outputs(new_loaded, new_loaded["values"]),
            views.history_view(new_loaded["id"], views.lang_of(state)), message)


@callback(Output(STAFF.ledger_links, "children"), Input(STAFF.ledger_crs, "value"), prevent_initial_call=True)
def ledger_links(crs):
    return views.ledger_links(crs)


@callback(Output(STAFF.ledger_result, "children"), Output(STAFF.ledger_apply, "style"),
          Input(STAFF.ledger_upload, "contents"), State(STAFF.ledger_upload, "filename"),
          State(STAFF.ledger_crs, "value"), State(STAFF.state, "data"), prevent_initial_call=True)
def ledger_check(contents, filename, crs, state):
    return views.ledger_dry_run(contents, filename, crs, state)


@callback(Output(STAFF.ledger_result, "children", allow_duplicate=True),
          Output(STAFF.ledger_apply, "style", allow_duplicate=True),
          Input(STAFF.ledger_apply, "n_clicks"), State(STAFF.ledger_upload, "contents"),
          State(STAFF.ledger_upload, "filename"), State(STAFF.ledger_crs, "value"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def ledger_import(n, contents, filename, crs, state):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise PreventUpdate
    return views.ledger_apply(contents, filename, crs, state)


@callback(Output(STAFF.feed, "children"), Input(STAFF.feed_since, "value"), Input(STAFF.feed_user, "value"),
          Input(STAFF.feed_district, "value"), State(STAFF.state, "data"), prevent_initial_call=True)
def change_feed(since, user, adcode, state):
    return views.change_feed(since, user, state, adcode)


@callback(Output(STAFF.message, "children", allow_duplicate=True), Input(STAFF.retire, "n_clicks"),
          State(STAFF.loaded, "data"), State(STAFF.state, "data"), prevent_initial_call=True)
def retire_station(n, loaded, state):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise PreventUpdate
    return views.retire(loaded, state)


@callback(Output(STAFF.create_position, "data"), Output(STAFF.create_marker, "children"),
          Input(STAFF.create_map, "clickData"), State(STAFF.state, "data"), prevent_initial_call=True)
def place_new_station(click, state):
    position, _ = views.tap(click, None, state)
    if position is no_update:
        raise PreventUpdate
    return position, [dl.Marker(position=[position["lat"], position["lon"]])]


@callback(Output(STAFF.create_message, "children"), Input(STAFF.create_go, "n_clicks"),
          State(STAFF.create_name, "value"), State(STAFF.create_address, "value"),
          State(STAFF.create_operator, "value"), State(STAFF.create_hours, "value"),
          State(STAFF.create_position, "data"), State(STAFF.state, "data"), prevent_initial_call=True)
def create_station(n, name, address, operator, hours, position, state):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise PreventUpdate
    return views.create(name, address, operator, hours, position, state)


@callback(Output(STAFF.compound_list, "children"), Input(STAFF.compound_filter, "value"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def filter_compounds(query, state):
    return views.compound_list(query, state)


@callback(Output(STAFF.compound_panel, "children"), Output(STAFF.compound_loaded, "data"),
          Output(STAFF.sign_gate, "options"), Output(STAFF.sign_gate, "value"), Input(compound_pick_id(ALL), "n_clicks"),
          State(STAFF.state, "data"), prevent_initial_call=True)
def open_compound(clicks, state):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not _clicked(clicks):
        raise PreventUpdate
    panel, loaded, options = views.compound_panel(trigger.get("id"), state)
    if panel is no_update:
        raise PreventUpdate
    return panel, loaded, options, options[0]["value"] if options else None


@callback(Output(STAFF.compound_message, "children"), Output(STAFF.compound_loaded, "data", allow_duplicate=True),
          Input(feature_save_id("gate", ALL), "n_clicks"), Input(feature_save_id("sign", ALL), "n_clicks"),
          Input(feature_save_id("route", ALL), "n_clicks"),
          State(feature_field_id("gate", ALL, "access"), "value"), State(feature_field_id("gate", ALL, "access"), "id"),
          State(feature_field_id("gate", ALL, "opening_hours"), "value"),
          State(feature_field_id("gate", ALL, "opening_hours"), "id"),
          State(feature_field_id("sign", ALL, "condition"), "value"),
          State(feature_field_id("sign", ALL, "condition"), "id"),
          State(feature_field_id("route", ALL, "blocked"), "value"), State(feature_field_id("route", ALL, "blocked"), "id"),
          State(STAFF.compound_loaded, "data"), State(STAFF.state, "data"), prevent_initial_call=True)
def save_gate_or_sign(gate_clicks, sign_clicks, route_clicks, *args):
    if not (_clicked(gate_clicks) or _clicked(sign_clicks) or _clicked(route_clicks)):
        raise PreventUpdate
    return views.save_gate_or_sign(ctx.triggered_id, *args)


@callback(Output(STAFF.compound_message, "children", allow_duplicate=True), Input(STAFF.sign_add, "n_clicks"),
          State(STAFF.sign_kind, "value"), State(STAFF.sign_text, "value"), State(STAFF.sign_gate, "value"),
          State(STAFF.compound_loaded, "data"), State(STAFF.state, "data"), prevent_initial_call=True)
def add_sign(n, kind, text, gate_id, loaded, state):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise PreventUpdate
    return views.add_sign(kind, text, gate_id, loaded, state)


@callback(Output(STAFF.account_message, "children"), Output(STAFF.accounts, "children"),
          Input(STAFF.account_create, "n_clicks"), State(STAFF.account_name, "value"),
          State(STAFF.account_role, "value"), State(STAFF.account_stations, "value"),
          State(STAFF.account_street, "value"), State(STAFF.state, "data"), prevent_initial_call=True)
def create_account(n, name, role, stations, street, state):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise PreventUpdate
    return views.create_account_view(name, role, stations, street, state), views.account_rows(state)


@callback(Output(STAFF.account_message, "children", allow_duplicate=True),
          Output(STAFF.accounts, "children", allow_duplicate=True),
          Input(account_disable_id(ALL), "n_clicks"), State(STAFF.state, "data"), prevent_initial_call=True)
def disable_account(clicks, state):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not _clicked(clicks):
        raise PreventUpdate
    return views.disable_account_view(trigger.get("name"), state), views.account_rows(state)


@callback(Output(STAFF.posters, "children"), Input(STAFF.loaded, "data"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def station_posters(loaded, state):
    return views.poster_links(loaded, views.lang_of(state))
