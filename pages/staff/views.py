"""View builders of the staff workspace: every value from the browser is re-checked here, every write is
authorised by the domain for the signed-in account (never by what the page shows or sends).
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
from dash import dcc, html, no_update

from layers.common.calendar import as_local
from layers.common.errors import AccessDenied, QuestionError
from layers.common.geodesy import haversine_m
from layers.staff import hours_editor
from layers.staff import stations as edits
from layers.staff.access import may_edit_station
from layers.staff.accounts import Account
from mapdata import clock
from mapdata.store import StoreError
from mapdata.vocabulary import AMENITY_KEYS, STATION_STATUSES
from pages.auth import current_account
from pages.context import services
from pages.i18n import language, t
from pages.ids import merge_choice_id, revert_id, staff_station_id

MAX_LISTED = 60
MAX_TEXT_INPUT = 600
#: The form's fields, in the order the editor holds them (``position`` is a {lon, lat} store).
FORM_FIELDS = ("name", "address", "phone", "operator", "capacity", "amenities", "amenities_out", "opening_hours",
               "status", "status_note", "status_until", "position")
QUICK_REPAIR_DAYS = 3


def lang_of(state) -> str:
    return language(state.get("lang")) if isinstance(state, dict) else "zh"


def _text(value, limit: int = MAX_TEXT_INPUT):
    return value if isinstance(value, str) and len(value) <= limit else None


# -- who is signed in -------------------------------------------------------------------------------

def who(account: Account, lang: str) -> str:
    if account.role == "city":
        return t("staff.role.city", lang)
    if account.role == "station":
        names = services().store.read("stations").set_index("id")["name"]
        area = "、".join(str(names.get(s, s)) for s in account.stations)
    elif account.role == "street":
        area = f"{account.street}"
    else:
        districts = services().store.read("districts")
        row = districts[districts["adcode"].astype(int) == (account.adcode or -1)]
        area = str(row["name"].iloc[0]) if len(row) else str(account.adcode)
    return t(f"staff.role.{account.role}", lang, area=area)


# -- my stations, what needs attention first --------------------------------------------------------

def station_list(query, state) -> list:
    account = current_account()
    lang = lang_of(state)
    if account is None:
        return [html.P(t("staff.need_login", lang))]
    todo = edits.attention(services().store.read("stations"), account)
    q = _text(query, 100)
    if q and q.strip():
        todo = todo[todo["name"].str.contains(q.strip(), regex=False)]
    if todo.empty:
        return [html.P(t("staff.none", lang), className="staff-empty")]
    items = []
    for row in todo.head(MAX_LISTED).itertuples():
        reasons = [t("staff.reason.status_expired", lang) if r == "status_expired"
                   else t("staff.reason.unconfirmed", lang, days=row.days) for r in row.reasons]
        items.append(html.Button([html.Span(row.name, className="staff-station-name"),
                                  html.Span(" · ".join(reasons) or t("staff.reason.ok", lang),
                                            className="staff-reasons" + (" attention" if reasons else ""))],
                                 id=staff_station_id(row.id), className="staff-station", n_clicks=0))
    if len(todo) > MAX_LISTED:
        items.append(html.P(t("staff.more", lang, n=len(todo) - MAX_LISTED), className="staff-more"))
    return items


# -- loading a station into the editor ---------------------------------------------------------------

def _station_row(station_id):
    if not isinstance(station_id, str) or len(station_id) > 64:
        return None
    stations = services().store.read("stations")
    hit = stations[stations["id"] == station_id]
    return None if hit.empty else hit.iloc[0]


def form_values(row) -> dict:
    """A station as the editor's fields hold it (JSON: the page keeps it as what was loaded)."""
    until = row["status_until"]
    return {"name": row["name"], "address": row["address"], "phone": row["phone"] or "", "operator": row["operator"],
            "capacity": int(row["capacity"]), "amenities": [k for k in AMENITY_KEYS if k in row["amenities"]],
            "amenities_out": [k for k in AMENITY_KEYS if k in row["amenities_out"]],
            "opening_hours": row["opening_hours"], "status": row["status"], "status_note": row["status_note"] or "",
            "status_until": "" if pd.isna(until) else as_local(until).strftime("%Y-%m-%dT%H:%M"),
            "position": {"lon": round(float(row.geometry.x), 7), "lat": round(float(row.geometry.y), 7)}}


