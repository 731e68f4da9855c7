"""Callbacks of the rider page: thin — read inputs, ask layers/, shape what the page shows."""
from __future__ import annotations

import math
from datetime import datetime
from urllib.parse import urlencode

import shapely
from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, html, no_update
from flask import current_app

from layers.common.amenities import parse_amenities
from layers.rider.catalogue import amenity_list
from layers.rider.entry import UnknownCompoundError, entry_route, find_compounds
from layers.common.hours import DayKind, as_local, describe_status, holiday_name
from pages.i18n import language, t
from layers.rider.navigation import amap_marker_url, baidu_marker_url
from pages.ids import LAZY_OVERLAYS, RIDER, result_id, suggestion_id

#: Widening steps offered when nothing is found within reach, in metres.
WIDEN_STEPS_M = (10_000, 20_000, 50_000)
MAX_RESULTS = 8


def catalogue():
    return current_app.extensions["nuanxin.catalogue"]


def entry_layers() -> dict:
    store = current_app.extensions["nuanxin.store"]
    return {name: store.read(name) for name in ("compounds", "gates", "buildings", "entry_routes", "wayfinding_signs")}


def planned(day: str | None, time: str | None) -> str | None:
    """The planned time from the day and time pickers, as ``YYYY-MM-DDTHH:MM``, or None."""
    return f"{day}T{time}" if day and time else None


def query_time(open_now: list, open_at: str | None):
    """The time the rider asks about: now, a planned time, or None (any time)."""
    if open_now:
        return as_local(datetime.now().astimezone())
    if open_at:
        try:
            return as_local(datetime.fromisoformat(open_at))
        except ValueError:
            return None
    return None


def format_distance(metres: float, lang: str) -> str:
    if metres < 1000:
        return t("unit.m", lang, n=f"{round(metres / 10) * 10:.0f}")
    return t("unit.km", lang, n=f"{metres / 1000:.1f}")


def amenity_icons(keys, lang: str, cls="amenity-icons"):
    return html.Span([html.Img(src=f"/assets/icons/{k}.svg", alt=t(f'amenity.{k}', lang),
                               title=t(f'amenity.{k}', lang), className="amenity-icon") for k in keys],
                     className=cls)


def station_status(indices: list[int], when) -> list[dict]:
    """Status words for some stations at ``when`` (the asked time, or now)."""
    hours = catalogue().finder.hours
    is_open = hours.open_at(when)[indices]
    closes = hours.closes_at(when, indices)
    opens = hours.next_opens_at(when, indices)
    return [describe_status(bool(o), c, n, when) for o, c, n in zip(is_open, closes, opens)]


def result_item(r: dict, status: dict, lang: str, rank: int):
    eta = f"{r['eta_min']:.0f} {t('rider.minutes', lang)}"
    estimate = r["eta_source"] == "estimate"
    return html.Li(html.Button([
        html.Span(str(rank), className="rank"),
        html.Span([
            html.Span(r["name"], className="result-name"),
            html.Span([
                html.Span(format_distance(r["distance_m"], lang), className="distance"),
                html.Span([t("rider.estimate", lang) + " " if estimate else "", eta],
                          className="eta estimate" if estimate else "eta",
                          title=t("rider.estimate_title", lang) if estimate else None),
                html.Span(status[lang], className=f"status status-{status['state']}"),
            ], className="result-meta"),
            amenity_icons(r["amenities"], lang),
        ], className="result-body"),
    ], id=result_id(r["id"]), className="result", n_clicks=0))


def highlight_collection(results: list[dict], here: dict | None) -> dict:
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                 "properties": {"id": r["id"], "name": r["name"], "kind": "result", "rank": i + 1}}
                for i, r in enumerate(results)]
    if here:
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [here["lon"], here["lat"]]},
                         "properties": {"kind": "here"}})
    return {"type": "FeatureCollection", "features": features}


WHERE_KINDS = ("gps", "tap", "centre", "remembered", "search", "link")


