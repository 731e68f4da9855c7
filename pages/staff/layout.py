"""The staff workspace (/staff): my stations, what needs attention first, the station editor with the weekly
hours form and its preview, temporary status with quick choices, position by a tap on the map, review before
saving, conflicts merged field by field, confirm, history and revert. Works on a phone and a desk."""
from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import dcc, html

from mapdata.vocabulary import AMENITY_KEYS
from pages.auth import csrf_token, current_account
from pages.base_map import base_layers, map_crs
from pages.components import amenity_chip
from pages.context import services
from pages.i18n import language, t
from pages.ids import STAFF, hours_input_id
from pages.staff import views
from pages.staff.reports import points_section, reports_section

dash.register_page(__name__, path="/staff", title="驿站工作台 · 暖新地图")


def _field(key: str, lang: str, control) -> html.Label:
    return html.Label([html.Span(t(f"staff.field.{key}", lang), className="field-label"), control],
                      className="staff-field")


def hours_form(lang: str) -> html.Div:
    rows = []
    for d in range(7):
        cells = [html.Th(t(f"weekday.{d}", lang))]
        for slot in range(4):
            cells.append(html.Td(dcc.Input(id=hours_input_id(d, slot), type="time", value="", debounce=True,
                                           className="time-input")))
        rows.append(html.Tr(cells))
    return html.Div([
        html.H4(t("staff.hours.week", lang)),
        html.Table(html.Tbody(rows), className="hours-form"),
        html.Label([t("staff.hours.ph", lang),
                    dcc.RadioItems(id=STAFF.ph, inline=True, value="off",
                                   options=[{"label": t(f"staff.hours.ph.{p}", lang), "value": p}
                                            for p in ("off", "weekday", "sunday")])], className="staff-field"),
        html.P(id=STAFF.hours_form_note, className="staff-note"),
    ])


def editor(lang: str, settings, admin: bool = False) -> html.Div:
    layers = [*base_layers(settings), dl.LayerGroup(id=STAFF.marker)]
    chips = [amenity_chip(k, lang) for k in AMENITY_KEYS]
    return html.Div([
        _field("name", lang, dcc.Input(id=STAFF.name, type="text", maxLength=100, debounce=True)),
        _field("address", lang, dcc.Input(id=STAFF.address, type="text", maxLength=200, debounce=True)),
        _field("phone", lang, dcc.Input(id=STAFF.phone, type="tel", maxLength=40, debounce=True)),
        _field("operator", lang, dcc.Input(id=STAFF.operator, type="text", maxLength=100, debounce=True)),
        _field("capacity", lang, dcc.Input(id=STAFF.capacity, type="number", min=0, max=10_000, step=1, debounce=True)),
        _field("amenities", lang, dcc.Checklist(id=STAFF.amenities, options=chips, inline=True,
                                                className="amenity-chips")),
        hours_form(lang),
        _field("opening_hours", lang, dcc.Input(id=STAFF.hours_text, type="text", maxLength=500, debounce=True,
                                                className="hours-text")),
        html.P(id=STAFF.hours_error, className="staff-error field-error", role="alert"),
        html.Div(id=STAFF.preview, className="staff-preview"),
        html.Fieldset([
            html.Legend(t("staff.field.status", lang)),
            html.Div([html.Button(t("staff.quick.microwave", lang), id=STAFF.quick_microwave, n_clicks=0),
                      html.Button(t("staff.quick.closed_today", lang), id=STAFF.quick_closed_today, n_clicks=0),
                      html.Button(t("staff.quick.normal", lang), id=STAFF.quick_normal, n_clicks=0)],
                     className="quick-choices"),
            dcc.RadioItems(id=STAFF.status, options=views.statuses(lang), inline=True),
            _field("status_note", lang, dcc.Input(id=STAFF.status_note, type="text", maxLength=200, debounce=True)),
            _field("status_until", lang, dcc.Input(id=STAFF.status_until, type="datetime-local", debounce=True)),
            _field("amenities_out", lang, dcc.Checklist(id=STAFF.amenities_out, options=chips, inline=True,
                                                        className="amenity-chips")),
        ], className="staff-status"),
        html.Fieldset([
            html.Legend(t("staff.field.position", lang)),
            html.P(t("staff.map_hint", lang), className="staff-note"),
            html.Div(dl.Map(layers, id=STAFF.map, center=[30.6586, 104.0648], zoom=16, minZoom=8, maxZoom=19,
                            crs=map_crs(settings),
                            style={"height": "100%", "width": "100%"}), className="staff-map"),
            html.P(id=STAFF.moved, className="staff-note"),
        ]),
        html.Div([html.Button(t("staff.review", lang), id=STAFF.review, n_clicks=0, className="btn"),
                  html.Button(t("staff.save", lang), id=STAFF.save, n_clicks=0, className="btn btn-primary"),
                  html.Button(t("staff.confirm", lang), id=STAFF.confirm, n_clicks=0, className="btn"),
                  html.Button(t("staff.retire", lang), id=STAFF.retire, n_clicks=0, className="btn")
                  if admin else None],
                 className="staff-actions"),
        html.Div(id=STAFF.posters, className="row staff-posters"),
        html.Div(id=STAFF.message, className="staff-message", **{"aria-live": "polite"}),
        html.Div(id=STAFF.diff),
        html.Div(id=STAFF.conflict),
        html.Button(t("staff.conflict.save", lang), id=STAFF.conflict_save, n_clicks=0, className="btn",
                    style={"display": "none"}),
        html.H3(t("staff.history", lang)),
        html.Div(id=STAFF.history),
    ], id=STAFF.editor, className="staff-editor", style={"display": "none"})


