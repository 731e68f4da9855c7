"""View builders of the rider page: each takes what the client sent, checks it, asks layers/ and shapes the view.

The page's layout calls them for the first render and its callbacks call them on every change,
so the served page and a later update show the same thing. Every input is the client's word
and is checked again here; a malformed one gives an empty view or ``no_update``, never an error.
"""
from __future__ import annotations

import functools
import math
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from dash import html, no_update

from layers.common import geojson
from layers.common.amenities import parse_amenities
from layers.common.calendar import DayKind, ScheduleSource, as_local, check_moment, schedule_source
from layers.common.geojson import amenity_list
from layers.rider.compound_names import closest_compounds
from layers.rider.entry import UnknownCompoundError, entry_route, find_compounds
from layers.rider.navigation import amap_marker_url, baidu_marker_url
from mapdata import clock
from mapdata.vocabulary import AMENITY_KEYS
from pages.components import amenity_icons, element
from pages.context import services
from pages.i18n import holiday, language, t
from pages.i18n_calendar import statutory_note
from pages.ids import LAZY_OVERLAYS, RIDER, compound_suggestion_id, result_id, search_alternative_id, suggestion_id
from pages.phrasing import distance, minutes, status_text, walk_time
from pages.rider.reports import report_button

#: 天府广场, the centre of Chengdu: where the list starts when the rider gives no location.
CITY_CENTRE = (30.6586, 104.0648)
#: How far a rider is taken to be willing to go before the page offers to widen the search.
DEFAULT_REACH_M = 5000
#: Widening steps offered when nothing is found within reach, in metres.
WIDEN_STEPS_M = (10_000, 20_000, 50_000)
MAX_RESULTS = 8
#: How many of the stations nearest the rider the map is told the state of (answering the question or not).
MAP_JUDGED = 2000
WHERE_KINDS = ("gps", "tap", "centre", "remembered", "search", "link")
MAX_QUERY_CHARS = 60


def _now():
    return clock.now()


def _float(value, lo, hi):
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return v if math.isfinite(v) and lo <= v <= hi else None


def _planned_time(text) -> str | None:
    """``YYYY-MM-DDTHH:MM`` (local) from a client's text, or None when it is not such a time."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    try:
        return check_moment(datetime.fromisoformat(text)).strftime("%Y-%m-%dT%H:%M")
    except (ValueError, TypeError, OverflowError):  # QuestionError is a ValueError
        return None


def initial_state(lat=None, lon=None, a=None, at=None, s=None, c=None, b=None, lang=None, **_ignored) -> dict:
    """The page state from the URL's query; anything malformed is dropped, not trusted.

    A parameter given more than once arrives as a list: amenities are combined (``a=microwave&a=toilet``
    asks for both, as ``a=microwave,toilet`` does); any other repeated parameter is ambiguous and ignored.
    """
    lat, lon, at, s, c, b, lang = (None if isinstance(v, list) else v for v in (lat, lon, at, s, c, b, lang))
    la, lo = _float(lat, -90, 90), _float(lon, -180, 180)
    asked = a if isinstance(a, list) else [a]
    named = {k for v in asked[:len(AMENITY_KEYS)] if isinstance(v, str) for k in v.split(",")[:len(AMENITY_KEYS)]}
    amenities = [k for k in AMENITY_KEYS if k in named]
    return {
        "location": {"lat": la, "lon": lo, "where": "link"} if la is not None and lo is not None
        else {"lat": CITY_CENTRE[0], "lon": CITY_CENTRE[1], "where": "centre"},
        "amenities": amenities,
        "open_at": _planned_time(at),
        "station": s if isinstance(s, str) and len(s) < 40 else None,
        "compound": c if isinstance(c, str) and len(c) < MAX_QUERY_CHARS else "",
        "building": b if isinstance(b, str) and len(b) < 20 else "",
        "lang": language(lang),
    }


def page_state(state: dict) -> dict:
    """What the page keeps in its state store: language, reach, open card, and the texts its scripts show."""
    lang = state["lang"]
    return {"lang": lang, "reach_m": DEFAULT_REACH_M, "station": state["station"],
            "ids": {"where": RIDER.where, "locate_msg": RIDER.locate_msg},
            "texts": {k: t(k, lang) for k in ("rider.locating", "rider.locate_denied", "rider.locate_unavailable")}}


def day_options(open_at: str | None, lang: str) -> list[dict]:
    """Today and the next six days (and the day of a planned time from a link, if further)."""
    today = _now().date()
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
        times = sorted([*times, open_at[11:16]])
    return [{"label": x, "value": x} for x in times]


def planned(day, time) -> str | None:
    """The planned time from the day and time pickers, as ``YYYY-MM-DDTHH:MM``, or None."""
    if not (isinstance(day, str) and isinstance(time, str)) or not day or not time:
        return None
    return _planned_time(f"{day}T{time}")


def query_time(open_now, open_at):
    """The time the rider asks about: now, a planned time, or None (any time)."""
    if open_now:
        return _now()
    text = _planned_time(open_at)
    return None if text is None else as_local(datetime.fromisoformat(text))


def lang_of(state) -> str:
    return language(state.get("lang") if isinstance(state, dict) else None)


# ---------------------------------------------------------------------------------------------
# the nearest stations

def checked_location(where) -> tuple[float, float, str] | None:
    """(lat, lon, kind) from the client's location store, or None when it is not a real position."""
    if not isinstance(where, dict):
        return None
    lat, lon = _float(where.get("lat"), -90, 90), _float(where.get("lon"), -180, 180)
    if lat is None or lon is None:
        return None
    kind = where.get("where") if where.get("where") in WHERE_KINDS else "tap"
    return lat, lon, kind