def checked_location(where) -> tuple[float, float, str] | None:
    """(lat, lon, kind) from the client's location store, or None when it is not a real position:
    every callback input is the client's word and is checked again here."""
    if not isinstance(where, dict):
        return None
    try:
        lat, lon = float(where.get("lat")), float(where.get("lon"))
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    kind = where.get("where") if where.get("where") in WHERE_KINDS else "tap"
    return lat, lon, kind


def results_view(where, chips, open_now, open_at, state):
    """The result list, the map highlights, the suggestions and the "where" line for a page state."""
    lang = language((state or {}).get("lang"))
    try:
        reach = min(max(float((state or {}).get("reach_m") or 5000), 100.0), max(WIDEN_STEPS_M))
    except (TypeError, ValueError):
        reach = 5000.0
    checked = checked_location(where)
    if checked is None:
        return [], highlight_collection([], None), None, ""
    lat, lon, kind = checked
    where = {"lat": lat, "lon": lon, "where": kind,
             "label": str(where.get("label"))[:80] if where.get("label") else None}
    try:
        keys = parse_amenities(chips or [])
    except ValueError:
        keys = ()
    at = query_time(open_now, open_at)
    finder = catalogue().finder
    results = finder.nearest(lat, lon, amenities=keys, at=at, k=MAX_RESULTS, max_distance_m=reach)
    where_label = t(f"rider.where.{kind}", lang)
    where_text = [html.Span(where.get("label") or where_label, className="where-label"),
                  html.Span(f" ({lat:.4f}, {lon:.4f})", className="coords")]
    when = at or as_local(datetime.now().astimezone())
    if results:
        idx = [catalogue().snapshot().by_id[r["id"]] for r in results]
        statuses = station_status(idx, when)
        items = [result_item(r, s, lang, i + 1) for i, (r, s) in enumerate(zip(results, statuses))]
        return items, highlight_collection(results, where), None, where_text
    return [], highlight_collection([], where), suggestions(lat, lon, keys, at, reach, lang), where_text


@callback(
    Output(RIDER.results, "children"),
    Output(RIDER.highlight, "data"),
    Output(RIDER.suggest, "children"),
    Output(RIDER.where_text, "children"),
    Input(RIDER.where, "data"),
    Input(RIDER.chips, "value"),
    Input(RIDER.open_now, "value"),
    Input(RIDER.open_day, "value"),
    Input(RIDER.open_time, "value"),
    Input(RIDER.state, "data"),
    prevent_initial_call=True,  # the page is served with its first results already in it
)
def show_results(where, chips, open_now, day, time, state):
    return results_view(where, chips, open_now, None if open_now else planned(day, time), state)