def load_station(station_id, state):
    """(loaded store, the field values in FORM_FIELDS order, history) for a station the account may edit."""
    account = current_account()
    row = _station_row(station_id)
    if account is None or row is None or not may_edit_station(account, row):
        return None
    values = form_values(row)
    loaded = {"id": str(row["id"]), "version": int(row["version"]), "values": values}
    return loaded, values, history_view(str(row["id"]), lang_of(state))


# -- the weekly hours form -----------------------------------------------------------------------------

def form_from_text(text):
    """The 28 times (day by day: start, end, start, end) and the PH rule of ``text``, or None when the form
    cannot hold it."""
    parsed = hours_editor.decompose(text) if isinstance(text, str) else None
    if parsed is None:
        return None
    week, ph = parsed
    times = []
    for periods in week:
        slots = [v for span in periods for v in span] + [""] * (4 - 2 * len(periods))
        times += slots[:4]
    return times, ph


def text_from_form(times, ph, lang):
    """(OSM text, None) from the form's 28 times and PH rule, or (no_update, message) when a period is wrong."""
    if not isinstance(times, list) or len(times) != 28 or ph not in hours_editor.PH_RULES:
        return no_update, None
    week = []
    for d in range(7):
        slots = times[4 * d: 4 * d + 4]
        if not all(v is None or isinstance(v, str) and len(v) <= 5 for v in slots):
            return no_update, None
        periods = [(slots[i], slots[i + 1]) for i in (0, 2) if slots[i] or slots[i + 1]]
        week.append(periods)
    try:
        return hours_editor.compose(week, ph), None
    except hours_editor.HoursFormError as exc:
        return no_update, t("staff.hours.form_error", lang, day=t(f"weekday.{exc.day}", lang), period=exc.period + 1,
                            message=exc.message)


def _hours_text(periods, lang) -> str:
    return ", ".join(f"{a}–{b}" for a, b in periods) if periods else t("staff.preview.closed", lang)


def preview_view(text, state):
    """(preview component, error under the field) for the hours text as typed."""
    lang = lang_of(state)
    if not isinstance(text, str) or len(text) > MAX_TEXT_INPUT:
        return no_update, no_update
    shown = hours_editor.preview(text, clock.today())
    if "error" in shown:
        return None, shown["error"]
    rows = [html.Tr([html.Th(t("weekday." + str(d["weekday"]), lang) + f" {d['date']:%m-%d}"),
                     html.Td(_hours_text(d["periods"], lang))], className=d["day_kind"]) for d in shown["week"]]
    notes = []
    h, mk = shown["holiday"], shown["makeup"]
    notes.append(t("staff.preview.holiday", lang, date=f"{h['date']:%Y-%m-%d}", name=h["name"] or "",
                   hours=_hours_text(h["periods"], lang)) if h else
                 t("staff.preview.holiday", lang, date="—", name=t("staff.preview.none", lang), hours=""))
    if mk:
        notes.append(t("staff.preview.makeup", lang, date=f"{mk['date']:%Y-%m-%d}", hours=_hours_text(mk["periods"], lang)))
    return html.Div([html.H4(t("staff.preview", lang)), html.Table(html.Tbody(rows), className="hours-preview"),
                     *[html.P(n, className="preview-note") for n in notes]]), None


# -- quick choices and the map tap ----------------------------------------------------------------------

def quick_choice(kind, amenities_out, state):
    """(status, note, until, amenities out) for a quick choice."""
    lang = lang_of(state)
    now = as_local(clock.now())
    out = [k for k in (amenities_out or []) if k in AMENITY_KEYS] if isinstance(amenities_out, list) else []
    if kind == "microwave":
        until = (now + dt.timedelta(days=QUICK_REPAIR_DAYS)).replace(hour=18, minute=0)
        return "open", t("staff.quick.microwave", lang), until.strftime("%Y-%m-%dT%H:%M"), \
            sorted(set(out) | {"microwave"}, key=AMENITY_KEYS.index)
    if kind == "closed_today":
        return "closed_temporarily", t("staff.quick.closed_today", lang), now.strftime("%Y-%m-%dT23:59"), out
    if kind == "normal":
        return "open", "", "", []
    return no_update, no_update, no_update, no_update