def ledger_section(lang: str, account=None) -> html.Section:
    return html.Section([
        html.H2(t("staff.ledger", lang)),
        html.P(t("staff.ledger.intro", lang), className="staff-note"),
        html.Label([t("staff.ledger.crs", lang),
                    dcc.RadioItems(id=STAFF.ledger_crs, value="wgs84", inline=True,
                                   options=[{"label": "WGS-84", "value": "wgs84"},
                                            {"label": "GCJ-02（高德）", "value": "gcj02"},
                                            {"label": "BD-09（百度）", "value": "bd09"}])], className="staff-field"),
        html.Div(views.ledger_links("wgs84"), id=STAFF.ledger_links, className="ledger-links row"),
        dcc.Upload(html.Div(t("staff.ledger.upload", lang)), id=STAFF.ledger_upload, className="ledger-upload",
                   max_size=views.MAX_LEDGER_UPLOAD, multiple=False),
        html.Div(id=STAFF.ledger_result, **{"aria-live": "polite"}),
        html.Button(t("staff.ledger.apply", lang), id=STAFF.ledger_apply, n_clicks=0, className="btn btn-primary",
                    style={"display": "none"}),
        district_posters(lang, account),
    ], className="staff-ledger")


def district_posters(lang: str, account) -> html.Form | None:
    """A district's posters in one PDF: a plain GET form to the API (the district's own, or any for the city)."""
    options = views.poster_districts(account)
    if not options:
        return None
    return html.Form([
        html.H3(t("staff.posters", lang)),
        html.P(t("staff.posters.district", lang), className="staff-note"),
        html.Div([
            html.Select([html.Option(name, value=str(adcode)) for adcode, name in options], name="district",
                        id=STAFF.poster_district, className="staff-select"),
            html.Label([t("staff.posters.size", lang),
                        html.Select([html.Option(size, value=size) for size in ("A4", "A5")], name="size",
                                    id=STAFF.poster_size, className="staff-select")], className="staff-field"),
            html.Button(t("staff.posters.go", lang), type="submit", id=STAFF.poster_go, className="btn"),
        ], className="row"),
    ], action="/api/v1/reports/posters.pdf", method="GET", className="staff-district-posters")


def compounds_section(lang: str) -> html.Section:
    return html.Section([
        html.H2(t("staff.compounds", lang)),
        dcc.Store(id=STAFF.compound_loaded, data=None),
        dcc.Input(id=STAFF.compound_filter, type="search", placeholder=t("staff.compounds.filter", lang),
                  debounce=True, maxLength=100),
        html.Div(views.compound_list("", {"lang": lang}), id=STAFF.compound_list, className="staff-list"),
        html.Div(id=STAFF.compound_panel),
        html.Fieldset([
            html.Legend(t("staff.sign.new", lang)),
            dcc.Dropdown(id=STAFF.sign_gate, options=[], clearable=False),
            dcc.RadioItems(id=STAFF.sign_kind, value="direction", inline=True,
                           options=[{"label": t(f"staff.sign.kind.{k}", lang), "value": k}
                                    for k in ("site_plan", "direction", "building_number")]),
            html.Label([html.Span(t("staff.sign.text", lang), className="field-label"),
                        dcc.Input(id=STAFF.sign_text, type="text", maxLength=100, debounce=True)],
                       className="staff-field"),
            html.Button(t("staff.sign.add", lang), id=STAFF.sign_add, n_clicks=0, className="btn"),
        ]),
        html.Div(id=STAFF.compound_message, **{"aria-live": "polite"}),
    ], className="staff-compounds")


def accounts_section(lang: str) -> html.Section:
    roles = [{"label": t(f"staff.role_name.{r}", lang), "value": r} for r in ("station", "street", "district")]
    return html.Section([
        html.H2(t("staff.accounts", lang)),
        html.Div(views.account_rows({"lang": lang}), id=STAFF.accounts),
        html.Fieldset([
            html.Legend(t("staff.accounts.new", lang)),
            html.Label([t("staff.accounts.name", lang), dcc.Input(id=STAFF.account_name, type="text", maxLength=64,
                                                                  debounce=True)], className="staff-field"),
            html.Label([t("staff.accounts.role", lang), dcc.RadioItems(id=STAFF.account_role, options=roles,
                                                                       value="station", inline=True)],
                       className="staff-field"),
            html.Label([t("staff.accounts.stations", lang), dcc.Input(id=STAFF.account_stations, type="text",
                                                                      maxLength=600, debounce=True)],
                       className="staff-field"),
            html.Label([t("staff.accounts.street", lang), dcc.Input(id=STAFF.account_street, type="text",
                                                                    maxLength=100, debounce=True)],
                       className="staff-field"),
            html.Button(t("staff.accounts.create", lang), id=STAFF.account_create, n_clicks=0, className="btn"),
        ]),
        html.Div(id=STAFF.account_message, **{"aria-live": "polite"}),
    ], className="staff-accounts-section")