def result_item(r: dict, status: str, state: str, lang: str, rank: int):
    eta = minutes(r["eta_min"], lang)
    estimate = r["eta_source"] == "estimate"
    # one sentence for a screen reader: the spans inside run together when read as the button's name
    label = t("rider.result_label", lang, rank=rank, name=r["name"], distance=distance(r["distance_m"], lang),
              eta=(t("rider.estimate", lang) + " " if estimate else "") + eta, status=status)
    # plain documents, not component objects: a list is up to eight of these ten elements each (pages/components.py)
    return element("Li", element("Button", [
        element("Span", str(rank), className="rank"),
        element("Span", [
            element("Span", r["name"], className="result-name"),
            element("Span", [
                element("Span", distance(r["distance_m"], lang), className="distance"),
                element("Span", [t("rider.estimate", lang) + " " if estimate else "", eta],
                        className="eta estimate" if estimate else "eta",
                        title=t("rider.estimate_title", lang) if estimate else None),
                element("Span", status, className=f"status status-{state}"),
            ], className="result-meta"),
            amenity_icons(r["amenities"], lang),
        ], className="result-body"),
    ], id=result_id(r["id"]), className="result", n_clicks=0, **{"aria-label": label}))


def highlight_collection(results: list[dict], here: dict | None) -> dict:
    features = [geojson.feature(geojson.point(r["lon"], r["lat"]),
                                {"id": r["id"], "name": r["name"], "kind": "result", "rank": i + 1})
                for i, r in enumerate(results)]
    if here:
        features.append(geojson.feature(geojson.point(here["lon"], here["lat"]), {"kind": "here"}))
    return geojson.collection(features)


def _reach(state) -> float:
    value = _float((state or {}).get("reach_m") if isinstance(state, dict) else None, -math.inf, math.inf)
    return 5000.0 if value is None else min(max(value, 100.0), max(WIDEN_STEPS_M))


def _chosen(chips) -> tuple[str, ...]:
    """The amenity keys of the chips the client sent; a chip outside the vocabulary drops them all."""
    try:
        return parse_amenities([c for c in chips if isinstance(c, str)] if isinstance(chips, list) else ())
    except ValueError:
        return ()


def results_view(where, chips, open_now, open_at, state):
    """The result list, the map highlights, the suggestions and the "where" line for a page state."""
    lang = lang_of(state)
    reach = _reach(state)
    checked = checked_location(where)
    if checked is None:
        return [], highlight_collection([], None), None, ""
    lat, lon, kind = checked
    label = where.get("label")
    here = {"lat": lat, "lon": lon, "where": kind, "label": str(label)[:80] if label else None}
    keys = _chosen(chips)
    at = query_time(open_now, open_at)
    catalogue = services().stations
    results = catalogue.finder.nearest(lat, lon, amenities=keys, at=at, k=MAX_RESULTS, max_distance_m=reach)
    where_text = [html.Span(here["label"] or t(f"rider.where.{kind}", lang), className="where-label"),
                  html.Span(f" ({lat:.4f}, {lon:.4f})", className="coords")]
    if not results:
        return [], highlight_collection([], here), suggestions(lat, lon, keys, at, reach, lang), where_text
    states = catalogue.states([catalogue.position(r["id"]) for r in results], at or _now())
    items = [result_item(r, status_text(s, lang), s.state, lang, i + 1)
             for i, (r, s) in enumerate(zip(results, states))]
    return items, highlight_collection(results, here), None, where_text