def tap(click, old, state):
    """(new position, note of the distance from ``old`` — {lon, lat} or None) from a tap on the map."""
    if not isinstance(click, dict):
        return no_update, no_update
    latlng = click.get("latlng")
    if not isinstance(latlng, dict):
        return no_update, no_update
    lat, lon = latlng.get("lat"), latlng.get("lng")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lon)) \
            or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return no_update, no_update
    position = {"lon": round(float(lon), 7), "lat": round(float(lat), 7)}
    try:
        moved = float(haversine_m(old["lat"], old["lon"], lat, lon))
    except (KeyError, TypeError, ValueError):  # no position before, or a forged one
        return position, None
    return position, t("staff.moved", lang_of(state), m=f"{moved:.0f}")


# -- review, save, merge -------------------------------------------------------------------------------

def changed_fields(form: dict, loaded) -> dict:
    """The fields the user changed since loading (only those: another person's change is never undone)."""
    before = loaded.get("values") if isinstance(loaded, dict) else None
    if not isinstance(before, dict):
        return {}
    out = {}
    for name in FORM_FIELDS:
        value = form.get(name)
        if value == before.get(name):
            continue
        if name in ("phone", "status_note", "status_until") and value == "":
            value = None
        out[name] = value
    return out


def _refusal(exc, lang) -> html.P:
    if isinstance(exc, AccessDenied):
        return html.P(t("staff.denied", lang, message=exc.message), className="staff-error", role="alert")
    return html.P(t("staff.refused", lang, field=_label(exc.field, lang), message=exc.message), className="staff-error",
                  role="alert")


_LABELS = {f"staff.field.{f}" for f in FORM_FIELDS}


def _label(field: str, lang: str) -> str:
    return t(f"staff.field.{field}", lang) if f"staff.field.{field}" in _LABELS else field


def _shown(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict) and "lon" in value:
        return f"{value['lon']:.6f}, {value['lat']:.6f}"
    if isinstance(value, list):
        return "、".join(map(str, value))
    return str(value)


def _diff_table(changes, lang):
    return html.Table(html.Tbody([html.Tr([html.Th(t(f"staff.field.{c.field}", lang)), html.Td(_shown(c.before)),
                                           html.Td("→"), html.Td(_shown(c.after))]) for c in changes]),
                      className="staff-diff")


def review(form: dict, loaded, state):
    """What saving would change, field by field, with warnings; nothing is written."""
    lang = lang_of(state)
    account = current_account()
    row = _station_row(loaded.get("id")) if isinstance(loaded, dict) else None
    if account is None or row is None:
        return html.P(t("staff.need_login", lang), className="staff-error")
    changed = changed_fields(form, loaded)
    if not changed:
        return html.P(t("staff.no_changes", lang))
    try:
        plan = edits.plan_edit(row, changed, account, services().store.read("districts"))
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang)
    return html.Div([html.P(t("staff.changes", lang)), _diff_table(plan.changes, lang),
                     *[html.P(t("staff.warning.move", lang, m=w.split(":")[1]), className="staff-warning")
                       for w in plan.warnings if w.startswith("move:")]])


def review_first_note(lang: str):
    return html.P(t("staff.review_first", lang), className="staff-warning", role="status")


def fingerprint(form: dict, loaded) -> str:
    """What the user is about to save, as the review showed it: a save writes only what was reviewed."""
    return json.dumps({"id": loaded.get("id") if isinstance(loaded, dict) else None,
                       "changed": changed_fields(form, loaded)}, sort_keys=True, ensure_ascii=False, default=str)


def save(form: dict, loaded, state, keep_theirs=()):
    """(message, new loaded store or no_update, conflict panel) after writing the user's changes."""
    lang = lang_of(state)
    account = current_account()
    if account is None or not isinstance(loaded, dict) or not isinstance(loaded.get("version"), int):
        return html.P(t("staff.need_login", lang), className="staff-error"), no_update, None
    changed = {k: v for k, v in changed_fields(form, loaded).items() if k not in set(keep_theirs)}
    version = loaded["version"]
    if isinstance(loaded.get("merge_version"), int):
        version = loaded["merge_version"]
    if not changed:
        return html.P(t("staff.no_changes", lang)), no_update, None
    try:
        result = edits.save_edit(services().store, account, loaded.get("id"), changed, version,
                                 services().store.read("districts"))
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang), no_update, None
    except LookupError:
        return html.P(t("staff.need_login", lang), className="staff-error"), no_update, None
    if result.conflict is not None:
        c = result.conflict
        return None, {**loaded, "merge_version": c.current_version}, conflict_view(c, lang)
    row = _station_row(loaded["id"])
    new_loaded = {"id": loaded["id"], "version": int(row["version"]), "values": form_values(row)}
    return html.P(t("staff.saved", lang, version=result.version), className="staff-ok"), new_loaded, None


