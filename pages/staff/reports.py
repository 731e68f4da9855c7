"""The workspace's riders' reports: the queue of the account's area, one report and its actions (states, 属实,
temporary status in one step, the station editor), the ledger's downloads and monthly summary, points redeemed at
a station and the district's reward catalogue. Layout and view builders: every value from the browser is checked
here, every write is authorised by the domain for the signed-in account (never by what the page shows)."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import re
from typing import Annotated, Literal
from urllib.parse import urlencode

import dash_leaflet as dl
import numpy as np
from dash import dcc, html, no_update
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from layers.common import rider_codes
from layers.common.calendar import as_local
from layers.common.errors import AccessDenied, QuestionError
from layers.common.photos import MAX_BYTES as MAX_PHOTO_BYTES
from layers.common.photos import clean_photo
from layers.staff import points as rider_points
from layers.staff import reports as ledger
from layers.staff.access import editable_mask, may_edit_station
from layers.staff.accounts import Account
from mapdata import clock
from mapdata.store.reports import PointsRefused, ReportConflict
from mapdata.vocabulary import REPORT_KIND_KEYS, REPORT_STATES
from pages.auth import current_account
from pages.base_map import base_layers, map_crs
from pages.context import services
from pages.i18n import language, t
from pages.ids import STAFF
from pages.ids import STAFF_REPORTS as IDS

#: The buttons that act on the loaded report, in the order the panel shows them.
ACTION_KEYS = (*ledger.ACTIONS, "confirm", "status")
QUICK_UNTIL = ("today", "tomorrow", "days3")
LEDGER_XLSX, LEDGER_CSV = "/api/v1/ledger/reports.xlsx", "/api/v1/ledger/reports.csv"
SUMMARY_CSV = "/api/v1/ledger/reports/summary.csv"
#: A photo of a rider's QR code: the data URL is refused above this before anything is decoded.
MAX_SCAN_BYTES = MAX_PHOTO_BYTES
MAX_SCAN_DATA_URL = MAX_SCAN_BYTES * 4 // 3 + 64
_IMAGE_DATA_URL = re.compile(r"^data:image/(png|jpeg|jpg|pjpeg);base64,")
MAX_CODE_TEXT = 300
MAX_NOTE = 200
_DAY = r"^\d{4}-\d{2}-\d{2}$"


# -- ids of the section's repeated components -------------------------------------------------------------

def row_id(report_id) -> dict:
    """One report in the queue (``report_id`` its number, or a wildcard)."""
    return {"type": f"{IDS.prefix}-row", "id": report_id}


def action_id(action: str) -> dict:
    """A button acting on the loaded report (:data:`ACTION_KEYS`)."""
    return {"type": f"{IDS.prefix}-act", "action": action}


def withdraw_id(reward_id, version) -> dict:
    """Withdraw a reward of the catalogue (as loaded: its version); numbers, or wildcards."""
    return {"type": f"{IDS.prefix}-withdraw", "id": reward_id, "version": version}


def lang_of(state) -> str:
    return language(state.get("lang")) if isinstance(state, dict) else "zh"


def _whole(value, low: int = 1, high: int = 10**9) -> int | None:
    """A whole number from the browser (an int, or a float with nothing after the point), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (np.isfinite(value) and value.is_integer()):
        return None
    return int(value) if low <= value <= high else None


def _text(value, limit: int) -> str | None:
    return value.strip() if isinstance(value, str) and len(value) <= limit else None


def _error(text: str) -> html.P:
    return html.P(text, className="staff-error", role="alert")


def _ok(text: str) -> html.P:
    return html.P(text, className="staff-ok", role="status")


def _refusal(exc: Exception, lang: str) -> html.P:
    if isinstance(exc, AccessDenied):
        return _error(t("staff.denied", lang, message=exc.message))
    return _error(t("staff.reports.refused", lang, message=getattr(exc, "message", str(exc))))


# -- words for times ---------------------------------------------------------------------------------------

def when_text(moment, lang: str) -> str:
    """``12月7日（周一）16:41`` / ``Mon 7 Dec 16:41``."""
    at = as_local(moment)
    return t("staff.reports.when", lang, m=at.month, d=at.day, month=at.strftime("%b"),
             weekday=t(f"weekday.{at.weekday()}", lang), time=at.strftime("%H:%M"))