def suggestions(lat, lon, keys, at, reach, lang):
    """Nothing within reach: offer wider distances and dropping the rarest amenity, with counts."""
    finder = catalogue().finder
    buttons = []
    for step in WIDEN_STEPS_M:
        if step <= reach:
            continue
        n = finder.count_matching(lat, lon, amenities=keys, at=at, max_distance_m=step)
        if n:
            buttons.append(html.Button(t("rider.widen", lang, km=step // 1000, n=n),
                                       id=suggestion_id("widen", str(step)), className="btn", n_clicks=0))
            break
    if keys:
        drop = finder.rarest_amenity(keys)
        rest = tuple(k for k in keys if k != drop)
        n = finder.count_matching(lat, lon, amenities=rest, at=at, max_distance_m=reach)
        buttons.append(html.Button(t("rider.drop", lang, amenity=t(f"amenity.{drop}", lang), n=n),
                                   id=suggestion_id("drop", drop), className="btn", n_clicks=0, disabled=n == 0))
    return [html.P(t("rider.none", lang), className="none"), html.Div(buttons, className="row")]


@callback(
    Output(RIDER.state, "data", allow_duplicate=True),
    Output(RIDER.chips, "value", allow_duplicate=True),
    Input(suggestion_id(ALL, ALL), "n_clicks"),
    State(RIDER.state, "data"),
    State(RIDER.chips, "value"),
    prevent_initial_call=True,
)
def apply_suggestion(clicks, state, chips):
    if not ctx.triggered_id or not any(clicks or []):
        return no_update, no_update
    return suggestion_effect(ctx.triggered_id, state, chips)


def suggestion_effect(trigger: dict, state: dict, chips: list):
    """What a "widen" or "drop" button does to the page state; a forged button does nothing."""
    value = str(trigger.get("value"))
    if trigger.get("kind") == "widen" and value.isdigit() and int(value) in WIDEN_STEPS_M:
        return {**(state or {}), "reach_m": int(value)}, no_update
    if trigger.get("kind") == "drop" and value in (chips or []):
        return no_update, [k for k in chips if k != value]
    return no_update, no_update


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
    """"Open now" and a planned day and time exclude each other: choosing one clears the other."""
    if ctx.triggered_id == RIDER.open_now:
        return no_update, (None if open_now else no_update), (None if open_now else no_update)
    # one picker set alone means "today" or "at noon", so that one tap plans a time
    if ctx.triggered_id == RIDER.open_time and time and not day:
        day = as_local(datetime.now().astimezone()).date().isoformat()
        return [], day, no_update
    if ctx.triggered_id == RIDER.open_day and day and not time:
        return [], no_update, "12:00"
    if planned(day, time) and open_now:
        return [], no_update, no_update
    return no_update, no_update, no_update


@callback(
    Output(RIDER.where, "data", allow_duplicate=True),
    Input(RIDER.map, "clickData"),
    prevent_initial_call=True,
)
def tap_on_map(click):
    if not click or "latlng" not in click:
        return no_update
    ll = click["latlng"]
    return {"lat": round(float(ll["lat"]), 6), "lon": round(float(ll["lng"]), 6), "where": "tap"}


@callback(
    Output(RIDER.where, "data", allow_duplicate=True),
    Output(RIDER.search_msg, "children"),
    Output(RIDER.map, "viewport", allow_duplicate=True),
    Input(RIDER.search_go, "n_clicks"),
    Input(RIDER.search, "n_submit"),
    State(RIDER.search, "value"),
    State(RIDER.state, "data"),
    prevent_initial_call=True,
)
def search_place(_clicks, _submit, query, state):
    lang = language((state or {}).get("lang"))
    query = (query or "").strip()[:60]
    if not query:
        return no_update, "", no_update
    places = catalogue().places().search(query, limit=5)
    if not places:
        return no_update, t("rider.search_none", lang, q=query), no_update
    best = places[0]
    others = [html.Span(p.name, className="alt") for p in places[1:]]
    where = {"lat": best.lat, "lon": best.lon, "where": "search", "label": best.name}
    return where, html.Span([html.B(best.name)] + ([" · "] + others if others else [])), \
        {"center": [best.lat, best.lon], "zoom": 15, "transition": "flyTo"}


@callback(
    Output(RIDER.map, "viewport", allow_duplicate=True),
    Input(RIDER.where, "data"),
    prevent_initial_call=True,
)
def follow_location(where):
    if not where or where.get("where") in ("tap", "search"):
        return no_update  # the rider is looking at the map already
    return {"center": [where["lat"], where["lon"]], "zoom": 14, "transition": "flyTo"}


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
    trigger = ctx.triggered_id
    if trigger == RIDER.card_close:
        return {**state, "station": None}
    if isinstance(trigger, dict):
        if not any(result_clicks):
            return no_update
        return {**state, "station": trigger["id"]}
    click = station_click if trigger == RIDER.stations else highlight_click
    sid = ((click or {}).get("properties") or {}).get("id")
    if not sid or (click.get("properties") or {}).get("cluster"):
        return no_update
    return {**state, "station": sid}


def week_rows(i: int, when, lang: str):
    days = catalogue().finder.hours.week_schedule(i, when)
    today = as_local(datetime.now().astimezone()).date()
    rows = []
    for d in days:
        spans = ", ".join(
            t("rider.card.all_day", lang) if (a.hour, a.minute, b.hour, b.minute) == (0, 0, 0, 0) else
            f"{a:%H:%M}–{'24:00' if (b.hour, b.minute) == (0, 0) else f'{b:%H:%M}'}" for a, b in d["intervals"])
        weekday = t(f"weekday.{d['weekday']}", lang)
        label = f"{weekday} {d['date'].month}/{d['date'].day}"
        note = []
        if d["day_kind"] == DayKind.MAKEUP_WORKDAY:
            note.append(t("rider.card.makeup_day", lang))
        elif d["holiday"]:
            note.append(holiday_name(d["date"], lang) or d["holiday"])
        rows.append(html.Tr([
            html.Th(label + (f" · {t('rider.card.today', lang)}" if d["date"] == today else "")),
            html.Td(spans or t("rider.card.closed_day", lang)),
            html.Td(" · ".join(note), className="holiday"),
        ], className="today" if d["date"] == today else None))
    return html.Table(html.Tbody(rows), className="week")


def share_link(station_id: str, row, state: dict) -> str:
    query = {"s": station_id, "lat": f"{row.geometry.y:.6f}", "lon": f"{row.geometry.x:.6f}",
             "lang": language(state.get("lang"))}
    return "/?" + urlencode(query)


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
    body, hidden, centre = card_view(state, None if open_now else planned(day, time))
    return body, hidden, ({"center": centre, "zoom": 15, "transition": "flyTo"} if centre else no_update)


def card_view(state: dict | None, open_at: str | None):
    """The station card for the page state: (children, hidden, [lat, lon] or None)."""
    state = state or {}
    sid = state.get("station")
    lang = language(state.get("lang"))
    snap = catalogue().snapshot()
    if not sid or sid not in snap.by_id:
        return None, True, None
    i = snap.by_id[sid]
    row = snap.stations.iloc[i]
    when = query_time([], open_at) or as_local(datetime.now().astimezone())
    status = station_status([i], when)[0]
    lat, lon = float(row.geometry.y), float(row.geometry.x)
    body = [
        html.H2(row["name"], className="card-title"),
        html.P(status[lang], className=f"status status-{status['state']}"),
    ]
    if row["status"] == "closed_temporarily":
        note = row["status_note"] or ""
        until = row["status_until"]
        if until is not None and not (isinstance(until, float)) and str(until) != "NaT":
            u = as_local(until)
            note += t("rider.card.until_date", lang, month=u.month, day=u.day, mon=f"{u:%b}")
        body.append(html.P(note, className="temporary"))
    body += [
        html.P([row["address"], html.Br(), html.Span(row["district"] + (f" · {row['street']}" if row["street"] else ""))],
               className="address"),
        html.A([t("rider.card.call", lang), " ", row["phone"]], href=f"tel:{row['phone']}", className="btn call")
        if row["phone"] else None,
        html.H3(t("rider.card.amenities", lang)),
        html.Ul([html.Li([html.Img(src=f"/assets/icons/{k}.svg", alt="", className="amenity-icon"),
                          t(f"amenity.{k}", lang)]) for k in amenity_list(row["amenities"])], className="amenity-list"),
        html.H3(t("rider.card.hours", lang)),
        html.P(row["opening_hours"], className="oh-raw"),
        week_rows(i, when, lang),
        html.Div([
            html.A(t("rider.card.nav_amap", lang), href=amap_marker_url(lat, lon, row["name"]), target="_blank",
                   rel="noopener noreferrer", className="btn btn-primary nav-amap"),
            html.A(t("rider.card.nav_baidu", lang), href=baidu_marker_url(lat, lon, row["name"], row["address"]),
                   target="_blank", rel="noopener noreferrer", className="btn nav-baidu"),
            html.A(t("rider.card.share", lang), href=share_link(sid, row, state), className="btn share-link"),
        ], className="row nav"),
    ]
    return body, False, [lat, lon]


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
    lang = language((state or {}).get("lang"))
    shown = set(overlays or [])
    urls = []
    for key, current in (("layer.compounds", compounds_url), ("layer.signs", signs_url)):
        urls.append(LAZY_OVERLAYS[key] if not current and t(key, lang) in shown else no_update)
    return tuple(urls)


@callback(
    Output(RIDER.compound_list, "children"),
    Input(RIDER.compound_name, "value"),
    prevent_initial_call=True,
)
def compound_suggestions(text):
    compounds = catalogue().store.read("compounds")
    found = find_compounds(compounds, text or "", limit=12) if text else compounds.head(0)
    return [html.Option(value=n) for n in found["name"]]


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
    return entry_view(name, building, language((state or {}).get("lang")))


def entry_view(name: str | None, building: str | None, lang: str):
    """The compound entry for a name and a building number: (map data, message, viewport)."""
    name = (name or "").strip()[:60]
    if not name:
        return None, None, no_update
    layers = entry_layers()
    found = find_compounds(layers["compounds"], name, limit=1)
    if found.empty:
        return None, t("rider.compound.unknown", lang, q=name), no_update
    try:
        answer = entry_route(layers, found.iloc[0]["id"], (building or "").strip()[:20])
    except UnknownCompoundError:
        return None, t("rider.compound.unknown", lang, q=name), no_update
    return entry_collection(answer, lang), entry_message(answer, lang), entry_viewport(answer)


def _feature(geom, **props):
    return {"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": props}


def entry_collection(answer: dict, lang: str) -> dict:
    features = [_feature(answer["compound"]["geometry"].boundary, kind="outline", name=answer["compound"]["name"])]
    if answer["route"] is not None:
        features.append(_feature(answer["route"], kind="route",
                                 name=f"{answer['length_m']:.0f} m"))
    gates = ([answer["gate"]] if answer["gate"] else []) + answer["other_gates"]
    for g in gates:
        refused = g.get("refuses_riders") or not g.get("rider_access", True)
        kind = "gate_used" if answer["gate"] and g["id"] == answer["gate"]["id"] else \
            "gate_refused" if refused else "gate"
        label = g["name"]
        if refused:
            label += " · " + t("rider.compound.refuses_riders", lang)
        elif g.get("refuses_e_bikes") or not g.get("e_bike", True):
            label += " · " + t("rider.compound.no_ebike", lang)
        features.append(_feature(g["geometry"], kind=kind, name=label))
    if answer["building"]:
        features.append(_feature(answer["building"]["geometry"], kind="building", name=answer["building"]["label"]))
    for s in answer["signs"]:
        features.append(_feature(s["geometry"], kind=f"sign_{s['condition']}",
                                 name=f"{t('sign.' + s['kind'], lang)} · {t('sign.' + s['condition'], lang)}"))
    return {"type": "FeatureCollection", "features": features}


def entry_message(answer: dict, lang: str):
    c = answer["compound"]
    parts = [html.H3(c["name"])]
    if answer["reason"]:
        reason = t(f"rider.reason.{answer['reason_code']}", lang)
        parts.append(html.P(t("rider.compound.no_route", lang, reason=reason), className="no-route"))
        if answer["reason_code"] == "no_such_building" and answer["known_numbers"]:
            parts.append(html.P(t("rider.compound.known", lang, numbers="、".join(answer["known_numbers"])),
                                className="known-numbers"))
    else:
        parts.append(html.P(t("rider.compound.gate", lang, gate=answer["gate"]["name"]), className="gate-used"))
        parts.append(html.P(t("rider.compound.route", lang, building=answer["building"]["label"],
                              m=f"{answer['length_m']:.0f}", walk=f"{answer['walking_min']:.0f}"),
                            className="route-length"))
    gates = answer["other_gates"]
    if gates:
        items = []
        for g in gates:
            flags = []
            if g.get("refuses_riders"):
                flags.append(t("rider.compound.refuses_riders", lang))
            if g.get("refuses_e_bikes"):
                flags.append(t("rider.compound.no_ebike", lang))
            items.append(html.Li(g["name"] + (" · " + "、".join(flags) if flags else ""),
                                 className="gate-refused" if flags else "gate"))
        parts.append(html.Ul(items, className="gates"))
    if answer["signs"]:
        parts.append(html.H4(t("rider.compound.signs", lang)))
        parts.append(html.Ul([html.Li(f"{t('sign.' + s['kind'], lang)}「{s['text']}」 · {t('sign.' + s['condition'], lang)}",
                                      className=f"sign sign-{s['condition']}") for s in answer["signs"]]))
    return parts


def entry_viewport(answer: dict):
    minx, miny, maxx, maxy = answer["compound"]["geometry"].bounds
    return {"bounds": [[miny, minx], [maxy, maxx]], "transition": "flyToBounds"}


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