def conflict_view(c: edits.Conflict, lang: str):
    theirs = {ch.field: ch for ch in c.theirs}
    rows = []
    for mine in c.mine:
        other = theirs.get(mine.field)
        options = [{"label": t("staff.conflict.keep_mine", lang), "value": "mine"}]
        if other is not None:
            options.insert(0, {"label": t("staff.conflict.keep_theirs", lang), "value": "theirs"})
        rows.append(html.Tr([html.Th(t(f"staff.field.{mine.field}", lang)),
                             html.Td(_shown(other.after if other else c.current.get(mine.field))),
                             html.Td(_shown(mine.after)),
                             html.Td(dcc.RadioItems(id=merge_choice_id(mine.field), options=options, value="mine",
                                                    inline=True))]))
    for field, ch in theirs.items():
        if field not in {m.field for m in c.mine}:
            rows.append(html.Tr([html.Th(t(f"staff.field.{field}", lang)), html.Td(_shown(ch.after)),
                                 html.Td("—"), html.Td(t("staff.conflict.keep_theirs", lang))]))
    return html.Div([
        html.P(t("staff.conflict", lang, theirs=c.current_version), className="staff-warning", role="alert"),
        html.Table([html.Thead(html.Tr([html.Th(t("staff.conflict.field", lang)), html.Th(t("staff.conflict.theirs", lang)),
                                        html.Th(t("staff.conflict.mine", lang)), html.Th("")])),
                    html.Tbody(rows)], className="staff-conflict-table"),
    ])


def merge_choices(values, ids) -> list[str]:
    """The fields the user chose to keep as the other person saved them."""
    if not isinstance(values, list) or not isinstance(ids, list):
        return []
    return [i.get("field") for v, i in zip(values, ids) if v == "theirs" and isinstance(i, dict)
            and i.get("field") in FORM_FIELDS]


# -- confirm, history, revert ----------------------------------------------------------------------------

def confirm(loaded, state):
    lang = lang_of(state)
    account = current_account()
    if account is None or not isinstance(loaded, dict):
        return html.P(t("staff.need_login", lang), className="staff-error")
    try:
        stamp = edits.confirm(services().store, account, [loaded.get("id")])
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang)
    return html.P(t("staff.confirmed", lang, when=f"{as_local(stamp):%Y-%m-%d %H:%M}"), className="staff-ok")


def history_view(station_id: str, lang: str):
    entries = edits.history(services().store, station_id)
    if not entries:
        return [html.P(t("staff.history.empty", lang))]
    items = []
    for e in reversed(entries[-30:]):
        action = t(f"staff.action.{e.action}", lang) if e.action in ("update", "revert", "confirm", "insert",
                                                                      "retire", "import") else e.action
        changes = "; ".join(f"{_label(c.field, lang)}: {_shown(c.before)} → {_shown(c.after)}" for c in e.changes
                            if c.field not in ("confirmed_at", "confirmed_by"))
        button = html.Button(t("staff.revert", lang), id=revert_id(e.seq), n_clicks=0, className="staff-revert") \
            if e.action in ("update", "revert", "insert", "import") else None
        items.append(html.Li([html.Span(f"{as_local(e.at):%Y-%m-%d %H:%M} · {e.user} · {action}", className="when"),
                              html.Span(changes, className="what"), button]))
    return [html.Ol(items, className="staff-history")]


def revert(seq, loaded, state):
    """(message, new loaded store) after going back to history entry ``seq``."""
    lang = lang_of(state)
    account = current_account()
    if account is None or not isinstance(loaded, dict) or isinstance(seq, bool) or not isinstance(seq, int):
        return no_update, no_update
    try:
        result = edits.revert(services().store, account, loaded.get("id"), seq, services().store.read("districts"))
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang), no_update
    except LookupError:
        return no_update, no_update
    if result.conflict is not None:
        return conflict_view(result.conflict, lang), no_update
    row = _station_row(loaded["id"])
    return (html.P(t("staff.reverted", lang, version=int(row["version"])), className="staff-ok"),
            {"id": loaded["id"], "version": int(row["version"]), "values": form_values(row)})


def statuses(lang):
    return [{"label": t(f"staff.status.{s}", lang), "value": s} for s in STATION_STATUSES]



# -- posters -----------------------------------------------------------------------------------------------

POSTER_SIZES = ("A4", "A5")


