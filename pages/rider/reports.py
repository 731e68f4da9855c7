"""The rider page's reports: the report form, the rider code (暖新码) panel with points and my reports, and their views.

Layout pieces (:func:`report_panel`, :func:`code_panel`, :func:`report_button`) and the view builders the
callbacks call. Every value a callback receives is the client's word: it is checked here (types, lengths,
a photo's data URL and its size before decoding) and again by ``layers.rider.reports``, and a refusal is
said in words naming what to fix, never an error.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import math

import segno
from dash import dcc, html, no_update
from flask import request

from layers.common import rider_codes
from layers.common.calendar import as_local
from layers.common.errors import QuestionError
from layers.common.geojson import amenity_list
from layers.common.photos import MAX_BYTES, MAX_PIXELS, clean_photo
from layers.rider.reports import MAX_NOTE, address_hash, my_reports, submit_report
from layers.staff.points import rider_points
from mapdata import clock
from mapdata.store.reports import RateLimited
from mapdata.vocabulary import REPORT_KINDS, REPORT_POINTS, REPORT_STATE_NAMES
from pages.components import amenity_chip
from pages.context import services
from pages.i18n import language, t
from pages.ids import RIDER_REPORT
from pages.phrasing import when

#: The kinds a rider may choose at each kind of place (the domain checks the pair again).
KINDS_AT = {"station": ("station", "any"), "compound": ("compound", "any"), "point": ("compound", "any")}
KIND_ABOUT = {k.key: k.about for k in REPORT_KINDS}
PHOTO_TYPES = ("image/jpeg", "image/jpg", "image/pjpeg", "image/png")
#: The longest base64 text of a photo within MAX_BYTES: refused before decoding when longer.
MAX_PHOTO_BASE64 = 4 * math.ceil(MAX_BYTES / 3)
MAX_HEADER = 100
MAX_FILENAME = 120
#: The reference numbers a phone remembers.
MAX_REFS = 30
MAX_NOTE_SENT = 10 * MAX_NOTE   # longer than this is not even looked at
MB = 1024 * 1024


def lang_of(state) -> str:
    return language(state.get("lang") if isinstance(state, dict) else None)


def open_id(place: str, ident: str) -> dict:
    """The pattern-matching id of a "报告问题" button: ``place`` station, compound or point."""
    return {"type": RIDER_REPORT.open, "place": place, "id": ident}


def report_button(place: str, ident: str, lang: str, label: str = "rider.report.button") -> html.Button:
    return html.Button(t(label, lang), id=open_id(place, ident), n_clicks=0, className="btn report-open")


# ---------------------------------------------------------------------------------------------
# layout pieces

def client_texts(lang: str) -> dict:
    """What the page's scripts say and need to know (the rider code and photo checks run on the phone)."""
    keys = ("rider.code.moved", "rider.code.replaced", "rider.report.with_code", "rider.report.without_code",
            "rider.report.photo_error")
    return {"texts": {k: t(k, lang) for k in keys},
            "photo_big": t("rider.report.err.photo_big", lang), "max_base64": MAX_PHOTO_BASE64 + MAX_HEADER,
            "mb": MAX_BYTES // MB, "alphabet": rider_codes.ALPHABET, "length": rider_codes.LENGTH}


def stores(lang: str) -> list:
    return [
        dcc.Store(id=RIDER_REPORT.code, storage_type="local"),   # the rider code: made on this phone, kept here
        dcc.Store(id=RIDER_REPORT.refs, storage_type="local"),   # reference numbers this phone sent
        dcc.Store(id=RIDER_REPORT.place),                        # what the open form is about
        dcc.Store(id=RIDER_REPORT.photo_in),                     # the photo as chosen, on its way to be checked
        dcc.Store(id=RIDER_REPORT.photo),                        # the photo as it will be sent (metadata gone)
        dcc.Store(id=RIDER_REPORT.texts, data=client_texts(lang)),
    ]


def report_panel(lang: str) -> html.Aside:
    """The report form: over the map, one tap from a station's card, a compound's entry or the rider's point."""
    return html.Aside([
        html.Button("×", id=RIDER_REPORT.close, className="card-close", title=t("rider.report.close", lang),
                    n_clicks=0, **{"aria-label": t("rider.report.close", lang)}),
        html.H2(t("rider.report.title", lang), className="card-title"),
        html.P(id=RIDER_REPORT.about, className="report-about"),
        html.Fieldset([
            html.Legend(t("rider.report.kind", lang)),
            dcc.RadioItems(id=RIDER_REPORT.kinds, options=[], value=None, className="chips report-kinds",
                           labelClassName="chip"),
        ], className="report-field"),
        html.Fieldset([
            html.Legend(t("rider.report.amenity", lang)),
            dcc.RadioItems(id=RIDER_REPORT.amenities, options=[], value=None, className="chips report-amenities",
                           labelClassName="chip"),
        ], id=RIDER_REPORT.amenity_wrap, className="report-field", hidden=True),
        html.Label([
            html.Span(t("rider.report.note", lang, n=MAX_NOTE)),
            dcc.Textarea(id=RIDER_REPORT.note, value="", maxLength=MAX_NOTE, rows=2, className="report-note",
                         placeholder=t("rider.report.note_placeholder", lang)),
        ], className="report-field"),
        html.Div([
            dcc.Upload(html.Span(t("rider.report.photo", lang), className="btn report-photo-btn"),
                       id=RIDER_REPORT.upload, accept="image/jpeg,image/png", multiple=False,
                       className="report-upload"),
            html.P(t("rider.report.photo_hint", lang, mb=MAX_BYTES // MB), className="report-hint"),
            html.Div(id=RIDER_REPORT.photo_msg, className="message", role="status"),
            html.Div([
                html.Div(id=RIDER_REPORT.photo_preview, className="report-preview"),
                html.Button(t("rider.report.photo_clear", lang), id=RIDER_REPORT.photo_clear, className="btn",
                            n_clicks=0),
            ], className="row report-photo", hidden=True, id=RIDER_REPORT.photo_row),
        ], className="report-field"),
        html.Div([
            html.Span(id=RIDER_REPORT.code_line, className="report-code-line"),
            html.Button(t("rider.report.make_code", lang), id=RIDER_REPORT.code_make, className="btn", n_clicks=0,
                        hidden=True),
        ], className="row report-code"),
        html.Button(t("rider.report.send", lang), id=RIDER_REPORT.send, className="btn btn-primary report-send",
                    n_clicks=0),
        html.Div(id=RIDER_REPORT.receipt, className="report-receipt", role="status", **{"aria-live": "polite"}),
        html.Button(t("rider.report.follow", lang), id=RIDER_REPORT.follow, className="btn", n_clicks=0, hidden=True),
    ], id=RIDER_REPORT.panel, className="card report-panel", hidden=True, role="dialog",
        **{"aria-label": t("rider.report.title", lang)})


def code_panel(lang: str) -> html.Aside:
    """我的暖新码: the code and its QR code, points, my reports, and moving a code from another phone."""
    return html.Aside([
        html.Button("×", id=RIDER_REPORT.code_close, className="card-close", title=t("rider.code.close", lang),
                    n_clicks=0, **{"aria-label": t("rider.code.close", lang)}),
        html.H2(t("rider.code.title", lang), className="card-title"),
        html.Div(id=RIDER_REPORT.code_msg, className="message code-msg", role="status"),
        html.Div(id=RIDER_REPORT.code_body),
        html.Div([
            html.Label(t("rider.code.type", lang), htmlFor=RIDER_REPORT.code_input),
            html.Div([
                dcc.Input(id=RIDER_REPORT.code_input, type="text", maxLength=40, autoComplete="off",
                          placeholder=t("rider.code.type_placeholder", lang), className="search-input code-input"),
                html.Button(t("rider.code.use", lang), id=RIDER_REPORT.code_use, className="btn", n_clicks=0),
            ], className="row"),
        ], className="report-field code-move"),
    ], id=RIDER_REPORT.code_panel, className="card code-panel", hidden=True, role="dialog",
        **{"aria-label": t("rider.code.title", lang)})


# ---------------------------------------------------------------------------------------------
# opening the form

def _finite(value, lo, hi) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    v = float(value)
    return v if math.isfinite(v) and lo <= v <= hi else None


def _place_of(trigger, where, lang: str):
    """(what the form is about in words, the place sent with the report, the amenities to choose from) for the
    button pressed, or None for a forged or vanished one."""
    if not isinstance(trigger, dict) or not isinstance(trigger.get("id"), str) or len(trigger["id"]) > 64:
        return None
    kind, ident = trigger.get("place"), trigger["id"]
    catalogue = services().stations
    if kind == "station":
        i = catalogue.position(ident)
        if i is None:
            return None
        row = catalogue.stations.iloc[i]
        return "station", str(row["name"]), {"station_id": ident}, amenity_list(row["amenities"])
    if kind == "compound":
        compounds = catalogue.entry_layers()["compounds"]
        hit = compounds[compounds["id"] == ident]
        if hit.empty:
            return None
        return "compound", str(hit.iloc[0]["name"]), {"compound_id": ident}, []
    if kind == "point" and ident == "here" and isinstance(where, dict):
        lat, lon = _finite(where.get("lat"), -90, 90), _finite(where.get("lon"), -180, 180)
        if lat is None or lon is None:
            return None
        lat, lon = round(lat, 6), round(lon, 6)
        return "point", t("rider.report.here_place", lang, lat=f"{lat:.5f}", lon=f"{lon:.5f}"), \
            {"lon": lon, "lat": lat}, []
    return None


def kind_options(place_kind: str, lang: str) -> list[dict]:
    return [{"label": t(f"report.kind.{k.key}", lang), "value": k.key} for k in REPORT_KINDS
            if k.about in KINDS_AT[place_kind]]


FORM_OUTPUTS = 14


def open_form(trigger, clicks, where, state):
    """The form for the button pressed: (panel hidden, about, kind options, kind, amenity options, amenity, place,
    note, receipt, follow hidden, photo, preview, preview row hidden, photo message)."""
    if not isinstance(clicks, int) or isinstance(clicks, bool) or clicks < 1:
        return (no_update,) * FORM_OUTPUTS
    lang = lang_of(state)
    found = _place_of(trigger, where, lang)
    if found is None:
        return (no_update,) * FORM_OUTPUTS
    place_kind, about, place, amenities = found
    return (False, about, kind_options(place_kind, lang), None, [amenity_chip(k, lang) for k in amenities], None,
            place, "", None, True, None, None, True, "")


# ---------------------------------------------------------------------------------------------
# the photo

class PhotoRefused(ValueError):
    """A photo refused by the page before the domain sees it: ``key`` is the label that says why."""

    def __init__(self, key: str, **values):
        super().__init__(key)
        self.key, self.values = key, values


def photo_bytes(contents) -> bytes | None:
    """The bytes of a photo sent as a data URL (what ``dcc.Upload`` gives), checked before decoding: a JPEG or PNG
    type, base64, at most ``MAX_BYTES``. None for no photo; PhotoRefused for anything else."""
    if contents in (None, ""):
        return None
    if not isinstance(contents, str):
        raise PhotoRefused("rider.report.err.photo")
    comma = contents.find(",", 0, MAX_HEADER)
    header = contents[:comma] if comma > 0 else ""
    if not header.startswith("data:") or not header.endswith(";base64"):
        raise PhotoRefused("rider.report.err.photo")
    media_type = header[5:].split(";")[0].strip().lower()
    if media_type not in PHOTO_TYPES:
        raise PhotoRefused("rider.report.err.photo_type", type=media_type[:40] or None)
    payload_chars = len(contents) - comma - 1
    if payload_chars > MAX_PHOTO_BASE64:
        raise PhotoRefused("rider.report.err.photo_big", size=f"{payload_chars * 3 / 4 / MB:.1f}")
    try:
        data = base64.b64decode(contents[comma + 1:], validate=True)
    except (binascii.Error, ValueError):
        raise PhotoRefused("rider.report.err.photo") from None
    if not data:
        raise PhotoRefused("rider.report.err.photo")
    if len(data) > MAX_BYTES:
        raise PhotoRefused("rider.report.err.photo_big", size=f"{len(data) / MB:.1f}")
    return data


def _photo_refusal(exc: Exception, lang: str) -> str:
    """What is wrong with a photo, in words."""
    mb = MAX_BYTES // MB
    if isinstance(exc, PhotoRefused):
        values = dict(exc.values)
        if "type" in values:
            values["type"] = values["type"] or t("rider.report.err.unknown_type", lang)
        return t(exc.key, lang, mb=mb, **values)
    message = getattr(exc, "message", "")
    if "pixels" in message:
        return t("rider.report.err.photo_pixels", lang, mp=MAX_PIXELS // 1_000_000)
    if " MB" in message:
        return t("rider.report.err.photo_big", lang, size=message.split(" MB")[0].split()[-1], mb=mb)
    return t("rider.report.err.photo", lang, mb=mb)


def check_photo(chosen, state):
    """A chosen photo, checked and re-encoded as it will be kept: (photo as sent, preview, preview row hidden,
    message, the chosen photo cleared)."""
    lang = lang_of(state)
    if not isinstance(chosen, dict):
        return no_update, no_update, no_update, no_update, no_update
    name = chosen.get("name")
    name = name[:MAX_FILENAME] if isinstance(name, str) else ""
    try:
        data = photo_bytes(chosen.get("contents"))
        if data is None:
            return no_update, no_update, no_update, no_update, None
        photo = clean_photo(data)
    except (PhotoRefused, QuestionError) as exc:
        return None, None, True, t("rider.report.photo_error", lang, what=_photo_refusal(exc, lang)), None
    src = "data:image/jpeg;base64," + base64.b64encode(photo.image).decode("ascii")
    preview = [html.Img(src=src, alt=name, className="report-thumb"),
               html.Span(t("rider.report.photo_ready", lang, name=name or "photo.jpg"), className="report-photo-name")]
    return src, preview, False, "", None


def clear_photo(clicks):
    if not isinstance(clicks, int) or isinstance(clicks, bool) or clicks < 1:
        return no_update, no_update, no_update, no_update
    return None, None, True, ""


# ---------------------------------------------------------------------------------------------
# sending

def _sent_place(place) -> dict | None:
    """The place the form was opened for, as the client kept it: one of the three shapes, plain values only."""
    if not isinstance(place, dict):
        return None
    if set(place) == {"station_id"} and isinstance(place["station_id"], str):
        return {"station_id": place["station_id"][:64]}
    if set(place) == {"compound_id"} and isinstance(place["compound_id"], str):
        return {"compound_id": place["compound_id"][:64]}
    if set(place) == {"lon", "lat"}:
        lon, lat = _finite(place["lon"], -180, 180), _finite(place["lat"], -90, 90)
        if lon is not None and lat is not None:
            return {"lon": lon, "lat": lat}
    return None


def remembered_refs(refs) -> list[str]:
    """The reference numbers the phone keeps, as plain short texts (anything else dropped)."""
    if not isinstance(refs, list):
        return []
    return [r for r in refs[-MAX_REFS:] if isinstance(r, str) and 0 < len(r) <= 20]


def stored_code(code) -> str | None:
    """The rider code kept on the phone, normalised, or None when there is none or it is not one."""
    if not isinstance(code, str) or not code:
        return None
    try:
        return rider_codes.normalise(code)
    except QuestionError:
        return None


def _refusal(exc: Exception, lang: str) -> str:
    """What to fix, in words, for a refused report."""
    if isinstance(exc, RateLimited):
        return t("rider.report.err.rate", lang, n=max(1, math.ceil(exc.retry_after / 60)))
    if isinstance(exc, PhotoRefused):
        return _photo_refusal(exc, lang)
    field = getattr(exc, "field", "")
    if field == "photo":
        return _photo_refusal(exc, lang)
    if field in ("kind", "amenity"):
        return t(f"rider.report.err.{field}", lang)
    if field == "note":
        return t("rider.report.err.note_type", lang)
    if field == "rider_code":
        return t("rider.report.err.code", lang)
    if field in ("lat", "lon") and "outside" in getattr(exc, "message", ""):
        return t("rider.report.err.outside", lang)
    return t("rider.report.err.place", lang)


def due_words(moment: dt.datetime, lang: str) -> str:
    return when(moment, clock.now(), lang)


def receipt(sub, kind: str, lang: str) -> list:
    """What the rider reads after sending: the reference number, big; merged or not; when it is due."""
    parts = [html.P(t("rider.report.received", lang, ref=sub.ref), className="report-ref")]
    if sub.merged:
        parts.append(html.P(t("rider.report.merged", lang, n=sub.riders) if sub.riders > 1
                            else t("rider.report.merged_one", lang), className="report-merged"))
    parts.append(html.P(t("rider.report.due", lang, ack=due_words(sub.acknowledge_by, lang),
                          resolve=due_words(sub.resolve_by, lang)), className="report-due"))
    if sub.with_code and REPORT_POINTS.get(kind):
        parts.append(html.P(t("rider.report.points", lang, n=REPORT_POINTS[kind]), className="report-points"))
    return parts


SEND_OUTPUTS = 7


def send_report(clicks, place, kind, amenity, note, photo, code, refs, state):
    """Send the form: (receipt, remembered refs, follow hidden, note, photo, preview, preview row hidden)."""
    if not isinstance(clicks, int) or isinstance(clicks, bool) or clicks < 1:
        return (no_update,) * SEND_OUTPUTS
    lang = lang_of(state)

    def refused(text: str):
        return (html.P(t("rider.report.error", lang, what=text), className="report-error"),) + \
            (no_update,) * (SEND_OUTPUTS - 1)

    sent_place = _sent_place(place)
    if sent_place is None:
        return refused(t("rider.report.err.place", lang))
    if not isinstance(kind, str) or kind not in KIND_ABOUT:
        return refused(t("rider.report.err.kind", lang))
    place_kind = "station" if "station_id" in sent_place else "compound" if "compound_id" in sent_place else "point"
    if KIND_ABOUT[kind] not in KINDS_AT[place_kind]:
        return refused(t("rider.report.err.kind_place", lang, kind=t(f"report.kind.{kind}", lang)))
    if note is not None and not isinstance(note, str):
        return refused(t("rider.report.err.note_type", lang))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        return refused(t("rider.report.err.note", lang, n=len(note) if len(note) <= MAX_NOTE_SENT else
                         f">{MAX_NOTE_SENT}", max=MAX_NOTE))
    values = {"kind": kind, **sent_place, "note": note}
    if kind == "facility_broken":
        values["amenity"] = amenity if isinstance(amenity, str) and len(amenity) <= 40 else None
    if code not in (None, ""):
        code_now = stored_code(code)
        if code_now is None:
            return refused(t("rider.report.err.code", lang))
        values["rider_code"] = code_now
    try:
        data = photo_bytes(photo)
        secret = services().settings.secret_key
        sub = submit_report(services().store, values, address_key=address_hash(request.remote_addr, secret),
                            photo=data, channel="web")
    except (PhotoRefused, QuestionError, RateLimited) as exc:
        return refused(_refusal(exc, lang))
    kept = [r for r in remembered_refs(refs) if r != sub.ref] + [sub.ref]
    return receipt(sub, kind, lang), kept[-MAX_REFS:], False, "", None, None, True


# ---------------------------------------------------------------------------------------------
# the rider code, points and my reports

def base_url() -> str:
    """Where the rider page is: the configured public address, else the address this request came to."""
    configured = getattr(services().settings, "public_url", None)
    return configured.rstrip("/") if isinstance(configured, str) and configured else request.host_url.rstrip("/")


def qr_data_uri(text: str) -> str:
    return segno.make_qr(text, error="h").svg_data_uri(scale=5, border=4, dark="#111111")


def _moment(value) -> dt.datetime:
    """A stored time (ISO text or a datetime) in Chengdu's time."""
    return as_local(dt.datetime.fromisoformat(value) if isinstance(value, str) else value)


def _points_view(code: str, lang: str) -> list:
    points = rider_points(services().store, code)
    rows = []
    for e in points["entries"]:
        what = t(f"rider.code.entry.{e['entry']}", lang)
        detail = t("rider.code.for_report", lang, ref=e["report"]) if e["report"] else (e["note"] or "")
        rows.append(html.Tr([html.Td(f"{_moment(e['at']):%Y-%m-%d}"), html.Td(what),
                             html.Td(f"{e['points']:+d}", className="points-delta"), html.Td(detail)]))
    return [
        html.H3([t("rider.code.points", lang), " ",
                 html.Span(t("rider.code.balance", lang, n=points["balance"]), className="points-balance")]),
        html.Table(html.Tbody(rows), className="points-history") if rows
        else html.P(t("rider.code.no_points", lang), className="points-none"),
    ]


def report_item(view: dict, lang: str) -> html.Li:
    """One of my reports: what, where, its state in words, each step with its time and the staff's answer."""
    kind = view["kind_zh"] if lang == "zh" else view["kind_en"]
    if view.get("amenity"):
        kind += " · " + t(f"amenity.{view['amenity']}", lang)
    now = clock.now()
    due = _moment(view["resolve_by"])
    steps = []
    for s in view["steps"]:
        at = when(_moment(s["at"]), now, lang)
        state = t(f"report.state.{s['state']}", lang) if s["state"] in REPORT_STATE_NAMES else str(s["state"])
        steps.append(html.Li([html.Span(at, className="step-at"), " ", html.B(state),
                              html.Span(" " + t("rider.code.answer", lang, text=s["answer"]), className="step-answer")
                              if s.get("answer") else None]))
    flags = [t("rider.code.riders", lang, n=view["riders"])] if view["riders"] > 1 else []
    if view["verified"]:
        flags.append(t("rider.code.verified", lang))
    if view["open"]:
        flags.append(t("rider.code.due", lang, when=when(due, now, lang)) if due > now
                     else t("rider.code.overdue", lang, when=when(due, now, lang)))
    return html.Li([
        html.Div([html.B(view["ref"], className="mine-ref"), " ",
                  html.Span(view["state_zh"] if lang == "zh" else view["state_en"],
                            className=f"mine-state state-{view['state']}")], className="mine-head"),
        html.Div(kind, className="mine-kind"),
        html.Div(view["place"], className="mine-place"),
        html.Div(" · ".join(flags), className="mine-flags") if flags else None,
        html.Ol(steps, className="mine-steps"),
    ], className="mine-report", **{"data-ref": view["ref"]})


def code_view(code, refs, hidden, state):
    """The rider code panel's body: the code in four groups, its QR code, the points and my reports."""
    if hidden is not False:
        return no_update
    lang = lang_of(state)
    code = stored_code(code)
    mine = my_reports(services().store, remembered_refs(refs), code)
    body = []
    if code is None:
        body.append(html.P(t("rider.code.none", lang), className="code-none"))
    else:
        body += [
            html.P(rider_codes.shown(code), className="code-shown", **{"data-code": code}),
            html.Img(src=qr_data_uri(rider_codes.transfer_link(base_url(), code)), alt=t("rider.code.qr_alt", lang),
                     className="code-qr"),
            html.P(t("rider.code.move_hint", lang), className="report-hint"),
            html.P(t("rider.code.intro", lang), className="report-hint"),
            *_points_view(code, lang),
        ]
    body += [html.H3(t("rider.code.mine", lang)),
             html.Ol([report_item(v, lang) for v in mine], className="mine") if mine
             else html.P(t("rider.code.no_reports", lang), className="mine-none")]
    return body


def typed_code(clicks, submits, text, current, state):
    """A code typed to move it to this phone: (the code kept, message, the input cleared)."""
    if not any(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in (clicks, submits)):
        return no_update, no_update, no_update
    lang = lang_of(state)
    try:
        code = rider_codes.normalise(text)
    except QuestionError:
        return no_update, t("rider.code.invalid", lang), no_update
    if code == stored_code(current):
        return no_update, t("rider.code.same", lang), ""
    old = stored_code(current)
    message = t("rider.code.moved", lang) + (t("rider.code.replaced", lang, old=rider_codes.shown(old)) if old else "")
    return code, message, ""
