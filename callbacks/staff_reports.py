"""The staff page's callbacks for riders' reports: thin, each calls one domain function through pages/staff/reports.py,
which checks every value and authorises the signed-in account itself."""
from __future__ import annotations

from dash import ALL, Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.staff import EDITOR, _clicked, _editor_outputs
from pages.ids import STAFF
from pages.ids import STAFF_REPORTS as IDS
from pages.staff import reports as views
from pages.staff import views as station_views

ACTIONS = Input(views.action_id(ALL), "n_clicks")
#: What loading (or reloading) a report sets.
PANEL = [Output(IDS.detail, "children"), Output(IDS.loaded, "data"), Output(views.action_id(ALL), "disabled"),
         Output(IDS.panel, "style"), Output(IDS.status_kind, "options"), Output(IDS.status_kind, "value"),
         Output(IDS.clear_status, "options"), Output(IDS.clear_status, "value")]
#: The panel's fields, emptied when a report is loaded or an action is done.
FIELDS = [Output(IDS.answer, "value"), Output(IDS.reason, "value"), Output(IDS.duplicate_of, "value")]


def _dup(outputs):
    return [Output(o.component_id, o.component_property, allow_duplicate=True) for o in outputs]


def _panel_values(panel: dict) -> tuple:
    """The PANEL outputs in order; the disabled flags in the order the page holds the buttons."""
    ids = ctx.outputs_list[2] if isinstance(ctx.outputs_list, list) and len(ctx.outputs_list) > 2 else []
    keys = [o.get("id", {}).get("action") for o in ids if isinstance(o, dict) and isinstance(o.get("id"), dict)] \
        if isinstance(ids, list) else []
    disabled = [bool(panel["disabled"].get(k, True)) for k in keys]
    return (panel["detail"], panel["loaded"], disabled, panel["panel_style"], panel["kinds"], panel["kind"],
            panel["clear_options"], panel["clear"])


@callback(Output(IDS.queue, "children"), Output(IDS.counts, "children"), Output(IDS.state_counts, "children"),
          Output(IDS.page_info, "children"), Output(IDS.prev, "disabled"), Output(IDS.next, "disabled"),
          Output(IDS.offset, "data"), Output(IDS.dl_xlsx, "href"), Output(IDS.dl_csv, "href"),
          Input(IDS.f_state, "value"), Input(IDS.f_kind, "value"), Input(IDS.f_overdue, "value"),
          Input(IDS.f_since, "value"), Input(IDS.f_until, "value"), Input(IDS.prev, "n_clicks"),
          Input(IDS.next, "n_clicks"), Input(IDS.changed, "data"), State(IDS.offset, "data"),
          State(STAFF.state, "data"), prevent_initial_call=True)
def show_queue(state_filter, kind, overdue, since, until, _prev, _next, _changed, offset, state):
    filters = views.paged(views.queue_filter(state_filter, kind, overdue, since, until), ctx.triggered_id, offset)
    return views.queue_view(filters, state)


