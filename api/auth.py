"""Who is calling the API: a bearer token (scripts, mini-programs) or the staff session cookie (with its CSRF token).

Reads that need an account and every write go through :func:`require_account`: 401 without valid
credentials, 403 for a cookie request that changes something without the session's ``X-CSRF-Token``.
"""
from __future__ import annotations

from flask import request, session

from api.errors import ApiError
from api.params import services
from layers.staff.accounts import Account, account_for_token, account_of_session, csrf_matches

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "an API token from `python -m mapdata.users token NAME`"},
    "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "nuanxin_session",
                   "description": "the session of a staff sign-in at /login; a write also needs the header "
                                  "X-CSRF-Token with the session's token"},
}
STAFF = ("bearerAuth", "cookieAuth")
CSRF_HEADER = "X-CSRF-Token"


def _unauthorized(message: str) -> ApiError:
    error = ApiError(401, "unauthorized", message, "Authorization")
    error.headers = {"WWW-Authenticate": 'Bearer realm="nuanxin"'}
    return error


def require_account(write: bool) -> Account:
    """The calling account, or the 401/403 that says why not."""
    accounts = services().store.accounts
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized("expected Authorization: Bearer <token>")
        account = account_for_token(accounts, token.strip())
        if account is None:
            raise _unauthorized("the token is unknown, revoked, or its account is disabled")
        return account
    account = account_of_session(accounts, session) if session else None
    if account is None:
        raise _unauthorized("sign in at /login, or send Authorization: Bearer <token>")
    if write and not csrf_matches(session, request.headers.get(CSRF_HEADER)):
        raise ApiError(403, "csrf", f"a change made with the session cookie needs the {CSRF_HEADER} header "
                                    "of the session", CSRF_HEADER)
    return account