def poster_links(loaded, lang: str) -> list:
    """The loaded station's poster, A4 and A5 (nothing while no station is loaded)."""
    from layers.rider.links import STATION_ID_PATTERN

    station_id = loaded.get("id") if isinstance(loaded, dict) else None
    if not isinstance(station_id, str) or not re.fullmatch(STATION_ID_PATTERN, station_id):
        return []
    return [html.Span(t("staff.posters.station", lang)),
            *[html.A(f"PDF {size}", href=f"/api/v1/stations/{station_id}/poster.pdf?size={size}", className="btn",
                     target="_blank", rel="noopener") for size in POSTER_SIZES]]


def poster_districts(account) -> list[tuple[int, str]]:
    """The districts whose posters an account may print in one PDF: its own, or every one for the city."""
    if account is None or account.role not in ("district", "city"):
        return []
    districts = services().store.read("districts")
    pairs = sorted(zip(districts["adcode"].astype(int), districts["name"]))
    return [(int(a), str(n)) for a, n in pairs if account.role == "city" or a == account.adcode]


# -- the service ledger ----------------------------------------------------------------------------------

LEDGER_FORMATS = (("xlsx", "Excel"), ("csv", "CSV"), ("geojson", "GeoJSON"), ("gpkg", "GeoPackage"))
MAX_LEDGER_UPLOAD = 16 * 1024 * 1024


def ledger_links(crs) -> list:
    crs = crs if crs in ("wgs84", "gcj02", "bd09") else "wgs84"
    return [html.A(label, href=f"/api/v1/ledger/stations.{fmt}?crs={crs}", className="btn", download="")
            for fmt, label in LEDGER_FORMATS]