@callback(Output(IDS.summary, "children"), Input(IDS.changed, "data"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def show_summary(_changed, state):
    return views.summary_view(state)


@callback(*PANEL, *FIELDS, Output(IDS.message, "children"), Output(IDS.editor_message, "children"),
          Input(views.row_id(ALL), "n_clicks"), State(STAFF.state, "data"), prevent_initial_call=True)
def open_report(clicks, state):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not _clicked(clicks):
        raise PreventUpdate  # the queue re-rendered, nothing clicked
    panel = views.open_report(trigger.get("id"), state)
    if panel is None:
        raise PreventUpdate
    return (*_panel_values(panel), "", "", "", None, None)


@callback(*_dup(PANEL), *_dup(FIELDS), Output(IDS.message, "children", allow_duplicate=True),
          Output(IDS.changed, "data"), ACTIONS, State(IDS.loaded, "data"), State(IDS.answer, "value"),
          State(IDS.reason, "value"), State(IDS.duplicate_of, "value"), State(IDS.clear_status, "value"),
          State(IDS.status_kind, "value"), State(IDS.status_until, "value"), State(IDS.status_note, "value"),
          State(IDS.changed, "data"), State(STAFF.state, "data"), prevent_initial_call=True)
def act_on_report(clicks, loaded, answer, reason, duplicate_of, clear, kind, until, note, changed, state):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not _clicked(clicks):
        raise PreventUpdate
    form = views.action_form(answer, reason, duplicate_of, clear, kind, until, note)
    message, panel = views.act(trigger.get("action"), loaded, form, state)
    if panel is None:  # nothing written: the panel and its fields stay as they are
        unchanged = [[no_update] * len(o) if isinstance(o, list) else no_update for o in ctx.outputs_list]
        return (*unchanged[:-2], message if message is not None else no_update, no_update)
    bump = changed + 1 if isinstance(changed, int) and not isinstance(changed, bool) and 0 <= changed < 10**9 else 1
    return (*_panel_values(panel), "", "", "", message, bump)


@callback(Output(IDS.status_until, "value"), Input(IDS.status_quick, "value"), prevent_initial_call=True)
def quick_until(choice):
    until = views.quick_until(choice)
    if until is None:
        raise PreventUpdate
    return until


@callback(*EDITOR, Output(STAFF.history, "children", allow_duplicate=True),
          Output(STAFF.message, "children", allow_duplicate=True), Output(STAFF.diff, "children", allow_duplicate=True),
          Output(STAFF.conflict, "children", allow_duplicate=True),
          Output(IDS.editor_message, "children", allow_duplicate=True),
          Input(IDS.open_editor, "n_clicks"), State(IDS.loaded, "data"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def open_station_editor(n, loaded, state):
    """The report's station in the workspace's station editor: the same loading as a tap in "my stations"."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise PreventUpdate
    station_id = views.editor_station(loaded)
    opened = station_views.load_station(station_id, state) if station_id else None
    if opened is None:
        unchanged = [[no_update] * len(o) if isinstance(o, list) else no_update for o in ctx.outputs_list]
        return (*unchanged[:-1], views.editor_none(state))
    store, values, history = opened
    return (*_editor_outputs(store, values), history, None, None, None, views.editor_opened(values["name"], state))


# -- points at a station ----------------------------------------------------------------------------------------

@callback(Output(IDS.code, "value"), Output(IDS.scan_message, "children"), Input(IDS.scan, "contents"),
          State(STAFF.state, "data"), prevent_initial_call=True)
def scan_code(contents, state):
    return views.scan(contents, state)


@callback(Output(IDS.balance, "children"), Input(IDS.code, "value"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def show_balance(code, state):
    return views.balance_view(code, state)


@callback(Output(IDS.reward, "options"), Output(IDS.reward, "value"), Input(IDS.station, "value"),
          Input(IDS.catalogue_message, "children"), State(STAFF.state, "data"), prevent_initial_call=True)
def reward_choices(station_id, _catalogue_changed, state):
    return views.reward_options(station_id, state)


@callback(Output(IDS.redeem_message, "children"), Output(IDS.balance, "children", allow_duplicate=True),
          Input(IDS.redeem, "n_clicks"), State(IDS.code, "value"), State(IDS.reward, "value"),
          State(IDS.station, "value"), State(STAFF.state, "data"), prevent_initial_call=True)
def redeem_points(n, code, reward_id, station_id, state):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise PreventUpdate
    return views.redeem(code, reward_id, station_id, state)


@callback(Output(IDS.catalogue, "children"), Input(IDS.catalogue_district, "value"),
          Input(IDS.catalogue_message, "children"), State(STAFF.state, "data"), prevent_initial_call=True)
def show_catalogue(adcode, _changed, state):
    return views.catalogue_view(adcode, state)


@callback(Output(IDS.catalogue_message, "children"), Input(IDS.reward_add, "n_clicks"), State(IDS.reward_name, "value"),
          State(IDS.reward_points, "value"), State(IDS.catalogue_district, "value"), State(STAFF.state, "data"),
          prevent_initial_call=True)
def add_reward(n, name, points, adcode, state):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise PreventUpdate
    return views.add_reward(name, points, adcode, state)


@callback(Output(IDS.catalogue_message, "children", allow_duplicate=True),
          Input(views.withdraw_id(ALL, ALL), "n_clicks"), State(STAFF.state, "data"), prevent_initial_call=True)
def withdraw_reward(clicks, state):
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not _clicked(clicks):
        raise PreventUpdate
    return views.withdraw_reward(trigger, state)
