"""Server-side guards for what Dash itself receives: the page router's inputs, and the last resort for callbacks.

Every view builder checks its own inputs; these cover the two things no view builder sees: the
router callback Dash registers for ``use_pages`` (it assumes its pathname is a string), and an
exception a view builder did not expect, which must be logged and answered with no update, never a 500.
"""
from __future__ import annotations

import logging

from flask import Response, request

log = logging.getLogger("nuanxin.callbacks")
ROUTER_OUTPUT = "_pages_content.children"
MAX_PATH_CHARS = 2_000


def _plain_path(value) -> bool:
    return isinstance(value, str) and len(value) <= MAX_PATH_CHARS


def forged_router_request() -> Response | None:
    """A 204 (nothing to update) for a router request whose pathname or search is not a plain string."""
    if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
        return None
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or ROUTER_OUTPUT not in str(body.get("output", ""))[:200]:
        return None
    inputs = body.get("inputs")
    values = [i.get("value") for i in inputs if isinstance(i, dict)] if isinstance(inputs, list) else []
    pathname_ok = bool(values) and _plain_path(values[0]) and values[0].startswith("/")
    if pathname_ok and all(v is None or _plain_path(v) for v in values[1:]):
        return None
    return Response(status=204)


def not_found(_exc=None) -> Response:
    """A plain 404: an unknown file under Dash's component routes, or a development route in production."""
    return Response("not found\n", status=404, mimetype="text/plain")


def no_dev_tools_in_production(debug: bool):
    """A before-request hook: Dash's hot-reload route answers only when the app runs in debug mode."""
    def hook():
        if not debug and request.path.endswith("/_reload-hash"):
            return not_found()
        return None
    return hook


def last_resort(exc: Exception):
    """Dash's ``on_error``: an exception no view builder expected is logged, and the outputs stay as they are."""
    log.error("callback failed on %s: %s: %s", request.path, type(exc).__name__, str(exc)[:500], exc_info=exc)
    return None
