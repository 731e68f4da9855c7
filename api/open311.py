"""Open311 GeoReport v2: riders' reports in the shape existing clients and 12345-style platforms speak.

``services.json`` lists the report kinds, ``services/<code>.json`` their attributes (the station or
compound, the broken amenity, the rider code), ``requests.json`` takes a report (form-encoded, or
multipart with the photo as ``media``) and lists them, ``requests/<id>.json`` gives one. Status is
``open`` or ``closed``; the ledger's own state rides along as ``state``; ``expected_datetime`` is
the due date to resolve, counted in China's working days. Errors are the standard's list
``[{"code", "description"}]`` with the field named. Riders' personal fields (email, name, phone,
device id) are not stored: the service does not keep them.
"""
from __future__ import annotations

import datetime as dt
import functools
import re

from flask import Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from api import models as m
from api.errors import ApiError
from api.params import services
from api.spec import ApiBlueprint
from layers.common import rider_codes
from layers.common.calendar import as_local, check_moment
from layers.common.errors import AccessDenied, QuestionError
from layers.common.photos import MAX_BYTES as MAX_PHOTO_BYTES
from layers.rider.reports import KINDS, address_hash, parse_ref, public_view, ref_of, submit_report
from mapdata.store.reports import RateLimited
from mapdata.vocabulary import AMENITIES, REPORT_KINDS

PREFIX = "/api/open311/v2"
MAX_FORM_BYTES = MAX_PHOTO_BYTES + 64 * 1024
MAX_RESULTS = 1000
DEFAULT_DAYS = 90
GROUPS = {"station": "驿站 station", "compound": "小区 compound", "any": "其他 other"}
_FIELD_NAMES = {"lon": "long", "station_id": "attribute[station_id]", "compound_id": "attribute[compound_id]",
                "amenity": "attribute[amenity]", "rider_code": "attribute[rider_code]", "note": "description",
                "photo": "media", "kind": "service_code"}
_ATTRIBUTES = ("station_id", "compound_id", "amenity", "rider_code")
ERRORS = (400, 404)

bp = ApiBlueprint("api_open311", __name__)


def _error(status: int, description: str, field: str | None) -> Response:
    body = m.Open311Errors.model_validate([{"code": status, "description": description, "field": field}])
    return Response(body.model_dump_json(), status=status, mimetype="application/json")