def _muted_note(s: dict, planned_time: bool, lang: str) -> tuple[str, str]:
    """(code, tooltip note) of why a station does not answer: closed, paused, lacking or out of service."""
    return _muted_reason(s["paused"], s["closed"], tuple(s["lacking"]), tuple(s["out"]), planned_time, lang)


@functools.lru_cache(maxsize=1024)  # a map judges hundreds of stations for a handful of distinct reasons
def _muted_reason(paused: bool, closed: bool, lacking: tuple[str, ...], out: tuple[str, ...], planned_time: bool,
                  lang: str) -> tuple[str, str]:
    codes, notes = [], []
    if paused:
        codes.append("paused")
        notes.append(t("rider.map.paused", lang))
    elif closed:
        codes.append("closed")
        notes.append(t("rider.map.closed_then" if planned_time else "rider.map.closed", lang))
    sep = "、" if lang == "zh" else ", "
    if lacking:
        codes.append("lacking:" + ",".join(lacking))
        notes.append(t("rider.map.lacking", lang, names=sep.join(t(f"amenity.{k}", lang) for k in lacking)))
    if out:
        codes.append("out:" + ",".join(out))
        notes.append(t("rider.map.out", lang, names=sep.join(t(f"amenity.{k}", lang) for k in out)))
    return "|".join(codes), " · ".join(notes)


def map_answer(where, chips, open_now, open_at, state) -> dict:
    """The station layer's ``hideout``: which stations near the rider do not answer the list's question, and why.

    ``muted`` maps a station id to a reason code, ``notes`` a code to the tooltip's words; ``here`` and
    ``judged_m`` say how far from the rider stations were judged (None: all of them). The judgement is
    :meth:`StationFinder.answer_states`, the same eligibility the list is made by; the map only draws it.
    ``ask`` is the question itself (``amenities``, ``at``: now, any or the planned time), which the map sends
    with its view so the server's clusters count the stations answering it (drawn grey when none does).
    """
    checked = checked_location(where)
    if checked is None:
        return {"muted": {}, "notes": {}, "here": None, "judged_m": None, "ask": None}
    lat, lon, _ = checked
    at = query_time(open_now, open_at)
    lang = lang_of(state)
    finder = services().stations.finder
    states, reach = finder.muted_states(lat, lon, _chosen(chips), at, k=MAP_JUDGED)
    muted, notes = {}, {}
    for s in states:
        code, note = _muted_note(s, bool(open_at) and not open_now, lang)
        muted[s["id"]] = code
        notes[code] = note
    judged = None if reach is None else math.floor(reach)
    planned = None if open_now else _planned_time(open_at)
    ask = {"amenities": ",".join(_chosen(chips)), "at": "now" if open_now else planned or "any"}
    return {"muted": muted, "notes": notes, "here": [lat, lon], "judged_m": judged, "ask": ask}


def fit_view(highlight, previous, where, entry_shown=False):
    """Fit the map to the rider and the results when the answer changed (other results, or the rider moved).

    With no result, a position found by locating is flown to; a tapped or searched one is on screen already.
    While the map shows a compound's way in (``entry_shown``), the first visit's own position fix, arriving
    late, leaves the map where the rider is looking.
    """
    if entry_shown and isinstance(where, dict) and where.get("where") == "gps" and where.get("unasked") is True:
        return no_update
    def points(collection):
        """(kind, id, coordinates) of each feature; None for anything that is not such a collection."""
        features = collection.get("features") if isinstance(collection, dict) else None
        try:
            return [(f["properties"].get("kind"), f["properties"].get("id"), tuple(f["geometry"]["coordinates"]))
                    for f in features] if isinstance(features, list) else None
        except (KeyError, TypeError, AttributeError):
            return None

    now, before = points(highlight), points(previous)  # what the client shows is its word: only compared
    if not now or now == before:
        return no_update
    if not any(kind == "result" for kind, _, _ in now):
        return follow_view(where)
    lons = [c[0] for _, _, c in now]
    lats = [c[1] for _, _, c in now]
    return {"bounds": [[min(lats), min(lons)], [max(lats), max(lons)]], "transition": "flyToBounds",
            "options": {"padding": [36, 36], "maxZoom": 16}}


