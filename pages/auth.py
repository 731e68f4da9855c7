"""Signing in and out: the login form's POST, the session cookie, the throttle on failed logins, the origin check.

A session is a signed cookie (HttpOnly, SameSite=Lax, Secure when configured) holding the account id,
the account's session epoch and a CSRF token; every request re-reads the account, so a disabled
account or a changed password ends its sessions at once. Failed logins are limited per account
name and per address, counted in the store (:mod:`mapdata.store.throttle`), so every worker and every
server on the same store counts alike; a state-changing request from another origin is refused.
"""
from __future__ import annotations

from urllib.parse import urlencode, urlparse

from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, request, session

from layers.services import services_of
from layers.staff.accounts import (
    SESSION_CSRF,
    Account,
    AuthError,
    account_of_session,
    authenticate,
    csrf_matches,
    session_values,
)
from mapdata.store.throttle import Limit

bp = Blueprint("auth", __name__)
#: Failed logins allowed per account name and per address (count, window in seconds); a success costs nothing.
FAILED_LOGINS_PER_ACCOUNT = (5, 15 * 60)
FAILED_LOGINS_PER_ADDRESS = (20, 15 * 60)
SESSION_HOURS = 12
_STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def current_account() -> Account | None:
    """The signed-in account of this request (session cookie), or None."""
    if not session:
        return None
    return account_of_session(services_of(current_app).store.accounts, session)


def csrf_token() -> str | None:
    return session.get(SESSION_CSRF)


def _login_limits(name, address: str) -> list[Limit]:
    """The failed-login limits this attempt counts against: its account name's and its address's."""
    per_name, per_address = FAILED_LOGINS_PER_ACCOUNT, FAILED_LOGINS_PER_ADDRESS
    return [Limit("login-name:" + (name if isinstance(name, str) else "")[:64], *per_name),
            Limit("login-address:" + address, *per_address)]


def safe_next(value) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/staff"
    parsed = urlparse(value)
    return value if not parsed.netloc and not parsed.scheme else "/staff"


def _back_to_login(error: str) -> Response:
    query = {"error": error, "lang": request.form.get("lang", "zh")}
    if request.form.get("next"):
        query["next"] = safe_next(request.form.get("next"))
    return redirect("/login?" + urlencode(query), code=303)


@bp.post("/login")
def login():
    store = services_of(current_app).store
    name, address = request.form.get("name"), request.remote_addr or ""
    # counted as failed before the password is checked (parallel guesses cannot overtake the count), forgiven on success
    attempt = store.throttle.reserve(_login_limits(name, address))
    if attempt is None:
        return _back_to_login("throttled")
    try:
        account = authenticate(store.accounts, name, request.form.get("password"), address=address)
    except AuthError:
        return _back_to_login("wrong")
    store.throttle.forgive(attempt)
    session.clear()  # a new session for a new sign-in: no fixation
    session.update(session_values(account))
    session.permanent = True
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.post("/logout")
def logout():
    account = current_account()
    if account is not None and csrf_matches(session, request.form.get("csrf")):
        services_of(current_app).store.accounts.record(account.name, "logout", {})
        session.clear()
    return redirect("/login?" + urlencode({"lang": request.form.get("lang", "zh"), "signed_out": "1"}), code=303)


def _same_origin() -> Response | None:
    """Refuse a state-changing request whose Origin (or Referer) names another site."""
    if request.method not in _STATE_CHANGING:
        return None
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source or source == "null" and request.path.startswith("/api/"):
        return None  # scripts send no Origin; a browser always does on these requests
    parsed = urlparse(source)
    if parsed.netloc and parsed.netloc == request.host:
        return None
    if request.path.startswith("/api/"):
        resp = jsonify({"error": {"code": "cross_origin", "field": "Origin",
                                  "message": "a state-changing request must come from this site"}})
        resp.status_code = 403
        return resp
    return Response("cross-origin request refused\n", status=403, mimetype="text/plain")


#: Pages that only a signed-in account sees; anyone else is sent to /login first.
SIGNED_IN_PAGES = ("/staff",)


def _sign_in_first() -> Response | None:
    if request.method != "GET" or request.path not in SIGNED_IN_PAGES or current_account() is not None:
        return None
    query = {"next": request.full_path.rstrip("?"), "lang": request.args.get("lang", "zh")}
    return redirect("/login?" + urlencode(query), code=302)


def init_auth(server: Flask, secure_cookies: bool) -> None:
    """Sessions, the login routes, the failed-login throttle and the origin check on ``server``."""
    from datetime import timedelta

    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         SESSION_COOKIE_SECURE=secure_cookies, SESSION_COOKIE_NAME="nuanxin_session",
                         PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS))
    server.before_request(_same_origin)
    server.before_request(_sign_in_first)
    server.register_blueprint(bp)