def _ledger_plan(contents, filename, crs, lang):
    """(plan, table) of an upload, or (None, message component)."""
    import base64
    import binascii

    from layers.staff import ledger

    account = current_account()
    if account is None:
        return None, html.P(t("staff.need_login", lang), className="staff-error")
    if not isinstance(contents, str) or "," not in contents[:200] or crs not in ("wgs84", "gcj02", "bd09"):
        return None, None
    if len(contents) > MAX_LEDGER_UPLOAD * 4 // 3 + 1000:
        return None, html.P(t("staff.ledger.too_big", lang, mb=MAX_LEDGER_UPLOAD // 2**20), className="staff-error")
    try:
        data = base64.b64decode(contents.split(",", 1)[1], validate=True)
        kind = ledger.kind_of(filename if isinstance(filename, str) else None, contents[5:contents.find(";")])
        table = ledger.read_ledger(data, kind)
    except (binascii.Error, ValueError) as exc:
        message = exc.message if isinstance(exc, ledger.LedgerError) else "not a readable file"
        return None, html.P(message, className="staff-error", role="alert")
    try:
        return ledger.plan_import(services().store, account, table, crs, services().store.read("districts")), None
    except QuestionError as exc:
        return None, _refusal(exc, lang)


def ledger_dry_run(contents, filename, crs, state):
    """(the dry run's report, whether the import button shows)."""
    lang = lang_of(state)
    plan, message = _ledger_plan(contents, filename, crs, lang)
    if plan is None:
        return message, {"display": "none"}
    parts = [html.P(t("staff.ledger.checked", lang, changes=len(plan.changes), unchanged=plan.unchanged,
                      problems=plan.problem_count), className="staff-ok" if plan.ok else "staff-warning")]
    if plan.problems:
        parts.append(html.P(t("staff.ledger.fix_first", lang), className="staff-error", role="alert"))
        parts.append(html.Table(html.Tbody([html.Tr([html.Th(t("staff.ledger.row", lang, row=p["row"])),
                                                     html.Td(_label(p["field"] or "", lang)), html.Td(p["message"])])
                                            for p in plan.problems]), className="ledger-problems"))
    for change in plan.changes[:200]:
        parts.append(html.Details([html.Summary(f"{t('staff.ledger.row', lang, row=change['row'])} · "
                                                f"{change['id']} {change['name']}"),
                                   _diff_table([edits.FieldChange(**c) for c in change["changes"]], lang)], open=True))
    show = {"display": "inline-block"} if plan.ok and plan.changes else {"display": "none"}
    return html.Div(parts), show


def ledger_apply(contents, filename, crs, state):
    from layers.staff import ledger

    lang = lang_of(state)
    plan, message = _ledger_plan(contents, filename, crs, lang)
    if plan is None:
        return message, {"display": "none"}
    try:
        n = ledger.apply_import(services().store, current_account(), plan)
    except QuestionError as exc:
        return _refusal(exc, lang), {"display": "none"}
    return html.P(t("staff.ledger.applied", lang, n=n), className="staff-ok"), {"display": "none"}


# -- the feed of recent changes -----------------------------------------------------------------------

def change_feed(since, user, state, adcode=None):
    """The newest changes to the account's stations, filtered by day, account and district."""
    lang = lang_of(state)
    account = current_account()
    if account is None:
        return html.P(t("staff.need_login", lang))
    since = since if isinstance(since, str) and len(since) <= 10 else None
    user = user.strip() if isinstance(user, str) and 0 < len(user.strip()) <= 64 else None
    try:
        adcode = adcode if isinstance(adcode, int) and not isinstance(adcode, bool) else None
        feed = edits.changes_in_area(services().store, account, since=since, user=user, adcode=adcode, limit=50)
    except QuestionError as exc:
        return _refusal(exc, lang)
    if not feed:
        return html.P(t("staff.feed.empty", lang))
    names = services().store.read("stations").set_index("id")["name"]
    return html.Ol([html.Li([
        html.Span(f"{as_local(c['at']):%Y-%m-%d %H:%M} · {c['user']} · "
                  f"{t('staff.action.' + c['action'], lang) if c['action'] in _ACTIONS else c['action']} · "
                  f"{names.get(c['station'], c['station'])}", className="when"),
        html.Span("; ".join(f"{_label(ch['field'], lang)}: {_shown(ch['before'])} → {_shown(ch['after'])}"
                            for ch in c["changes"] if ch["field"] not in ("confirmed_at", "confirmed_by")),
                  className="what")]) for c in feed], className="staff-history")


_ACTIONS = ("update", "revert", "confirm", "insert", "retire", "import")


# -- compounds: gates and signs ----------------------------------------------------------------------

MAX_COMPOUNDS = 40


def _kept_compounds(account: Account):
    from layers.staff.compounds import compound_streets, may_edit_compound

    store = services().store
    compounds = store.read("compounds")
    streets = compound_streets(store) if account.role == "street" else None
    keep = [may_edit_compound(account, row, streets.get(row["id"]) if streets is not None else None)
            for _, row in compounds.iterrows()]
    return compounds[keep]


def compound_list(query, state):
    from pages.ids import compound_pick_id

    lang = lang_of(state)
    account = current_account()
    if account is None or account.role == "station":
        return []
    compounds = _kept_compounds(account)
    q = _text(query, 100)
    if q and q.strip():
        compounds = compounds[compounds["name"].str.contains(q.strip(), regex=False)]
    if compounds.empty:
        return [html.P(t("staff.compounds.none", lang), className="staff-empty")]
    return [html.Button(name, id=compound_pick_id(cid), n_clicks=0, className="staff-station")
            for cid, name in zip(compounds["id"].head(MAX_COMPOUNDS), compounds["name"].head(MAX_COMPOUNDS))]


def compound_panel(compound_id, state):
    """(panel, loaded versions {id: version}, gate options for a new sign) of a compound the account keeps."""
    from pages.ids import feature_field_id, feature_save_id

    lang = lang_of(state)
    account = current_account()
    if account is None or not isinstance(compound_id, str) or len(compound_id) > 64:
        return no_update, no_update, no_update
    kept = _kept_compounds(account)
    if compound_id not in set(kept["id"]):
        return no_update, no_update, no_update
    store = services().store
    gates = store.read("gates")
    gates = gates[gates["compound_id"] == compound_id]
    signs = store.read("wayfinding_signs")
    signs = signs[signs["compound_id"] == compound_id]
    gate_rows = [html.Tr([
        html.Th(g["name"]),
        html.Td(dcc.Checklist(id=feature_field_id("gate", g["id"], "access"), inline=True,
                              options=[{"label": t("staff.gate.rider_access", lang), "value": "rider_access"},
                                       {"label": t("staff.gate.e_bike", lang), "value": "e_bike"}],
                              value=[k for k in ("rider_access", "e_bike") if bool(g[k])])),
        html.Td(dcc.Input(id=feature_field_id("gate", g["id"], "opening_hours"), value=g["opening_hours"], type="text",
                          maxLength=500, debounce=True, className="hours-text")),
        html.Td(html.Button(t("staff.save", lang), id=feature_save_id("gate", g["id"]), n_clicks=0, className="btn")),
    ]) for _, g in gates.iterrows()]
    sign_rows = [html.Tr([
        html.Th(f"{t('staff.sign.kind.' + s['kind'], lang)} · {s['text']}"),
        html.Td(dcc.RadioItems(id=feature_field_id("sign", s["id"], "condition"), value=s["condition"], inline=True,
                               options=[{"label": t(f"staff.sign.condition.{c}", lang), "value": c}
                                        for c in ("good", "damaged", "missing")])),
        html.Td(html.Button(t("staff.save", lang), id=feature_save_id("sign", s["id"]), n_clicks=0, className="btn")),
    ]) for _, s in signs.iterrows()]
    routes = store.read("entry_routes")
    routes = routes[routes["compound_id"] == compound_id]
    labels = store.read("buildings").set_index("id")["label"]
    gate_names = gates.set_index("id")["name"]
    route_rows = [html.Tr([
        html.Th(f"{gate_names.get(r['gate_id'], r['gate_id'])} → {labels.get(r['building_id'], r['building_id'])}"),
        html.Td(dcc.Checklist(id=feature_field_id("route", r["id"], "blocked"), inline=True,
                              options=[{"label": t("staff.route.blocked", lang), "value": "blocked"}],
                              value=["blocked"] if bool(r["blocked"]) else [])),
        html.Td(html.Button(t("staff.save", lang), id=feature_save_id("route", r["id"]), n_clicks=0, className="btn")),
    ]) for _, r in routes.head(60).iterrows()]
    versions = {**{str(g["id"]): int(g["version"]) for _, g in gates.iterrows()},
                **{str(s["id"]): int(s["version"]) for _, s in signs.iterrows()},
                **{str(r["id"]): int(r["version"]) for _, r in routes.head(60).iterrows()}}
    panel = html.Div([html.H4(t("staff.gates", lang)), html.Table(html.Tbody(gate_rows), className="staff-gates"),
                      html.H4(t("staff.signs", lang)), html.Table(html.Tbody(sign_rows), className="staff-signs"),
                      html.H4(t("staff.routes", lang)), html.Table(html.Tbody(route_rows), className="staff-routes")])
    options = [{"label": g["name"], "value": g["id"]} for _, g in gates.iterrows()]
    return panel, {"compound": compound_id, "versions": versions}, options


def save_gate_or_sign(trigger, gate_access, gate_access_ids, gate_hours, gate_hours_ids, sign_conditions, sign_ids,
                      route_blocked, route_ids, loaded, state):
    """(message, new loaded versions) after saving the gate or sign whose button was pressed."""
    from layers.staff.compounds import save_feature

    lang = lang_of(state)
    account = current_account()
    if account is None or not isinstance(trigger, dict) or not isinstance(loaded, dict):
        return no_update, no_update
    fid, kind = trigger.get("id"), str(trigger.get("type", "")).removeprefix("staff-").removesuffix("-save")
    versions = loaded.get("versions") if isinstance(loaded.get("versions"), dict) else {}
    version = versions.get(fid)
    if not isinstance(fid, str) or not isinstance(version, int) or kind not in ("gate", "sign", "route"):
        return no_update, no_update

    def value_of(values, ids, field):
        if not isinstance(values, list) or not isinstance(ids, list):
            return None
        return next((v for v, i in zip(values, ids) if isinstance(i, dict) and i.get("id") == fid
                     and i.get("field") == field), None)

    if kind == "gate":
        access = value_of(gate_access, gate_access_ids, "access")
        hours = value_of(gate_hours, gate_hours_ids, "opening_hours")
        if not isinstance(access, list) or not isinstance(hours, str):
            return no_update, no_update
        layer, values = "gates", {"rider_access": "rider_access" in access, "e_bike": "e_bike" in access,
                                  "opening_hours": hours}
    elif kind == "route":
        blocked = value_of(route_blocked, route_ids, "blocked")
        if not isinstance(blocked, list):
            return no_update, no_update
        layer, values = "entry_routes", {"blocked": "blocked" in blocked}
    else:
        layer, values = "wayfinding_signs", {"condition": value_of(sign_conditions, sign_ids, "condition")}
    try:
        result = save_feature(services().store, account, layer, fid, values, version)
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang), no_update
    except LookupError:
        return no_update, no_update
    new_versions = {**versions, fid: result.version}
    key = "staff.feature_conflict" if result.conflict is not None else "staff.saved_feature"
    css = "staff-warning" if result.conflict is not None else "staff-ok"
    return html.P(t(key, lang, name=fid, version=result.version), className=css), {**loaded, "versions": new_versions}


def add_sign(kind, text, gate_id, loaded, state):
    from layers.staff.compounds import new_sign

    lang = lang_of(state)
    account = current_account()
    if account is None or not isinstance(loaded, dict) or not isinstance(gate_id, str):
        return no_update
    gates = services().store.read("gates").set_index("id")
    if gate_id not in gates.index or gates.loc[gate_id, "compound_id"] != loaded.get("compound"):
        return no_update
    gate = gates.loc[gate_id]
    try:
        row = new_sign(services().store, account, {"compound_id": loaded.get("compound"), "kind": kind, "text": text,
                                                   "gate_id": gate_id,
                                                   "position": {"lon": gate.geometry.x, "lat": gate.geometry.y}})
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang)
    return html.P(t("staff.saved_feature", lang, name=row["id"], version=1), className="staff-ok")