def initial_bounds(highlight) -> list | None:
    """The bounds of the rider and the results the page is first served with (None without results)."""
    view = fit_view(highlight, None, None)
    return view["bounds"] if isinstance(view, dict) and "bounds" in view else None


def suggestions(lat, lon, keys, at, reach, lang):
    """Nothing within reach: offer wider distances and dropping the rarest amenity, with counts."""
    finder = services().stations.finder
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


def suggestion_effect(trigger, state, chips):
    """What a "widen" or "drop" button does to the page state; a forged button does nothing."""
    if not isinstance(trigger, dict) or not isinstance(state, dict):
        return no_update, no_update
    value = str(trigger.get("value"))
    chips = [c for c in chips if isinstance(c, str)] if isinstance(chips, list) else []
    if trigger.get("kind") == "widen" and value.isdigit() and int(value) in WIDEN_STEPS_M:
        return {**state, "reach_m": int(value)}, no_update
    if trigger.get("kind") == "drop" and value in chips:
        return no_update, [k for k in chips if k != value]
    return no_update, no_update


def time_pickers(trigger, open_now, day, time):
    """"Open now" and a planned day and time exclude each other: choosing one clears the other.

    One picker set alone means "today" or "at noon", so that one tap plans a time.
    """
    if trigger == RIDER.open_now:
        return no_update, (None if open_now else no_update), (None if open_now else no_update)
    if trigger == RIDER.open_time and time and not day:
        return [], _now().date().isoformat(), no_update
    if trigger == RIDER.open_day and day and not time:
        return [], no_update, "12:00"
    if planned(day, time) and open_now:
        return [], no_update, no_update
    return no_update, no_update, no_update


def tap_location(click):
    """The rider's new position from a tap on the map, or ``no_update`` for anything else."""
    latlng = click.get("latlng") if isinstance(click, dict) else None
    if not isinstance(latlng, dict):
        return no_update
    lat, lon = _float(latlng.get("lat"), -90, 90), _float(latlng.get("lng"), -180, 180)
    if lat is None or lon is None:
        return no_update
    return {"lat": round(lat, 6), "lon": round(lon, 6), "where": "tap"}


def search_view(query, state):
    """(new position, message, viewport, page state) for a searched place name.

    The best hit becomes the rider's position, so the list is the nearest from there; when it is a
    station its card opens too (it is then also first in the list whenever it answers the question).
    The other hits are buttons: a tap goes there instead (:func:`search_alternative_view`).
    """
    lang = lang_of(state)
    query = query.strip()[:MAX_QUERY_CHARS] if isinstance(query, str) else ""
    if not query:
        return no_update, "", no_update, no_update
    places = services().stations.places().search(query, limit=5)
    if not places:
        return no_update, t("rider.search_none", lang, q=query), no_update, no_update
    return _go_to_place(places[0], places[1:], state, lang)


def _go_to_place(best, others, state, lang: str):
    where = {"lat": best.lat, "lon": best.lon, "where": "search", "label": best.name}
    buttons = [html.Button(p.name, id=search_alternative_id(p.kind, p.id), className="btn alt", n_clicks=0)
               for p in others]
    message = html.Div([html.B(best.name, className="search-best"),
                        *([html.Span(t("rider.search_also", lang), className="search-also"),
                           html.Div(buttons, className="row search-alts")] if buttons else [])])
    new_state = {**state, "station": best.id} if best.kind == "station" and isinstance(state, dict) else no_update
    return where, message, {"center": [best.lat, best.lon], "zoom": 15, "transition": "flyTo"}, new_state


def search_alternative_view(trigger, buttons, state):
    """A tap on another place the search found: the same as searching that place by its exact name."""
    if not isinstance(trigger, dict) or not _clicks_of(trigger, buttons):
        return no_update, no_update, no_update, no_update
    kind, place_id = trigger.get("kind"), trigger.get("id")
    if not isinstance(kind, str) or not isinstance(place_id, str) or len(place_id) > 80:
        return no_update, no_update, no_update, no_update
    place = services().stations.places().get(kind, place_id)
    if place is None:
        return no_update, no_update, no_update, no_update
    return _go_to_place(place, [], state, lang_of(state))


