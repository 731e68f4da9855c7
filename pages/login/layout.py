"""The staff sign-in page (/login, zh/en): a plain form that posts to the server, usable without scripts."""
from __future__ import annotations

import dash
from dash import dcc, html

from pages.auth import current_account, safe_next
from pages.i18n import language, t
from pages.ids import LOGIN

dash.register_page(__name__, path="/login", title="登录 · 暖新地图")

ERRORS = ("wrong", "throttled")


def layout(lang=None, error=None, next=None, signed_out=None, **_ignored):  # noqa: A002 (the query's name)
    lang = language(lang)
    account = current_account()
    target = safe_next(next)
    notice = None
    if error in ERRORS:
        notice = html.P(t(f"login.error.{error}", lang), id=LOGIN.message, className="login-error", role="alert")
    elif signed_out == "1":
        notice = html.P(t("login.signed_out", lang), id=LOGIN.message, className="login-note")
    switch = "?" + "&".join(f"{k}={v}" for k, v in (("lang", "en" if lang == "zh" else "zh"),) if v)
    header = html.Header([
        html.H1(t("login.title", lang), id=LOGIN.title),
        html.A(t("app.switch_language", lang), href=switch, className="lang-switch", id=LOGIN.lang_btn),
    ], className="login-header")
    if account is not None:
        body = html.Div([
            html.P(t("login.signed_in", lang, name=account.name), id=LOGIN.message),
            html.A(t("login.to_staff", lang), href="/staff" + ("?lang=en" if lang == "en" else ""), className="btn"),
        ])
    else:
        body = html.Form([
            html.Label([t("login.name", lang),
                        dcc.Input(id=LOGIN.name, name="name", type="text", autoComplete="username", required=True,
                                  maxLength=64, debounce=True)]),
            html.Label([t("login.password", lang),
                        dcc.Input(id=LOGIN.password, name="password", type="password", required=True, maxLength=256,
                                  autoComplete="current-password", debounce=True)]),
            dcc.Input(type="hidden", name="lang", value=lang, id=LOGIN.lang),
            dcc.Input(type="hidden", name="next", value=target, id=LOGIN.next),
            html.Button(t("login.submit", lang), type="submit", id=LOGIN.submit, className="btn btn-primary"),
        ], action="/login", method="POST", id=LOGIN.form, className="login-form")
    return html.Div([
        header,
        html.P(t("login.intro", lang), className="login-intro"),
        notice,
        body,
        html.A(t("login.to_map", lang), href="/" + ("?lang=en" if lang == "en" else ""), className="nav-link"),
    ], className=f"login lang-{lang}", lang="zh-CN" if lang == "zh" else "en")