# -- accounts a district or city admin manages ------------------------------------------------------------

def account_rows(state):
    from layers.staff.accounts import managed_by
    from pages.ids import account_disable_id

    lang = lang_of(state)
    account = current_account()
    if account is None or account.role not in ("district", "city"):
        return []
    records = managed_by(services().store, account)
    if not records:
        return [html.P(t("staff.accounts.none", lang))]
    rows = []
    for r in records:
        area = ",".join(r.stations) if r.role == "station" else (r.street or str(r.adcode or ""))
        rows.append(html.Tr([html.Th(r.name), html.Td(t(f"staff.role_name.{r.role}", lang)), html.Td(area),
                             html.Td(t("staff.accounts.disabled" if r.disabled else "staff.accounts.active", lang)),
                             html.Td(None if r.disabled else html.Button(
                                 t("staff.accounts.disable", lang), id=account_disable_id(r.name), n_clicks=0,
                                 className="btn"))]))
    return [html.Table(html.Tbody(rows), className="staff-accounts")]


def create_account_view(name, role, stations, street, state):
    from layers.staff.accounts import create_account, new_password

    lang = lang_of(state)
    account = current_account()
    if account is None or account.role not in ("district", "city"):
        return no_update
    if role not in ("station", "street", "district") or not isinstance(name, str):
        return no_update
    ids = [s.strip() for s in stations.split(",") if s.strip()][:50] if isinstance(stations, str) else []
    password = new_password()
    try:
        create_account(services().store, name=name.strip(), role=role, password=password, stations=ids,
                       street=_text(street, 100) or None, adcode=account.adcode if role != "station" else None,
                       by=account.name, actor=account)
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang)
    except StoreError as exc:  # a name already taken
        return html.P(str(exc), className="staff-error", role="alert")
    return html.P(t("staff.accounts.created", lang, name=name.strip(), password=password), className="staff-ok")