def duration_text(delta: dt.timedelta, lang: str) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    if days:
        return t("staff.reports.duration.days", lang, d=days, h=rest // 60)
    if minutes >= 60:
        return t("staff.reports.duration.hours", lang, h=minutes // 60, m=minutes % 60)
    return t("staff.reports.duration.minutes", lang, m=minutes)


def age_text(hours: float, lang: str) -> str:
    if hours < 1 / 60:
        return t("staff.reports.age.now", lang)
    if hours < 1:
        return t("staff.reports.age.minutes", lang, n=int(hours * 60))
    if hours < 48:
        return t("staff.reports.age.hours", lang, n=int(hours))
    return t("staff.reports.age.days", lang, n=int(hours // 24))


def riders_text(n: int, lang: str, key: str = "staff.reports.riders") -> str:
    return t(f"{key}.one", lang) if n == 1 else t(key, lang, n=n)


def kind_text(view: dict, lang: str) -> str:
    kind = t(f"report.kind.{view['kind']}", lang)
    return f"{kind} · {t('amenity.' + view['amenity'], lang)}" if view.get("amenity") else kind


def _due_line(key: str, due, done_at, running: bool, now: dt.datetime, lang: str) -> html.Li:
    """One due date in words, with how long is left, how late it is, or whether it was met."""
    due = as_local(due)
    if done_at:
        met = as_local(done_at) <= due
        tail, late = t("staff.reports.due.met" if met else "staff.reports.due.missed", lang), not met
    elif running and now > due:
        tail, late = t("staff.reports.due.late", lang, d=duration_text(now - due, lang)), True
    elif running:
        tail, late = t("staff.reports.due.left", lang, d=duration_text(due - now, lang)), False
    else:
        tail, late = "", False
    return html.Li([t(key, lang, when=when_text(due, lang)), html.Span(f" · {tail}" if tail else "",
                                                                       className="due-late" if late else "due-ok")])


# -- the queue ---------------------------------------------------------------------------------------------

class QueueFilter(BaseModel):
    """The queue's filters as the page sends them (anything else is refused before the domain is asked)."""

    model_config = ConfigDict(extra="forbid")
    state: Literal[ledger.STATE_FILTERS] = "open"
    kind: Literal[REPORT_KIND_KEYS] | None = None
    overdue_only: StrictBool = False
    since: dt.date | None = None
    until: dt.date | None = None
    offset: Annotated[int, Field(ge=0, le=10**7, strict=True)] = 0

    @field_validator("since", "until", mode="before")
    @classmethod
    def _day(cls, value):
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not re.match(_DAY, value):
            raise ValueError("expected a day, YYYY-MM-DD")
        return dt.date.fromisoformat(value)

    @field_validator("kind", mode="before")
    @classmethod
    def _any_kind(cls, value):
        return None if value == "" else value

    def query(self) -> dict:
        """The filters as the ledger's download links take them."""
        values = {"state": self.state, "kind": self.kind, "since": self.since, "until": self.until}
        return {k: str(v) for k, v in values.items() if v is not None}


def queue_filter(state, kind, overdue, since, until, offset=0) -> QueueFilter | None:
    """The filters from the page's controls, or None when they are not what the controls can send."""
    if not isinstance(overdue, list) or len(overdue) > 1:
        return None
    try:
        return QueueFilter(state=state if state is not None else "open", kind=kind, overdue_only=overdue == ["overdue"],
                           since=since, until=until, offset=offset)
    except (ValidationError, ValueError, TypeError):
        return None


def queue_row(view: dict, lang: str) -> html.Button:
    late = bool(view["overdue"])
    badge = html.Span(t("staff.reports.overdue", lang), className="sreports-badge overdue",
                      title="、".join(t(f"staff.reports.overdue.{w}", lang) for w in view["overdue"])) if late else None
    return html.Button([
        html.Span([badge, html.Span(kind_text(view, lang), className="sreports-kind"),
                   html.Span(t(f"report.state.{view['state']}", lang), className=f"sreports-state {view['state']}")],
                  className="sreports-row-head"),
        html.Span(view["place"] or "—", className="sreports-place"),
        html.Span(" · ".join([age_text(view["age_hours"], lang), riders_text(view["riders"], lang), view["ref"]]),
                  className="sreports-meta"),
    ], id=row_id(view["id"]), n_clicks=0, className="sreports-row" + (" late" if late else ""))


def _state_counts(page: ledger.QueuePage, lang: str) -> list:
    parts = [html.Span(t("staff.reports.state_count", lang, state=t(f"report.state.{s}", lang), n=page.counts[s]),
                       className=f"sreports-count {s}") for s in REPORT_STATES]
    parts.append(html.Span(t("staff.reports.state_count", lang, state=t("staff.reports.overdue", lang), n=page.overdue),
                           className="sreports-count overdue"))
    return parts


def counts_text(page: ledger.QueuePage, lang: str) -> str:
    open_n = sum(page.counts[s] for s in ledger.OPEN_STATES)
    return t("staff.reports.counts", lang, open=open_n, overdue=page.overdue)


def _links(filters: QueueFilter) -> tuple[str, str]:
    query = urlencode(filters.query())
    return f"{LEDGER_XLSX}?{query}", f"{LEDGER_CSV}?{query}"


def queue_view(filters: QueueFilter | None, state) -> tuple:
    """(rows, the heading's counts, counts per state, page line, previous disabled, next disabled, offset,
    Excel link, CSV link) of one page of the queue: one call of the domain's queue()."""
    lang = lang_of(state)
    account = current_account()
    if account is None:
        return ([html.P(t("staff.need_login", lang))], *[no_update] * 8)
    if filters is None:
        return (_error(t("staff.reports.bad_filter", lang, message=t("staff.reports.filter.state", lang))),
                *[no_update] * 8)
    try:
        page = ledger.queue(services().store, account, state=filters.state, kind=filters.kind,
                            overdue_only=filters.overdue_only, since=filters.since, until=filters.until,
                            offset=filters.offset, limit=ledger.PAGE_SIZE)
    except QuestionError as exc:
        return (_error(t("staff.reports.bad_filter", lang, message=exc.message)), *[no_update] * 8)
    rows = [queue_row(r, lang) for r in page.rows] or [html.P(t("staff.reports.empty", lang), className="staff-empty")]
    last = page.offset + len(page.rows)
    info = t("staff.reports.page", lang, first=page.offset + 1 if page.rows else 0, last=last, total=page.total)
    xlsx, csv = _links(filters)
    return (rows, counts_text(page, lang), _state_counts(page, lang), info, page.offset == 0, last >= page.total,
            page.offset, xlsx, csv)


def paged(filters: QueueFilter | None, trigger, offset) -> QueueFilter | None:
    """The filters with the page the pager asks for; a change of filter starts at the first page."""
    if filters is None:
        return None
    start = _whole(offset, 0, 10**7) or 0
    if trigger == IDS.next:
        start += ledger.PAGE_SIZE
    elif trigger == IDS.prev:
        start = max(0, start - ledger.PAGE_SIZE)
    elif trigger != IDS.changed:
        start = 0
    return filters.model_copy(update={"offset": start})


# -- one report ----------------------------------------------------------------------------------------------

def _map(view: dict) -> html.Div:
    """The report's place on a small map: our own base layers (no tiles unless configured) and a marker."""
    settings = services().settings
    lon, lat = float(view["lon"]), float(view["lat"])
    layers = [*base_layers(settings), dl.Marker(position=[lat, lon], children=dl.Tooltip(view["place"] or view["ref"]))]
    return html.Div(dl.Map(layers, center=[lat, lon], zoom=16, minZoom=8, maxZoom=19, crs=map_crs(settings),
                           style={"height": "100%", "width": "100%"}), className="staff-map sreports-map")


def _status_words(status: dict, lang: str) -> str:
    if status.get("closed"):
        return t("staff.reports.status.closed", lang)
    return t("staff.reports.status.amenity", lang, amenity=t(f"amenity.{status.get('amenity')}", lang))


def _facts(view: dict, lang: str, now: dt.datetime) -> list:
    running = view["state"] in ledger.OPEN_STATES
    facts = [
        html.Li(t("staff.reports.received", lang, when=when_text(view["received_at"], lang),
                  age=age_text(view["age_hours"], lang))),
        _due_line("staff.reports.due.acknowledge", view["acknowledge_by"], view["acknowledged_at"],
                  view["state"] == "new", now, lang),
        _due_line("staff.reports.due.resolve", view["resolve_by"], view["closed_at"], running, now, lang),
        html.Li(riders_text(view["riders"], lang, "staff.reports.reported_by"), className="sreports-riders"),
        html.Li(t("staff.reports.points", lang, n=view["points"])),
    ]
    if view["verified"]:
        facts.append(html.Li(t("staff.reports.verified", lang, who=view["verified_by"] or "",
                               when=when_text(view["verified_at"], lang)), className="staff-ok"))
    if view["answer"]:
        facts.append(html.Li(t("staff.reports.answer_shown", lang, text=view["answer"])))
    if view["duplicate_of"]:
        facts.append(html.Li(t("staff.reports.duplicate_of", lang, ref=view["duplicate_of"])))
    if view.get("duplicates"):
        facts.append(html.Li(t("staff.reports.duplicates", lang, refs="、".join(view["duplicates"]))))
    status = view.get("status_set")
    if isinstance(status, dict):
        facts.append(html.Li(t("staff.reports.status_cleared", lang) if status.get("cleared") else
                             t("staff.reports.status_on", lang, what=_status_words(status, lang),
                               until=when_text(status["until"], lang) if status.get("until") else "—"),
                             className="sreports-status-set"))
    return facts


def photo_url(photo_id) -> str:
    return f"/api/v1/ledger/photos/{int(photo_id)}.jpg"


def _photo(photo_id, lang: str) -> html.A:
    return html.A(html.Img(src=photo_url(photo_id), alt=t("staff.reports.photo", lang), className="sreports-photo"),
                  href=photo_url(photo_id), target="_blank", rel="noopener")


def _sightings(view: dict, lang: str) -> html.Div:
    shown = set()
    items = []
    for s in view["sightings"]:
        if s["photo_id"]:
            shown.add(int(s["photo_id"]))
        items.append(html.Li([html.Span(when_text(s["at"], lang), className="when"),
                              html.Span(s["note"] or t("staff.reports.no_note", lang), className="what"),
                              html.Span(t("staff.reports.with_code", lang), className="staff-note")
                              if s["with_code"] else None,
                              _photo(s["photo_id"], lang) if s["photo_id"] else None]))
    extra = [_photo(p["id"], lang) for p in view["photos"] if int(p["id"]) not in shown]
    return html.Div([html.H4(t("staff.reports.sightings", lang)), html.Ol(items, className="staff-history"), *extra])


def _history_what(e: dict, lang: str) -> str:
    after = e["after"] if isinstance(e["after"], dict) else {}
    parts = []
    if after.get("state") in REPORT_STATES:
        parts.append(t(f"report.state.{after['state']}", lang))
    for key in ("answer", "reason"):
        if after.get(key):
            parts.append(str(after[key]))
    if e["action"] == "report_duplicate_in" and after.get("duplicate"):
        parts.append(f"NX{int(after['duplicate']):06d}")
    if e["action"] == "report_confirm" and after.get("points"):
        parts.append(f"+{sum(int(p.get('points', 0)) for p in after['points'])}")
    return " · ".join(parts)


def _history(view: dict, lang: str) -> html.Div:
    items = []
    for e in reversed(view["history"]):
        action = f"staff.reports.action.{e['action']}"
        who = t("staff.reports.by_rider", lang) if e["by"] in ("rider", "open311") else e["by"]
        items.append(html.Li([
            html.Span(f"{as_local(e['at']):%Y-%m-%d %H:%M} · {who} · "
                      f"{t(action, lang) if action in _HISTORY_ACTIONS else e['action']}", className="when"),
            html.Span(_history_what(e, lang), className="what")]))
    return html.Div([html.H4(t("staff.reports.history", lang)), html.Ol(items, className="staff-history")])


_HISTORY_ACTIONS = {f"staff.reports.action.{a}" for a in ("report_new", "report_merge", "report_state",
                                                           "report_confirm", "report_status", "report_duplicate_in")}


def detail_body(view: dict, lang: str) -> html.Div:
    now = as_local(clock.now())
    late = html.Span(t("staff.reports.overdue", lang), className="sreports-badge overdue") if view["overdue"] else None
    place = [html.H4(t("staff.reports.place", lang)), html.P(view["place"] or "—")]
    if view["lon"] is not None and view["lat"] is not None:
        place += [html.P(t("staff.reports.coordinates", lang, lat=f"{view['lat']:.6f}", lon=f"{view['lon']:.6f}"),
                         className="staff-note"), _map(view)]
    return html.Div([
        html.H3([html.Span(view["ref"], className="sreports-ref"), " ", kind_text(view, lang), " ",
                 html.Span(t(f"report.state.{view['state']}", lang), className=f"sreports-state {view['state']}"),
                 " ", late]),
        html.Div(place),
        html.Ul(_facts(view, lang, now), className="sreports-facts"),
        _sightings(view, lang),
        _history(view, lang),
    ], className="sreports-detail-body")


def loaded_of(view: dict) -> dict:
    """What the page keeps of the loaded report (each action re-checks it: the version it passes, the id)."""
    return {"id": int(view["id"]), "ref": view["ref"], "version": int(view["version"]), "state": view["state"],
            "station_id": view["station_id"], "verified": bool(view["verified"])}


def _disabled(view: dict) -> dict[str, bool]:
    out = {a: view["state"] not in sources for a, (_, sources) in ledger.ACTIONS.items()}
    out["confirm"] = view["state"] in ("rejected", "duplicate")
    out["status"] = not view["station_id"] or view["state"] not in ledger.OPEN_STATES
    return out


def _status_kinds(view: dict, lang: str) -> tuple[list, str | None]:
    if not view["station_id"]:
        return [], None
    options = [{"label": t("staff.reports.status.closed", lang), "value": "closed"}]
    if view["amenity"]:
        options.insert(0, {"label": t("staff.reports.status.amenity", lang,
                                      amenity=t(f"amenity.{view['amenity']}", lang)), "value": "amenity"})
    return options, options[0]["value"]


def panel(view: dict | None, lang: str) -> dict:
    """What loading a report sets: its body, the kept version, which actions apply, the status choices."""
    if view is None:
        return {"detail": html.P(t("staff.reports.detail.none", lang), className="staff-note"), "loaded": None,
                "disabled": dict.fromkeys(ACTION_KEYS, True), "panel_style": {"display": "none"},
                "kinds": [], "kind": None, "clear_options": [], "clear": []}
    status = view.get("status_set")
    on = isinstance(status, dict) and not status.get("cleared")
    kinds, kind = _status_kinds(view, lang)
    return {"detail": detail_body(view, lang), "loaded": loaded_of(view), "disabled": _disabled(view),
            "panel_style": {"display": "block"}, "kinds": kinds, "kind": kind,
            "clear_options": [{"label": t("staff.reports.clear_status", lang), "value": "clear"}] if on else [],
            "clear": ["clear"] if on else []}


def _report_id(value) -> int | None:
    return _whole(value, 1, 10**9 - 1)


def open_report(report_id, state) -> dict | None:
    """The panel of a report in the account's area (None for anything else: nothing leaks about other areas)."""
    account = current_account()
    rid = _report_id(report_id)
    if account is None or rid is None:
        return None
    try:
        return panel(ledger.detail(services().store, account, rid), lang_of(state))
    except (QuestionError, AccessDenied):
        return None


# -- acting on the loaded report --------------------------------------------------------------------------------

def _loaded_id_version(loaded) -> tuple[int | None, int | None]:
    if not isinstance(loaded, dict):
        return None, None
    return _report_id(loaded.get("id")), _whole(loaded.get("version"))


def _do(action: str, store, account: Account, rid: int, version: int, form: dict, lang: str) -> html.P:
    """Run one action; its message (domain errors propagate)."""
    if action == "confirm":
        verified = ledger.detail(store, account, rid)["verified"]
        result = ledger.confirm(store, account, rid, version=version)
        if verified:
            return _ok(t("staff.reports.awarded.again", lang))
        if not result["awarded"]:
            return _ok(t("staff.reports.awarded.none", lang))
        return _ok(t("staff.reports.awarded", lang, n=len(result["awarded"]), points=result["awarded"][0]["points"]))
    if action == "status":
        result = ledger.set_temporary_status(store, account, rid, until=form["until"], note=form["note"] or None,
                                             closed=form["kind"] == "closed", version=version)
        status = result["status_set"] or {}
        return _ok(t("staff.reports.status.done", lang, what=_status_words(status, lang),
                     until=when_text(status["until"], lang) if status.get("until") else "—"))
    result = ledger.act(store, account, rid, action, version=version, answer=form["answer"] or None,
                        reason=form["reason"] if action == "reject" else None,
                        duplicate_of=form["duplicate_of"] if action == "duplicate" else None,
                        clear_status=action == "resolve" and form["clear"])
    return _ok(t("staff.reports.done", lang, ref=result["ref"], state=t(f"report.state.{result['state']}", lang)))


def action_form(answer, reason, duplicate_of, clear, kind, until, note) -> dict | None:
    """The panel's fields, checked for type and length (the domain checks what they mean)."""
    values = {"answer": _text(answer or "", ledger.MAX_ANSWER), "reason": _text(reason or "", ledger.MAX_ANSWER),
              "duplicate_of": _text(duplicate_of or "", 20), "until": _text(until or "", 40),
              "note": _text(note or "", MAX_NOTE)}
    if any(v is None for v in values.values()) or not isinstance(clear, (list, type(None))) or \
            kind not in ("amenity", "closed", None):
        return None
    return {**values, "clear": clear == ["clear"], "kind": kind}


def _precheck(action: str, form: dict, lang: str) -> html.P | None:
    """What the page can say before asking the domain (which checks the same again)."""
    if action == "reject" and len(form["reason"]) < 2:
        return _error(t("staff.reports.need_reason", lang))
    if action == "duplicate" and not form["duplicate_of"]:
        return _error(t("staff.reports.need_duplicate", lang))
    if action == "status" and not form["until"]:
        return _error(t("staff.reports.status.need_until", lang))
    return None


def act(action, loaded, form: dict | None, state) -> tuple[html.P | None, dict | None]:
    """(message, the reloaded panel or None when nothing changed) after the button ``action`` on the loaded report.

    A report changed by someone else meanwhile is reloaded with a message, nothing written."""
    lang = lang_of(state)
    account = current_account()
    rid, version = _loaded_id_version(loaded)
    if account is None:
        return _error(t("staff.need_login", lang)), None
    if action not in ACTION_KEYS or rid is None or version is None or form is None:
        return None, None
    early = _precheck(action, form, lang)
    if early is not None:
        return early, None
    store = services().store
    try:
        message = _do(action, store, account, rid, version, form, lang)
    except ReportConflict:
        message = html.P(t("staff.reports.conflict", lang), className="staff-warning", role="alert")
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang), None
    return message, open_report(rid, state)


def quick_until(choice) -> str | None:
    """The until time of a quick choice (``datetime-local`` text): today 18:00 (or 23:59 once 18:00 has passed),
    tomorrow 18:00, in three days 18:00."""
    if choice not in QUICK_UNTIL:
        return None
    now = as_local(clock.now()).replace(second=0, microsecond=0)
    at = now.replace(hour=18, minute=0) + dt.timedelta(days={"today": 0, "tomorrow": 1, "days3": 3}[choice])
    if at <= now:
        at = now.replace(hour=23, minute=59)
    return at.strftime("%Y-%m-%dT%H:%M")


def editor_station(loaded) -> str | None:
    """The loaded report's station, when it is one the signed-in account may edit (re-read, never from the page)."""
    account = current_account()
    rid, _ = _loaded_id_version(loaded)
    if account is None or rid is None:
        return None
    try:
        view = ledger.detail(services().store, account, rid)
    except (QuestionError, AccessDenied):
        return None
    return view["station_id"] or None


def editor_opened(name, state) -> html.P:
    lang = lang_of(state)
    return html.P([t("staff.reports.editor.opened", lang, name=name), " ",
                   html.A(t("staff.reports.editor.go", lang), href=f"#{STAFF.editor}")], className="staff-ok")


def editor_none(state) -> html.P:
    return _error(t("staff.reports.editor.none", lang_of(state)))


# -- downloads and the monthly summary ---------------------------------------------------------------------------

SUMMARY_SHOWN = ("month", "district", "received", "resolved", "resolved_on_time", "open", "overdue", "median_days")


def summary_view(state):
    """The monthly summary per district of the account's area, as a table."""
    lang = lang_of(state)
    account = current_account()
    if account is None:
        return html.P(t("staff.need_login", lang))
    table = ledger.monthly_summary(services().store, account)
    if table.empty:
        return html.P(t("staff.reports.summary.empty", lang), className="staff-note")
    head = html.Thead(html.Tr([html.Th(t(f"staff.reports.summary.{c}", lang)) for c in SUMMARY_SHOWN]))
    body = []
    for row in table.sort_values(["month", "adcode"], ascending=[False, True]).head(120).itertuples(index=False):
        cells = [getattr(row, c) for c in SUMMARY_SHOWN]
        body.append(html.Tr([html.Td("—" if isinstance(v, float) and not np.isfinite(v) else str(v)) for v in cells]))
    return html.Div(html.Table([head, html.Tbody(body)], className="sreports-summary"), className="sreports-scroll")


# -- points at a station -----------------------------------------------------------------------------------------

def station_options(account: Account) -> list[dict]:
    stations = services().store.read("stations")
    mine = stations[editable_mask(account, stations)]
    if "retired_at" in mine:
        mine = mine[mine["retired_at"].isna()]
    return [{"label": f"{name}（{sid}）", "value": sid} for sid, name in zip(mine["id"], mine["name"])]


def _station(account: Account, station_id):
    if not isinstance(station_id, str) or len(station_id) > 64:
        return None
    stations = services().store.read("stations")
    hit = stations[stations["id"] == station_id]
    return hit.iloc[0] if len(hit) and may_edit_station(account, hit.iloc[0]) else None


def reward_options(station_id, state) -> tuple[list, int | None]:
    """The station's district catalogue as choices, and the first one."""
    lang = lang_of(state)
    account = current_account()
    row = _station(account, station_id) if account is not None else None
    if row is None:
        return [], None
    options = [{"label": t("staff.points.reward_item", lang, name=r["name"], points=r["points"]), "value": r["id"]}
               for r in rider_points.catalogue(services().store, int(row["adcode"]))]
    return options, (options[0]["value"] if options else None)


def _read_qr(image: bytes) -> list[str]:
    """The texts of the QR codes in a (cleaned) picture."""
    import zxingcpp
    from PIL import Image

    with Image.open(io.BytesIO(image)) as picture:
        return [r.text for r in zxingcpp.read_barcodes(picture.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)]


def scan(contents, state) -> tuple:
    """(the code field's value, message) from a photo of the rider's QR: the data URL's kind and size are checked
    before anything is decoded; the picture goes through the same safe decoder as riders' photos."""
    lang = lang_of(state)
    if current_account() is None:
        return no_update, _error(t("staff.need_login", lang))
    if not isinstance(contents, str) or not _IMAGE_DATA_URL.match(contents[:40]):
        return no_update, _error(t("staff.points.scan.bad", lang))
    if len(contents) > MAX_SCAN_DATA_URL:
        return no_update, _error(t("staff.points.scan.too_big", lang, mb=MAX_SCAN_BYTES // 2**20))
    try:
        data = base64.b64decode(contents.split(",", 1)[1], validate=True)
        texts = _read_qr(clean_photo(data, "photo").image)
    except (binascii.Error, ValueError, QuestionError):
        return no_update, _error(t("staff.points.scan.bad", lang))
    for text in texts:
        try:
            code = rider_codes.from_scan(text[:MAX_CODE_TEXT])
        except QuestionError:
            continue
        return rider_codes.shown(code), _ok(t("staff.points.scan.found", lang, code=rider_codes.shown(code)))
    return no_update, _error(t("staff.points.scan.none", lang))


def _code(text) -> str | None:
    if not isinstance(text, str) or len(text) > MAX_CODE_TEXT:
        return None
    try:
        return rider_codes.from_scan(text.strip())
    except QuestionError:
        return None


def balance_view(text, state):
    """The rider's balance and latest entries for the code typed or scanned."""
    lang = lang_of(state)
    if current_account() is None:
        return _error(t("staff.need_login", lang))
    if not isinstance(text, str) or not text.strip():
        return None
    code = _code(text)
    if code is None:
        return _error(t("staff.points.bad_code", lang))
    found = rider_points.rider_points(services().store, code, limit=5)
    return html.Div([html.P(t("staff.points.balance", lang, code=found["code"], n=found["balance"]),
                            className="sreports-balance"),
                     html.Ul([html.Li(f"{as_local(e['at']):%Y-%m-%d %H:%M} · {e['points']:+d} · {e['note'] or e['report'] or ''}")
                              for e in found["entries"]], className="staff-note")])


def redeem(code_text, reward_id, station_id, state):
    """(message, new balance view) after redeeming a reward for the rider at the station."""
    lang = lang_of(state)
    account = current_account()
    if account is None:
        return _error(t("staff.need_login", lang)), no_update
    code, reward = _code(code_text), _whole(reward_id)
    if code is None or reward is None or not isinstance(station_id, str) or len(station_id) > 64:
        return _error(t("staff.points.need", lang) if code is not None or not code_text
                      else t("staff.points.bad_code", lang)), no_update
    try:
        done = rider_points.redeem(services().store, account, code, reward, station_id)
    except PointsRefused as exc:
        return _error(t("staff.points.refused", lang, balance=exc.balance)), balance_view(code_text, state)
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang), no_update
    r = done["reward"]
    return (_ok(t("staff.points.redeemed", lang, name=r["name"], points=r["points"], balance=done["balance"])),
            balance_view(code_text, state))


# -- the district's reward catalogue (district and city admins) ------------------------------------------------

def keeps_catalogue(account: Account | None) -> bool:
    return account is not None and account.role in ("district", "city")


def _adcode(account: Account, adcode) -> int | None:
    if account.role == "district":
        return account.adcode
    value = _whole(adcode, 100_000, 999_999)
    districts = set(services().store.read("districts")["adcode"].astype(int))
    return value if value in districts else None


def catalogue_view(adcode, state):
    lang = lang_of(state)
    account = current_account()
    if not keeps_catalogue(account):
        return []
    district = _adcode(account, adcode)
    if district is None:
        return []
    rewards = rider_points.catalogue(services().store, district)
    if not rewards:
        return [html.P(t("staff.points.catalogue.empty", lang), className="staff-note")]
    return [html.Table(html.Tbody([html.Tr([
        html.Th(r["name"]), html.Td(t("staff.points.reward_item", lang, name="", points=r["points"]).strip()),
        html.Td(html.Button(t("staff.points.catalogue.withdraw", lang), id=withdraw_id(r["id"], r["version"]),
                            n_clicks=0, className="btn"))]) for r in rewards]), className="sreports-catalogue")]


def add_reward(name, points, adcode, state):
    lang = lang_of(state)
    account = current_account()
    if not keeps_catalogue(account):
        return no_update
    district = _adcode(account, adcode)
    name, amount = _text(name, rider_points.MAX_REWARD_NAME), _whole(points, 1, rider_points.MAX_REWARD_POINTS)
    if district is None or not name or amount is None:
        return _error(t("staff.points.catalogue.bad", lang))
    try:
        r = rider_points.save_reward(services().store, account, {"adcode": district, "name": name, "points": amount})
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang)
    return _ok(t("staff.points.catalogue.added", lang, name=r["name"], points=r["points"]))


def withdraw_reward(trigger, state):
    lang = lang_of(state)
    account = current_account()
    if not keeps_catalogue(account) or not isinstance(trigger, dict):
        return no_update
    reward, version = _whole(trigger.get("id")), _whole(trigger.get("version"))
    if reward is None or version is None:
        return no_update
    try:
        r = rider_points.save_reward(services().store, account, {"active": False}, reward_id=reward, version=version)
    except ReportConflict:
        return html.P(t("staff.reports.conflict", lang), className="staff-warning", role="alert")
    except (QuestionError, AccessDenied) as exc:
        return _refusal(exc, lang)
    return _ok(t("staff.points.catalogue.withdrawn", lang, name=r["name"]))


# -- the layout ------------------------------------------------------------------------------------------------------

def _field(label: str, control, cls: str = "staff-field") -> html.Label:
    return html.Label([html.Span(label, className="field-label"), control], className=cls)


def _filters(lang: str) -> html.Div:
    states = [{"label": t(f"staff.reports.filter.{s}", lang), "value": s} for s in ("open", "closed", "all")]
    states += [{"label": t(f"report.state.{s}", lang), "value": s} for s in REPORT_STATES]
    kinds = [{"label": t("staff.reports.filter.any_kind", lang), "value": ""}]
    kinds += [{"label": t(f"report.kind.{k}", lang), "value": k} for k in REPORT_KIND_KEYS]
    return html.Div([
        _field(t("staff.reports.filter.state", lang), dcc.Dropdown(id=IDS.f_state, options=states, value="open",
                                                                   clearable=False, searchable=False)),
        _field(t("staff.reports.filter.kind", lang), dcc.Dropdown(id=IDS.f_kind, options=kinds, value="",
                                                                  clearable=False, searchable=False)),
        dcc.Checklist(id=IDS.f_overdue, options=[{"label": t("staff.reports.filter.overdue", lang),
                                                  "value": "overdue"}], value=[], className="sreports-check"),
        _field(t("staff.reports.filter.since", lang), dcc.Input(id=IDS.f_since, type="date", debounce=True)),
        _field(t("staff.reports.filter.until", lang), dcc.Input(id=IDS.f_until, type="date", debounce=True)),
    ], className="sreports-filters")


def _actions(lang: str) -> html.Div:
    buttons = [html.Button(t(f"staff.reports.act.{a}", lang), id=action_id(a), n_clicks=0, disabled=True,
                           className="btn" + (" btn-primary" if a == "resolve" else ""))
               for a in ACTION_KEYS if a != "status"]
    status = html.Fieldset([
        html.Legend(t("staff.reports.status.title", lang)),
        dcc.RadioItems(id=IDS.status_kind, options=[], value=None, className="sreports-radio"),
        dcc.RadioItems(id=IDS.status_quick, value=None, inline=True, className="quick-choices sreports-radio",
                       options=[{"label": t(f"staff.reports.status.{q}", lang), "value": q} for q in QUICK_UNTIL]),
        _field(t("staff.reports.status.until", lang), dcc.Input(id=IDS.status_until, type="datetime-local")),
        _field(t("staff.reports.status.note", lang), dcc.Input(id=IDS.status_note, type="text", maxLength=MAX_NOTE)),
        html.Button(t("staff.reports.act.status", lang), id=action_id("status"), n_clicks=0, disabled=True,
                    className="btn"),
    ], className="sreports-status")
    return html.Div([
        _field(t("staff.reports.answer", lang), dcc.Textarea(id=IDS.answer, maxLength=ledger.MAX_ANSWER, rows=2,
                                                             className="sreports-textarea")),
        dcc.Checklist(id=IDS.clear_status, options=[], value=[], className="sreports-check"),
        _field(t("staff.reports.reason", lang), dcc.Input(id=IDS.reason, type="text", maxLength=ledger.MAX_ANSWER)),
        _field(t("staff.reports.duplicate_ref", lang), dcc.Input(id=IDS.duplicate_of, type="text", maxLength=20)),
        html.Div(buttons, className="staff-actions sreports-actions"),
        html.Div(id=IDS.message, className="staff-message", **{"aria-live": "polite"}),
        status,
        html.Div([html.Button(t("staff.reports.editor", lang), id=IDS.open_editor, n_clicks=0, className="btn"),
                  html.Div(id=IDS.editor_message, **{"aria-live": "polite"})], className="sreports-editor"),
    ], id=IDS.panel, style={"display": "none"})


def _downloads(lang: str, filters: QueueFilter, state) -> html.Div:
    xlsx, csv = _links(filters)
    return html.Div([
        html.H3(t("staff.reports.downloads", lang)),
        html.Div([html.A("Excel", id=IDS.dl_xlsx, href=xlsx, download="", className="btn"),
                  html.A("CSV", id=IDS.dl_csv, href=csv, download="", className="btn")], className="row"),
        html.H3(t("staff.reports.summary", lang)),
        html.Div(summary_view(state), id=IDS.summary),
        html.A(t("staff.reports.summary.csv", lang), id=IDS.dl_summary, href=SUMMARY_CSV, download="", className="btn"),
    ], className="sreports-downloads")


def reports_section(lang: str) -> html.Section:
    """The section "骑手报告" with its counts, filled for the signed-in account (one queue() call)."""
    state = {"lang": lang}
    filters = QueueFilter()
    rows, counts, by_state, info, no_prev, no_next, offset, _, _ = queue_view(filters, state)
    return html.Section([
        dcc.Store(id=IDS.offset, data=offset if isinstance(offset, int) else 0),
        dcc.Store(id=IDS.changed, data=0),
        dcc.Store(id=IDS.loaded, data=None),
        html.H2([t("staff.reports", lang), " ", html.Span(counts if isinstance(counts, str) else "", id=IDS.counts,
                                                         className="sreports-counts")]),
        html.P(t("staff.reports.intro", lang), className="staff-note"),
        _filters(lang),
        html.Div(by_state if isinstance(by_state, list) else [], id=IDS.state_counts, className="sreports-by-state"),
        html.Div([
            html.Div([html.Div(rows, id=IDS.queue, className="sreports-queue"),
                      html.Div([html.Button(t("staff.reports.prev", lang), id=IDS.prev, n_clicks=0, className="btn",
                                            disabled=no_prev is not False),
                                html.Span(info if isinstance(info, str) else "", id=IDS.page_info),
                                html.Button(t("staff.reports.next", lang), id=IDS.next, n_clicks=0, className="btn",
                                            disabled=no_next is not False)], className="sreports-pager")],
                     className="sreports-list"),
            html.Div([html.Div(html.P(t("staff.reports.detail.none", lang), className="staff-note"), id=IDS.detail),
                      _actions(lang)], className="sreports-detail"),
        ], className="sreports-body"),
        _downloads(lang, filters, state),
    ], id=IDS.section, className="staff-reports")


def points_section(lang: str, account: Account) -> html.Section:
    """积分兑换 at a station of the account's, and the district's catalogue for district and city admins."""
    stations = station_options(account)
    first = stations[0]["value"] if stations else None
    options, reward = reward_options(first, {"lang": lang})
    parts = [
        html.H2(t("staff.points", lang)),
        html.P(t("staff.points.intro", lang), className="staff-note"),
        _field(t("staff.points.station", lang), dcc.Dropdown(id=IDS.station, options=stations, value=first,
                                                             clearable=False)),
        _field(t("staff.points.code", lang), dcc.Input(id=IDS.code, type="text", maxLength=MAX_CODE_TEXT,
                                                       debounce=True, autoComplete="off",
                                                       placeholder="7K3M-Q9XA-2HFD-T8WB")),
        dcc.Upload(html.Div(t("staff.points.scan", lang)), id=IDS.scan, accept="image/*", multiple=False,
                   max_size=MAX_SCAN_BYTES, className="ledger-upload sreports-scan"),
        html.Div(id=IDS.scan_message, **{"aria-live": "polite"}),
        html.Div(id=IDS.balance, **{"aria-live": "polite"}),
        _field(t("staff.points.reward", lang), dcc.Dropdown(id=IDS.reward, options=options, value=reward,
                                                            clearable=False,
                                                            placeholder=t("staff.points.no_rewards", lang))),
        html.Button(t("staff.points.redeem", lang), id=IDS.redeem, n_clicks=0, className="btn btn-primary"),
        html.Div(id=IDS.redeem_message, **{"aria-live": "polite"}),
    ]
    if keeps_catalogue(account):
        parts.append(_catalogue(lang, account))
    else:
        parts.append(html.Div(id=IDS.catalogue_message))  # the reward choices listen to it
    return html.Section(parts, className="staff-points")


def _catalogue(lang: str, account: Account) -> html.Fieldset:
    districts = services().store.read("districts")
    if account.role == "district":
        districts = districts[districts["adcode"].astype(int) == (account.adcode or -1)]
    options = [{"label": n, "value": int(a)} for a, n in zip(districts["adcode"], districts["name"])]
    adcode = options[0]["value"] if options else None
    chooser = _field(t("staff.points.catalogue.district", lang),
                     dcc.Dropdown(id=IDS.catalogue_district, options=options, value=adcode, clearable=False,
                                  disabled=account.role != "city"))
    return html.Fieldset([
        html.Legend(t("staff.points.catalogue", lang)),
        chooser,
        html.Div(catalogue_view(adcode, {"lang": lang}), id=IDS.catalogue),
        html.Div([_field(t("staff.points.catalogue.name", lang),
                         dcc.Input(id=IDS.reward_name, type="text", maxLength=rider_points.MAX_REWARD_NAME)),
                  _field(t("staff.points.catalogue.points", lang),
                         dcc.Input(id=IDS.reward_points, type="number", min=1, max=rider_points.MAX_REWARD_POINTS,
                                   step=1))], className="row"),
        html.Button(t("staff.points.catalogue.add", lang), id=IDS.reward_add, n_clicks=0, className="btn"),
        html.Div(id=IDS.catalogue_message, **{"aria-live": "polite"}),
    ], className="sreports-catalogue-keep")