def open311(view):
    """Answer refusals in the standard's shape, naming the field as the standard calls it."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except QuestionError as exc:
            field = _FIELD_NAMES.get(exc.field, exc.field)
            return _error(400, f"{field}: {exc.message}", field)
        except AccessDenied as exc:
            return _error(403, exc.message, exc.field)
        except RateLimited as exc:
            resp = _error(429, str(exc), exc.field)
            resp.headers["Retry-After"] = str(exc.retry_after)
            return resp
        except RequestEntityTooLarge:
            return _error(413, f"the request is larger than {MAX_FORM_BYTES:,} bytes; a photo is at most "
                               f"{MAX_PHOTO_BYTES // 2**20} MB", "media")
        except ApiError as exc:
            return _error(exc.status, exc.message, exc.field)
    return wrapped


def _service(kind) -> dict:
    return {"service_code": kind.key, "service_name": kind.zh, "description": f"{kind.zh} · {kind.en}",
            "metadata": True, "type": "realtime", "keywords": f"{kind.key},{kind.about}", "group": GROUPS[kind.about]}


@bp.operation("GET", f"{PREFIX}/services.json", response=m.Open311Services, errors=(), error_model=m.Open311Errors,
              summary="Open311: the kinds of report (services)")
@open311
def services_list():
    return Response(m.Open311Services.model_validate([_service(k) for k in REPORT_KINDS]).model_dump_json(),
                    mimetype="application/json")


def _definition(kind) -> dict:
    attrs = [
        {"variable": True, "code": "station_id", "datatype": "string", "required": kind.about == "station",
         "datatype_description": "a station's id, e.g. st-0001", "order": 1,
         "description": "the station the report is about (its place is the station's)"},
        {"variable": True, "code": "compound_id", "datatype": "string", "required": False,
         "datatype_description": "a compound's id", "order": 2,
         "description": "the residential compound the report is about"},
    ]
    if kind.key == "facility_broken":
        attrs.append({"variable": True, "code": "amenity", "datatype": "singlevaluelist", "required": True,
                      "datatype_description": "one of the station's amenities", "order": 3,
                      "description": "which facility is broken",
                      "values": [{"key": a.key, "name": f"{a.zh} {a.en}"} for a in AMENITIES]})
    attrs.append({"variable": True, "code": "rider_code", "datatype": "string", "required": False,
                  "datatype_description": "16 letters and digits (暖新码)", "order": 4,
                  "description": "the rider's code: a confirmed report earns it points"})
    return {"service_code": kind.key, "attributes": attrs}


@bp.operation("GET", f"{PREFIX}/services/<service_code>.json", path=m.Open311ServicePath,
              response=m.Open311Definition, errors=ERRORS, error_model=m.Open311Errors,
              summary="Open311: one service's definition (its attributes)")
@open311
def service_definition(service_code: str):
    kind = KINDS.get(service_code)
    if kind is None:
        return _error(404, f"no service {service_code[:40]!r}", "service_code")
    return Response(m.Open311Definition.model_validate(_definition(kind)).model_dump_json(),
                    mimetype="application/json")


def _request_view(row: dict, names: dict) -> dict:
    view = public_view(row)
    kind = KINDS[row["kind"]]
    return {"service_request_id": view["ref"], "status": "open" if view["open"] else "closed",
            "status_notes": view["answer"] or None, "service_name": kind.zh, "service_code": kind.key,
            "description": view["note"], "agency_responsible": names.get(row["adcode"]),
            "service_notice": None, "requested_datetime": view["received_at"], "updated_datetime": view["updated_at"],
            "expected_datetime": None if row["state"] in ("rejected", "duplicate") else view["resolve_by"],
            "address": view["place"], "address_id": row["station_id"] or row["compound_id"], "zipcode": None,
            "lat": view["lat"], "long": view["lon"], "media_url": None, "state": row["state"],
            "riders": view["riders"]}


def _district_names() -> dict:
    districts = services().store.read("districts")
    return dict(zip(districts["adcode"].astype(int), districts["name"]))


def _moment(value: str | None, field: str):
    if value in (None, ""):
        return None
    return as_local(check_moment(value.strip(), field)).replace(microsecond=0).isoformat()


def _parse_get():
    args = request.args
    repeated = [k for k in args if len(args.getlist(k)) > 1]
    if repeated:
        raise QuestionError(repeated[0], "given more than once; give each parameter once")
    from pydantic import ValidationError
    try:
        return m.Open311RequestsQuery.model_validate(args.to_dict())
    except ValidationError as exc:
        first = exc.errors()[0]
        raise QuestionError(".".join(str(p) for p in first["loc"]) or "query", first["msg"]) from None


@bp.operation("GET", f"{PREFIX}/requests.json", query=m.Open311RequestsQuery, response=m.Open311Requests,
              errors=(400,), error_model=m.Open311Errors,
              summary="Open311: reports, newest first (by default those of the last 90 days, at most 1000)")
@open311
def requests_list():
    q = _parse_get()
    clauses, args = [], []
    if q.service_request_id:
        ids = [parse_ref(p, "service_request_id") for p in q.service_request_id.split(",")]
        clauses.append(f"id IN ({','.join('?' * len(ids))})")
        args += ids
    if q.service_code:
        clauses.append("kind = ?")
        args.append(q.service_code)
    if q.status in ("open", "closed"):
        clauses.append("state IN ('new', 'acknowledged', 'in_progress')" if q.status == "open"
                       else "state IN ('resolved', 'rejected', 'duplicate')")
    start, end = _moment(q.start_date, "start_date"), _moment(q.end_date, "end_date")
    if start is None and end is None and not q.service_request_id:
        from mapdata import clock
        start = (as_local(clock.now()) - dt.timedelta(days=DEFAULT_DAYS)).replace(microsecond=0).isoformat()
    if start is not None:
        clauses.append("received_at >= ?")
        args.append(start)
    if end is not None:
        clauses.append("received_at < ?")
        args.append(end)
    rows = services().store.reports.select(" AND ".join(clauses) or "TRUE", args, order="received_at DESC, id DESC",
                                           limit=MAX_RESULTS)
    names = _district_names()
    body = m.Open311Requests.model_validate([_request_view(r, names) for r in rows])
    return Response(body.model_dump_json(), mimetype="application/json")


@bp.operation("GET", f"{PREFIX}/requests/<service_request_id>.json", path=m.Open311RequestPath,
              response=m.Open311Requests, errors=ERRORS, error_model=m.Open311Errors,
              summary="Open311: one report (a list of one, as the standard has it)")
@open311
def request_one(service_request_id: str):
    try:
        report_id = parse_ref(service_request_id, "service_request_id")
    except QuestionError:
        return _error(404, f"no request {service_request_id[:20]!r}", "service_request_id")
    row = services().store.reports.get(report_id)
    if row is None:
        return _error(404, f"no request {ref_of(report_id)}", "service_request_id")
    body = m.Open311Requests.model_validate([_request_view(row, _district_names())])
    return Response(body.model_dump_json(), mimetype="application/json")


_DECIMAL = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)\s*$")
_NUMBER = {"type": "string", "maxLength": 32, "pattern": _DECIMAL.pattern}
_FORM = {"type": "object", "required": ["service_code"], "additionalProperties": True, "properties": {
    "service_code": {"type": "string", "enum": [k.key for k in REPORT_KINDS]},
    "lat": {**_NUMBER, "description": "WGS-84 latitude (with long; or a station/compound attribute)"},
    "long": {**_NUMBER, "description": "WGS-84 longitude"},
    "description": {"type": "string", "maxLength": 500},
    "attribute[station_id]": {"type": "string", "maxLength": 64},
    "attribute[compound_id]": {"type": "string", "maxLength": 64},
    "attribute[amenity]": {"type": "string", "enum": [a.key for a in AMENITIES]},
    "attribute[rider_code]": {"type": "string", "pattern": m.RIDER_CODE_PATTERN},
}}
_MULTIPART = {**_FORM, "properties": {**_FORM["properties"],
                                      "media": {"type": "string", "format": "binary",
                                                "description": "a JPEG or PNG photo, at most 8 MB (kept without "
                                                               "its metadata)"}}}


def _form_values() -> tuple[dict, bytes | None]:
    declared = request.content_length
    if declared is not None and declared > MAX_FORM_BYTES:
        raise RequestEntityTooLarge()
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise ApiError(415, f"Content-Type {request.content_type or 'missing'!r}: send the request form-encoded "
                            "(application/x-www-form-urlencoded) or as multipart/form-data with the photo as media",
                       "Content-Type")
    request.max_content_length = MAX_FORM_BYTES
    form, files = request.form, request.files
    # Fields this server reads may be given once; others (jurisdiction_id, api_key, a reporter's name …) are
    # ignored as Open311 allows, so giving one of them twice is no error either.
    repeated = [k for k in (*form, *files) if k in _MULTIPART["properties"]
                and len(form.getlist(k)) + len(files.getlist(k)) > 1]
    if repeated:
        raise QuestionError(repeated[0], "given more than once; give each field once")
    if form.get("media_url"):
        raise QuestionError("media_url", "remote photos are not fetched: send the photo itself as the media file")
    values: dict = {"kind": form.get("service_code")}
    for name in _ATTRIBUTES:
        if form.get(f"attribute[{name}]") not in (None, ""):
            values[name] = form.get(f"attribute[{name}]")
    for field, key in (("lat", "lat"), ("long", "lon")):
        text = form.get(field)
        if text not in (None, ""):
            if len(text) > 32 or not _DECIMAL.match(text):
                raise QuestionError(field, "expected a decimal number (WGS-84 degrees)")
            number = float(text)
            values[key] = number
    code = values.get("rider_code")
    if code is not None and not re.fullmatch(m.RIDER_CODE_PATTERN, code):
        # what the document promises, and no more: the app's own form reads a code more leniently
        raise QuestionError("attribute[rider_code]", f"expected {rider_codes.EXPECTED}")
    if form.get("description"):
        values["note"] = form.get("description")
    photo = None
    if "media" in files:
        photo = files["media"].read(MAX_PHOTO_BYTES + 1)
        if not photo:
            photo = None
    return values, photo


@bp.operation("POST", f"{PREFIX}/requests.json",
              body={"application/x-www-form-urlencoded": _FORM, "multipart/form-data": _MULTIPART},
              body_description="service_code; the place as attribute[station_id], attribute[compound_id] or lat and "
                               "long (inside Chengdu); description; media (the photo); attribute[amenity] for a "
                               "broken facility; attribute[rider_code] to earn points",
              response=m.Open311CreatedList, status=201, errors=(400, 413, 415, 429), error_model=m.Open311Errors,
              summary="Open311: send a report (the same problem at the same place within a day is counted on the "
                      "open one)")
@open311
def request_create():
    values, photo = _form_values()
    settings = services().settings
    sent = submit_report(services().store, values, photo=photo, channel="open311",
                         address_key=address_hash(request.remote_addr, settings.secret_key))
    notice = (f"已收到，编号 {sent.ref}" + (f"（已有 {sent.riders} 位骑手报告了这个问题）" if sent.merged else "")
              + f"；{sent.acknowledge_by:%m-%d %H:%M} 前受理，{sent.resolve_by:%m-%d %H:%M} 前解决")
    body = m.Open311CreatedList.model_validate([{"service_request_id": sent.ref, "service_notice": notice}])
    resp = Response(body.model_dump_json(), status=201, mimetype="application/json")
    resp.headers["Location"] = f"{PREFIX}/requests/{sent.ref}.json"
    return resp
