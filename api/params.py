"""Reading a request: query parameters and JSON bodies through their pydantic models, times, bodies bounded."""
from __future__ import annotations

from datetime import datetime

from flask import current_app, request
from pydantic import BaseModel, ValidationError

from api.errors import ApiError, from_question, from_validation, invalid, too_large
from layers.common.amenities import parse_amenities
from layers.common.calendar import check_moment
from layers.common.errors import QuestionError
from layers.planning.demand import MAX_PROBLEMS as MAX_ROWS_LISTED
from layers.services import Services, services_of
from mapdata import clock


def services() -> Services:
    """The running app's services (inside a request)."""
    return services_of(current_app)


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The request's query string through ``model``; a parameter given twice is refused, not guessed at."""
    args = request.args
    repeated = [k for k in args if len(args.getlist(k)) > 1]
    if repeated:
        raise invalid(repeated[0], "given more than once; give each parameter once")
    try:
        return model.model_validate(args.to_dict())
    except ValidationError as exc:
        raise from_validation(exc) from None


def parse_path(model: type[BaseModel], **values) -> BaseModel:
    """The route's path parts through ``model``: a malformed number is a 400 naming it, not "no such route"."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise from_validation(exc) from None


def parse_json_body(model: type[BaseModel], max_bytes: int, rows_field: str | None = None) -> BaseModel:
    """The request's JSON body through ``model``, read only up to ``max_bytes`` (413 beyond).

    With ``rows_field``, problems inside that list field are answered as ``invalid_rows``, each
    with its 1-based row, as a file's rows are.
    """
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise ApiError(415, "unsupported_media_type",
                       f"Content-Type {request.content_type or 'missing'!r}: send a JSON object (application/json)",
                       "Content-Type")
    data = read_body(max_bytes)
    try:
        return model.model_validate_json(data or b"{}")
    except ValidationError as exc:
        rows = [{"row": e["loc"][1] + 1, "field": ".".join(str(p) for p in e["loc"][2:]) or rows_field,
                 "message": e["msg"]} for e in exc.errors()
                if rows_field and len(e["loc"]) >= 2 and e["loc"][0] == rows_field and isinstance(e["loc"][1], int)]
        if rows:
            raise ApiError(400, "invalid_rows", f"{len(rows):,} of the {rows_field} are invalid; rows are numbered "
                           "from 1", rows_field, rows[:MAX_ROWS_LISTED]) from None
        raise from_validation(exc, where="body") from None


def read_body(max_bytes: int) -> bytes:
    """The raw body, refused with a 413 when it is larger than ``max_bytes``, declared or not.

    A declared length over the limit is refused before anything is read. A body without one
    (``Transfer-Encoding: chunked``) is read to one byte past the limit and refused if that byte came:
    Werkzeug's limited stream would otherwise end it silently at the limit and a truncated upload
    would be answered as if it were whole.
    """
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise too_large(max_bytes)
    request.max_content_length = max_bytes + 1
    data = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    return data


def parse_time(value: str | None, field: str = "at") -> datetime | None:
    """``now`` (default), ``any`` (ignore hours: None) or an ISO 8601 time (naive = Asia/Shanghai)."""
    if value is None or value == "" or value == "now":
        return clock.now()
    if value == "any":
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except (ValueError, TypeError, OverflowError):
        raise invalid(field, f"got {value[:60]!r}; expected 'now', 'any' or an ISO 8601 time such as "
                             "2026-11-29T21:30+08:00") from None
    try:
        return check_moment(moment, field)
    except QuestionError as exc:
        raise from_question(exc) from None


def parse_amenity_keys(value, field: str = "amenities") -> tuple[str, ...]:
    try:
        return parse_amenities(value)
    except ValueError as exc:
        raise invalid(field, str(exc)) from None
