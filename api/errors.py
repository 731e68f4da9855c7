"""Errors of the JSON API: one shape for every refusal, and the handlers that give every /api path a JSON answer."""
from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge

from layers.common.errors import AccessDenied, LimitError, QuestionError
from layers.planning.demand import DemandUploadError

API_ROOT = "/api/"
MAX_MESSAGE_CHARS = 1000
MAX_ROW_MESSAGE_CHARS = 300
MAX_ROWS = 100


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "field", "message"}}`` (and ``rows`` when given)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 rows: list[dict] | None = None):
        # an answer never echoes a client's input at length, nor lists more than MAX_ROWS problems
        message = message if len(message) <= MAX_MESSAGE_CHARS else message[:MAX_MESSAGE_CHARS - 1] + "…"
        if rows is not None:
            rows = [{**r, "message": str(r.get("message", ""))[:MAX_ROW_MESSAGE_CHARS]} for r in rows[:MAX_ROWS]]
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.rows = status, code, message, field, rows
        self.extra: dict = {}
        self.headers: dict = {}

    def response(self) -> Response:
        error = {"code": self.code, "field": self.field, "message": self.message}
        if self.rows is not None:
            error["rows"] = self.rows
        error.update(self.extra)
        resp = jsonify({"error": error})
        resp.status_code = self.status
        resp.headers.update(self.headers)
        return resp


def too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"the body is larger than the {limit:,} bytes this route reads "
                    f"({limit / 2**20:.0f} MB); split it into several requests", "body")


def invalid(field: str | None, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message, field)


def from_validation(exc: ValidationError, where: str = "query") -> ApiError:
    """The first problem pydantic found, as a 400 naming the field."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    got = first.get("input")
    message = first["msg"]
    if first["type"] == "missing":
        message = "required parameter is missing" if where == "query" else "required field is missing"
    elif first["type"] == "json_invalid":
        return ApiError(400, "invalid_body", f"not valid JSON ({message})", "body")
    elif got is not None and not isinstance(got, (dict, list)):
        shown = repr(got)
        message = f"{message} (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
    return ApiError(400, "invalid_parameter" if where == "query" else "invalid_body", message, field)


def from_question(exc: QuestionError) -> ApiError:
    """A question the domain refused: the client's mistake, named by its field; a 422 naming the limit
    when it is within the rules but beyond what one request may cost."""
    if isinstance(exc, LimitError):
        error = ApiError(422, "limit_exceeded", exc.message, exc.field)
        error.extra = {"limit": exc.limit, "asked": exc.asked}
        return error
    return invalid(exc.field, exc.message)


def from_upload(exc: DemandUploadError) -> ApiError:
    """An upload refused all-or-nothing, with the bad rows by number."""
    numbered = [p for p in exc.problems if p.get("row") is not None]
    if numbered:
        return ApiError(400, "invalid_rows", exc.message, "body", exc.problems)
    field = next((p["field"] for p in exc.problems if p.get("field")), "body")
    return ApiError(400, "invalid_body", exc.message, field, exc.problems)


def _method_not_allowed(allowed: list[str]) -> Response:
    resp = ApiError(405, "method_not_allowed",
                    f"{request.method} is not allowed on {request.path}; use {', '.join(allowed)}").response()
    resp.headers["Allow"] = ", ".join(allowed)
    return resp


def _api_methods(path: str) -> list[str]:
    """The methods the API serves at ``path`` (the pages' catch-all route does not count)."""
    adapter = current_app.url_map.bind("localhost")
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _ = adapter.match(path, method=method)
        except HTTPException:
            continue
        if endpoint.startswith("api_"):
            allowed.append(method)
    return allowed


def _only_api_routes_under_api():
    # the pages' catch-all route would answer an unknown /api path with the page's HTML
    rule = request.url_rule
    if not request.path.startswith(API_ROOT) or (rule is not None and rule.endpoint.startswith("api_")):
        return None
    allowed = _api_methods(request.path)
    if allowed:
        return _method_not_allowed(allowed)
    return ApiError(404, "not_found", f"no API route {request.path} for {request.method}").response()


def _api_error(exc: ApiError):
    return exc.response()


def _question_error(exc: QuestionError):
    # a question the domain refused, wherever it was noticed: the client's mistake, named by its field
    if request.path.startswith(API_ROOT):
        return from_question(exc).response()
    raise exc


def _access_denied(exc: AccessDenied):
    if request.path.startswith(API_ROOT):
        return ApiError(403, "forbidden", exc.message, exc.field).response()
    raise exc


def _http_error(exc: HTTPException):
    if not request.path.startswith(API_ROOT):
        return exc
    if isinstance(exc, MethodNotAllowed):
        return _method_not_allowed(sorted(m for m in (exc.valid_methods or []) if m not in ("HEAD", "OPTIONS")))
    if isinstance(exc, RequestEntityTooLarge):
        return too_large(request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH") or 0).response()
    if exc.code == 404:
        return ApiError(404, "not_found", f"no API route {request.path} for {request.method}").response()
    return ApiError(exc.code or 500, "http_error", exc.description or exc.name).response()


def _internal(exc):
    if request.path.startswith(API_ROOT):
        return ApiError(500, "internal_error", "the server failed to answer; the error was logged").response()
    return exc


def register_error_handlers(server: Flask) -> None:
    """JSON for every error under /api: unknown routes, wrong methods, bodies too large, refused questions."""
    server.before_request(_only_api_routes_under_api)
    server.register_error_handler(ApiError, _api_error)
    server.register_error_handler(QuestionError, _question_error)
    server.register_error_handler(AccessDenied, _access_denied)
    server.register_error_handler(HTTPException, _http_error)
    server.register_error_handler(500, _internal)