def create_section(lang: str) -> html.Section:
    settings = services().settings
    base = [*base_layers(settings, roads=False), dl.LayerGroup(id=STAFF.create_marker)]
    return html.Section([
        html.H2(t("staff.create", lang)),
        dcc.Store(id=STAFF.create_position, data=None),
        html.P(t("staff.create.hint", lang), className="staff-note"),
        _field("name", lang, dcc.Input(id=STAFF.create_name, type="text", maxLength=100, debounce=True)),
        _field("address", lang, dcc.Input(id=STAFF.create_address, type="text", maxLength=200, debounce=True)),
        _field("operator", lang, dcc.Input(id=STAFF.create_operator, type="text", maxLength=100, debounce=True)),
        _field("opening_hours", lang, dcc.Input(id=STAFF.create_hours, type="text", maxLength=500, debounce=True,
                                                value="Mo-Su 09:00-21:00")),
        html.Div(dl.Map(base, id=STAFF.create_map, center=[30.6586, 104.0648], zoom=12, minZoom=8, maxZoom=19,
                        crs=map_crs(settings),
                        style={"height": "100%", "width": "100%"}), className="staff-map"),
        html.Button(t("staff.create.go", lang), id=STAFF.create_go, n_clicks=0, className="btn btn-primary"),
        html.Div(id=STAFF.create_message, **{"aria-live": "polite"}),
    ], className="staff-create")


def feed_section(lang: str, account) -> html.Section:
    district = dcc.Dropdown(id=STAFF.feed_district, options=views.district_options(account), clearable=True) \
        if account.role == "city" else dcc.Store(id=STAFF.feed_district, data=None)
    return html.Section([
        html.H2(t("staff.feed", lang)),
        html.Div([html.Label([t("staff.feed.since", lang), dcc.Input(id=STAFF.feed_since, type="date", debounce=True)],
                             className="staff-field"),
                  html.Label([t("staff.feed.district", lang), district], className="staff-field")
                  if account.role == "city" else district,
                  html.Label([t("staff.feed.user", lang), dcc.Input(id=STAFF.feed_user, type="text", maxLength=64,
                                                                    debounce=True)], className="staff-field")],
                 className="row"),
        html.Div(views.change_feed(None, None, {"lang": lang}), id=STAFF.feed),
    ], className="staff-feed")


def layout(lang=None, **_ignored):
    lang = language(lang)
    account = current_account()
    if account is None:
        return html.Div([html.P(t("staff.need_login", lang)),
                         html.A(t("login.submit", lang), href=f"/login?next=/staff&lang={lang}", className="btn")],
                        className="staff")
    settings = services().settings
    return html.Div([
        dcc.Store(id=STAFF.state, data={"lang": lang}),
        dcc.Store(id=STAFF.loaded, data=None),
        dcc.Store(id=STAFF.position, data=None),
        dcc.Store(id=STAFF.reviewed, data=None),
        html.Header([
            html.Div([html.H1(t("staff.title", lang), id=STAFF.title),
                      html.Span(f"{account.name} · {views.who(account, lang)}", id=STAFF.who, className="tagline")]),
            html.Nav([
                html.A(t("login.to_map", lang), href="/" + ("?lang=en" if lang == "en" else ""), className="nav-link"),
                html.A(t("app.switch_language", lang), id=STAFF.lang_btn, className="lang-switch",
                       href="?lang=" + ("en" if lang == "zh" else "zh")),
                html.Form([dcc.Input(type="hidden", name="csrf", value=csrf_token()),
                           dcc.Input(type="hidden", name="lang", value=lang),
                           html.Button(t("staff.logout", lang), type="submit", id=STAFF.logout)],
                          action="/logout", method="POST", className="logout-form"),
            ], className="row"),
        ], className="staff-header"),
        html.Div([
            html.Aside([
                html.H2(t("staff.mine", lang)),
                dcc.Input(id=STAFF.filter, type="search", placeholder=t("staff.filter", lang), debounce=True,
                          maxLength=100),
                html.Div(views.station_list("", {"lang": lang}), id=STAFF.list, className="staff-list"),
            ], className="staff-aside"),
            html.Main([html.P(t("staff.pick", lang), className="staff-note"),
                       editor(lang, settings, admin=account.role in ("district", "city")),
                       reports_section(lang), points_section(lang, account),
                       create_section(lang) if account.role in ("district", "city") else None,
                       compounds_section(lang) if account.role != "station" else None,
                       ledger_section(lang, account), feed_section(lang, account),
                       accounts_section(lang) if account.role in ("district", "city") else None],
                      className="staff-main"),
        ], className="staff-body"),
    ], className=f"staff lang-{lang}", lang="zh-CN" if lang == "zh" else "en")