def disable_account_view(name, state):
    from layers.staff.accounts import disable_by

    lang = lang_of(state)
    account = current_account()
    if account is None or not isinstance(name, str):
        return no_update
    try:
        disable_by(services().store, account, name)
    except AccessDenied as exc:
        return _refusal(exc, lang)
    return html.P(t("staff.accounts.done_disable", lang, name=name), className="staff-ok")


# -- new and retired stations (district and city admins) ---------------------------------------------------

def retire(loaded, state):
    lang = lang_of(state)
    account = current_account()
    if account is None or not isinstance(loaded, dict):
        return no_update
    try:
        edits.retire_station(services().store, account, loaded.get("id"))
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang)
    except LookupError:
        return no_update
    return html.P(t("staff.retired", lang), className="staff-ok")


def create(name, address, operator, hours, position, state):
    lang = lang_of(state)
    account = current_account()
    if account is None:
        return no_update
    if not isinstance(position, dict):
        return html.P(t("staff.create.need_position", lang), className="staff-error")
    values = {"name": _text(name, 100), "address": _text(address, 200), "operator": _text(operator, 100),
              "opening_hours": _text(hours, 500), "position": position}
    try:
        row = edits.create_station(services().store, account, values, services().store.read("districts"))
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang)
    return html.P(t("staff.create.done", lang, id=row["id"], name=row["name"]), className="staff-ok")


def district_options(account: Account) -> list[dict]:
    districts = services().store.read("districts")
    if account.role == "district":
        districts = districts[districts["adcode"].astype(int) == (account.adcode or -1)]
    return [{"label": n, "value": int(a)} for a, n in zip(districts["adcode"], districts["name"])]