def follow_view(where):
    """Fly the map to a new position found by locating the rider (not one they tapped or searched)."""
    checked = checked_location(where)
    if checked is None or checked[2] in ("tap", "search"):
        return no_update  # the rider is looking at the map already
    return {"center": [checked[0], checked[1]], "zoom": 14, "transition": "flyTo"}


def station_selection(trigger, result_clicks, click, state):
    """The page state after a tap on a result, a pin, or the card's close button."""
    if not isinstance(state, dict):
        return no_update
    if trigger == RIDER.card_close:
        return {**state, "station": None}
    if isinstance(trigger, dict):
        if not any(isinstance(n, int) and n > 0 for n in (result_clicks or [])):
            return no_update
        return {**state, "station": trigger.get("id") if isinstance(trigger.get("id"), str) else None}
    props = click.get("properties") if isinstance(click, dict) else None
    if not isinstance(props, dict) or props.get("cluster"):
        return no_update
    sid = props.get("id")
    if services().stations.position(sid) is None:
        return no_update
    return {**state, "station": sid}


# ---------------------------------------------------------------------------------------------
# the station card

def week_rows(position: int, when, lang: str):
    days = services().stations.week_schedule(position, when)
    today = _now().date()
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
            note.append(holiday(d["holiday"], lang))
        rows.append(html.Tr([
            html.Th(label + (f" · {t('rider.card.today', lang)}" if d["date"] == today else "")),
            html.Td(spans or t("rider.card.closed_day", lang)),
            html.Td(" · ".join(note), className="holiday"),
        ], className="today" if d["date"] == today else None))
    return html.Table(html.Tbody(rows), className="week")


def share_link(station_id: str, row, lang: str) -> str:
    query = {"s": station_id, "lat": f"{row.geometry.y:.6f}", "lon": f"{row.geometry.x:.6f}", "lang": lang}
    return "/?" + urlencode(query)


def _temporary_note(row, lang: str) -> str:
    note = row["status_note"] or ""
    until = row["status_until"]
    if until is not None and str(until) != "NaT":
        u = as_local(until)
        note += t("rider.card.until_date", lang, month=u.month, day=u.day, mon=f"{u:%b}")
    return note


def _out_of_service(row, when) -> list[str]:
    """The station's amenities out of service at ``when`` (until its status_until, or until cleared)."""
    out = row.get("amenities_out") or frozenset()
    until = row["status_until"]
    if not out or (until is not None and str(until) != "NaT" and as_local(until) <= as_local(when)):
        return []
    return amenity_list(out)


def card_view(state, open_at):
    """The station card for the page state: (children, hidden, [lat, lon] or None)."""
    state = state if isinstance(state, dict) else {}
    lang = lang_of(state)
    catalogue = services().stations
    i = catalogue.position(state.get("station"))
    if i is None:
        return None, True, None
    row = catalogue.stations.iloc[i]
    when = query_time([], open_at) or _now()
    status = catalogue.states([i], when)[0]
    lat, lon = float(row.geometry.y), float(row.geometry.x)
    body = [
        html.H2(row["name"], id=RIDER.card_title, className="card-title"),
        html.P(status_text(status, lang), className=f"status status-{status.state}"),
    ]
    if row["status"] == "closed_temporarily":
        body.append(html.P(_temporary_note(row, lang), className="temporary"))
    out = _out_of_service(row, when)
    if out:
        names = "、".join(t(f"amenity.{k}", lang) for k in out)
        note = _temporary_note(row, lang) if row["status"] != "closed_temporarily" else ""
        body.append(html.P(t("rider.card.out", lang, names=names) + (f" · {note}" if note else ""),
                           className="temporary amenities-out"))
    body += [
        html.P([row["address"], html.Br(), html.Span(row["district"] + (f" · {row['street']}" if row["street"] else ""))],
               className="address"),
        html.A([t("rider.card.call", lang), " ", row["phone"]], href=f"tel:{row['phone']}", className="btn call")
        if row["phone"] else None,
        report_button("station", row["id"], lang),
        html.H3(t("rider.card.amenities", lang)),
        html.Ul([html.Li([html.Img(src=f"/assets/icons/{k}.svg", alt="", className="amenity-icon"),
                          t(f"amenity.{k}", lang)]) for k in amenity_list(row["amenities"])], className="amenity-list"),
        html.H3(t("rider.card.hours", lang)),
        html.P(row["opening_hours"], className="oh-raw"),
        week_rows(i, when, lang),
        # a year without a published notice: say the holidays are the statutory ones
        html.P(statutory_note(as_local(when).year, lang), className="calendar-statutory")
        if schedule_source(as_local(when).date()) is ScheduleSource.STATUTORY else None,
        html.P(t("rider.card.confirmed", lang, date=f"{as_local(row['confirmed_at']):%Y-%m-%d}"), className="confirmed")
        if "confirmed_at" in row and str(row["confirmed_at"]) != "NaT" and row["confirmed_at"] is not None else None,
        html.Div([
            html.A(t("rider.card.nav_amap", lang), href=amap_marker_url(lat, lon, row["name"]), target="_blank",
                   rel="noopener noreferrer", className="btn btn-primary nav-amap"),
            html.A(t("rider.card.nav_baidu", lang), href=baidu_marker_url(lat, lon, row["name"], row["address"]),
                   target="_blank", rel="noopener noreferrer", className="btn nav-baidu"),
            html.A(t("rider.card.share", lang), href=share_link(row["id"], row, lang), className="btn share-link"),
        ], className="row nav"),
    ]
    return body, False, [lat, lon]


# ---------------------------------------------------------------------------------------------
# overlays and compound entry

def overlay_urls(overlays, compounds_url, signs_url, state):
    """The compounds and signs overlays load their data the first time the rider switches them on."""
    lang = lang_of(state)
    shown = {o for o in overlays if isinstance(o, str)} if isinstance(overlays, list) else set()
    urls = []
    for key, current in (("layer.compounds", compounds_url), ("layer.signs", signs_url)):
        urls.append(LAZY_OVERLAYS[key] if not current and t(key, lang) in shown else no_update)
    return tuple(urls)


def compound_options(text) -> list:
    """Names to suggest while the rider types a compound's name."""
    text = text.strip()[:MAX_QUERY_CHARS] if isinstance(text, str) else ""
    if not text:
        return []
    found = find_compounds(services().stations.entry_layers()["compounds"], text, limit=12)
    return [html.Option(value=n) for n in found["name"]]


def entry_view(name, building, lang: str):
    """The compound entry for a name and a building number: (map data, message, viewport)."""
    name = name.strip()[:MAX_QUERY_CHARS] if isinstance(name, str) else ""
    if not name:
        return None, None, no_update
    layers = services().stations.entry_layers()
    found = find_compounds(layers["compounds"], name, limit=1)
    if found.empty:
        return None, unknown_compound_message(name, lang), no_update
    building = building.strip()[:20] if isinstance(building, str) else ""
    try:
        answer = entry_route(layers, found.iloc[0]["id"], building)
    except UnknownCompoundError:
        return None, t("rider.compound.unknown", lang, q=name), no_update
    return entry_collection(answer, lang), entry_message(answer, lang), entry_viewport(answer)


def unknown_compound_message(name: str, lang: str) -> list:
    """No compound by that name, and the closest names as buttons that ask for their way in."""
    parts = [html.P(t("rider.compound.unknown", lang, q=name), className="compound-unknown")]
    close = closest_compounds(services().stations.compound_names(), name)
    if close:
        parts.append(html.P(t("rider.compound.did_you_mean", lang), className="did-you-mean"))
        parts.append(html.Div([html.Button(s.name, id=compound_suggestion_id(s.id), n_clicks=0, type="button",
                                           className="btn compound-suggestion") for s in close],
                              className="row compound-suggestions", role="group",
                              **{"aria-label": t("rider.compound.did_you_mean", lang)}))
    return parts


def _clicks_of(trigger, buttons) -> int:
    """The tap count the client sent for button ``trigger`` among ``buttons`` (Dash's inputs list), 0 if none."""
    if not isinstance(buttons, list):
        return 0
    n = next((b.get("value") for b in buttons if isinstance(b, dict) and b.get("id") == trigger), None)
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0


def entry_from_suggestion(trigger, buttons, building, state):
    """A tapped suggestion: (the compound's name for the box, map data, message, viewport).

    ``trigger`` is the tapped button's id and ``buttons`` every suggestion's id and tap count, as the
    client sent them; a button only drawn (no tap yet), a forged id or an id no compound has changes nothing.
    """
    nothing = (no_update,) * 4
    if not isinstance(trigger, dict) or not _clicks_of(trigger, buttons):
        return nothing
    compound_id = trigger.get("id")
    if trigger.get("type") != compound_suggestion_id("")["type"] or not isinstance(compound_id, str) \
            or not 0 < len(compound_id) <= 64:
        return nothing
    building = building.strip()[:20] if isinstance(building, str) else ""
    try:
        answer = entry_route(services().stations.entry_layers(), compound_id, building)
    except UnknownCompoundError:
        return nothing
    lang = lang_of(state)
    return (answer["compound"]["name"], entry_collection(answer, lang), entry_message(answer, lang),
            entry_viewport(answer))


def _feature(geom, **props):
    return geojson.feature(geojson.geometry(geom), props)


def entry_collection(answer: dict, lang: str) -> dict:
    features = [_feature(answer["compound"]["geometry"].boundary, kind="outline", name=answer["compound"]["name"])]
    if answer["route"] is not None:
        features.append(_feature(answer["route"], kind="route", name=f"{answer['length_m']:.0f} m"))
    gates = ([answer["gate"]] if answer["gate"] else []) + answer["other_gates"]
    for g in gates:
        # the gate to use is labelled on the map for good; a gate refusing riders is marked so in its tooltip
        used = bool(answer["gate"]) and g["id"] == answer["gate"]["id"]
        refused = g["refuses_riders"]
        kind = "gate_used" if used else "gate_refused" if refused else "gate"
        label = f"{t('rider.map.enter_here', lang)} · {g['name']}" if used else g["name"]
        if refused:
            label += " · " + t("rider.compound.refuses_riders", lang)
        elif g["refuses_e_bikes"]:
            label += " · " + t("rider.compound.no_ebike", lang)
        features.append(_feature(g["geometry"], kind=kind, name=label))
    if answer["building"]:
        features.append(_feature(answer["building"]["geometry"], kind="building", name=answer["building"]["label"]))
    for s in answer["signs"]:
        features.append(_feature(s["geometry"], kind=f"sign_{s['condition']}",
                                 name=f"{t('sign.' + s['kind'], lang)} · {t('sign.' + s['condition'], lang)}"))
    return geojson.collection(features)


def entry_message(answer: dict, lang: str):
    parts = [html.H3(answer["compound"]["name"])]
    if answer["reason_code"] == "no_building_given":
        parts.append(html.P(t("rider.compound.gate", lang, gate=answer["gate"]["name"]), className="gate-used"))
        parts.append(html.P(t("rider.compound.ask_building", lang), className="ask-building"))
        if answer["known_numbers"]:
            parts.append(html.P(t("rider.compound.known", lang, numbers="、".join(answer["known_numbers"])),
                                className="known-numbers"))
    elif answer["reason"]:
        reason = t(f"rider.reason.{answer['reason_code']}", lang)
        parts.append(html.P(t("rider.compound.no_route", lang, reason=reason), className="no-route"))
        if answer["reason_code"] == "no_such_building" and answer["known_numbers"]:
            parts.append(html.P(t("rider.compound.known", lang, numbers="、".join(answer["known_numbers"])),
                                className="known-numbers"))
    else:
        parts.append(html.P(t("rider.compound.gate", lang, gate=answer["gate"]["name"]), className="gate-used"))
        parts.append(html.P(t("rider.compound.route", lang, building=answer["building"]["label"],
                              m=f"{answer['length_m']:.0f}", walk=walk_time(answer["walking_min"], lang)),
                            className="route-length"))
    if answer["other_gates"]:
        items = []
        for g in answer["other_gates"]:
            flags = [t(key, lang) for key, on in (("rider.compound.refuses_riders", g["refuses_riders"]),
                                                  ("rider.compound.no_ebike", g["refuses_e_bikes"])) if on]
            items.append(html.Li(g["name"] + (" · " + "、".join(flags) if flags else ""),
                                 className="gate-refused" if flags else "gate"))
        parts.append(html.Ul(items, className="gates"))
    if answer["signs"]:
        parts.append(html.H4(t("rider.compound.signs", lang)))
        parts.append(html.Ul([html.Li(f"{t('sign.' + s['kind'], lang)}「{s['text']}」 · {t('sign.' + s['condition'], lang)}",
                                      className=f"sign sign-{s['condition']}") for s in answer["signs"]]))
    parts.append(report_button("compound", answer["compound"]["id"], lang))
    return parts


def entry_viewport(answer: dict):
    minx, miny, maxx, maxy = answer["compound"]["geometry"].bounds
    return {"bounds": [[miny, minx], [maxy, maxx]], "transition": "flyToBounds"}
