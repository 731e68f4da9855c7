"""Routes of the planning side: coverage of stored or posted demand, the week, holiday comparison, siting."""
from __future__ import annotations

import threading
import weakref

import numpy as np
from flask import Response, request

from api import models as m
from api.errors import ApiError, from_question, from_upload, invalid
from api.params import parse_amenity_keys, parse_json_body, parse_query, parse_time, read_body, services
from api.spec import ApiBlueprint
from api.stations import PREFIX, answer
from layers.common.caching import BoundedCache
from layers.common.calendar import calendar_generation, to_minute
from layers.common.errors import QuestionError
from layers.planning.coverage import CoverageModel, CoverageResult
from layers.planning.demand import (
    CSV_TYPES,
    GEOJSON_TYPES,
    MAX_UPLOAD_BYTES,
    DemandUploadError,
    parse_demand_upload,
    planner_sites,
)
from layers.planning.questions import CoverageQuestion, check_hexagons, coverage, recommend_sites
from mapdata import clock

MAX_SITING_BYTES = 8 * 1024 * 1024
#: CBC's limit for one exact solve; a web request should not run for minutes.
EXACT_TIME_LIMIT_S = 60.0

#: Encoded answers of the stored demand kept with the model they came from: a new store version builds a new
#: model, and its answers go with the old one. Keyed by the question (its time on the minute, as the model reads
#: it), the calendar's generation (an imported notice changes which minutes are open) and the echoed crs.
STORED_ANSWERS_PER_MODEL = 64

bp = ApiBlueprint("api_coverage", __name__)
_stored_answers: weakref.WeakKeyDictionary[CoverageModel, BoundedCache[bytes]] = weakref.WeakKeyDictionary()
_stored_answers_lock = threading.Lock()

_POINT_FEATURES = {
    "type": "object", "required": ["type", "features"],
    "description": "a FeatureCollection of Points in the crs given, inside Chengdu; optional weight (a number from 0 "
                   "to 1e12, default 1) and time (ISO 8601) properties",
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "minItems": 1, "maxItems": 1_000_000, "items": {
            "type": "object", "required": ["type", "geometry"],
            "properties": {
                "type": {"const": "Feature"},
                "geometry": {"type": "object", "required": ["type", "coordinates"], "properties": {
                    "type": {"const": "Point"},
                    "coordinates": {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"}}}},
                "properties": {"type": ["object", "null"], "properties": {
                    "weight": {"type": "number", "minimum": 0, "maximum": 1e12},
                    "time": {"type": ["string", "null"]}}}}}}},
    "examples": [{"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.0648, 30.6586]},
         "properties": {"weight": 3}}]}],
}
_UPLOAD_BODY = {
    "text/csv": {"type": "string", "description": "a header naming lon and lat, optionally weight and time; one "
                                                  "point inside Chengdu per row",
                 "examples": ["lon,lat,weight\n104.0648,30.6586,3\n"]},
    "application/geo+json": _POINT_FEATURES,
    "application/json": _POINT_FEATURES,
}


def question(q, keys, at, h3_res: int | None = None) -> CoverageQuestion:
    """The domain's question from parsed parameters (a refusal names its field)."""
    try:
        return CoverageQuestion(q.radius_m, keys, at, q.mode, h3_res if h3_res is not None else q.h3_res)
    except QuestionError as exc:
        raise from_question(exc) from None


def _coverage_answer(result: CoverageResult, q: m.CoverageQuery, source: str) -> Response:
    body = result.to_dict()  # its rows are JSON-safe already: only the few other values are looked at
    body["query"].update({"at": body["query"]["at"] or "any", "crs": q.crs, "demand": source})
    body["overall"], body["query"] = _json_safe(body["overall"]), _json_safe(body["query"])
    return answer(m.CoverageResponse, body)


def _json_safe(value):
    """NaN (no demand) as null: JSON has no NaN."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _posted_demand(q: m.CoverageQuery):
    """The request body as demand points, or the 4xx that explains why not."""
    ctype = request.mimetype
    if ctype not in GEOJSON_TYPES + CSV_TYPES:
        raise ApiError(415, "unsupported_media_type",
                       f"Content-Type {request.content_type or 'missing'!r}: send the demand points as GeoJSON "
                       "(application/geo+json or application/json) or CSV (text/csv)", "Content-Type")
    data = read_body(MAX_UPLOAD_BYTES)
    try:
        return parse_demand_upload(data, ctype, q.crs, services().planning.outline())
    except DemandUploadError as exc:
        raise from_upload(exc) from None


@bp.operation("GET", f"{PREFIX}/coverage", query=m.CoverageQuery, response=m.CoverageResponse, errors=(400, 422),
              summary="Coverage of the stored demand by the stations that count (amenities, open at at)")
def coverage_stored():
    q = parse_query(m.CoverageQuery)
    asked = question(q, parse_amenity_keys(q.amenities), parse_time(q.at))
    model = services().planning.model()
    with _stored_answers_lock:
        answers = _stored_answers.setdefault(model, BoundedCache(STORED_ANSWERS_PER_MODEL))
    check_hexagons(model, asked.h3_res)  # a refusal is decided before any kept answer is looked at
    at = None if asked.at is None else to_minute(asked.at)
    key = (asked.radius_m, asked.amenities, at, asked.mode, asked.h3_res, calendar_generation(), q.crs)
    body = answers.get_or_build(key, lambda: _coverage_answer(coverage(model, asked), q, "stored").get_data())
    return Response(body, mimetype="application/json")


@bp.operation("POST", f"{PREFIX}/coverage", query=m.CoverageQuery, response=m.CoverageResponse,
              body=_UPLOAD_BODY, body_description=f"demand points, at most {MAX_UPLOAD_BYTES // 2**20} MB and "
                                                  "1,000,000 rows, in the crs given",
              errors=(400, 413, 415, 422), summary="Coverage of your demand points (CSV or GeoJSON body in the crs given)")
def coverage_posted():
    q = parse_query(m.CoverageQuery)
    asked = question(q, parse_amenity_keys(q.amenities), parse_time(q.at))
    points = _posted_demand(q)
    model = services().planning.model_for(points.lon, points.lat, points.weight)
    return _coverage_answer(coverage(model, asked), q, "upload")


@bp.operation("GET", f"{PREFIX}/coverage/week", query=m.WeekQuery, response=m.WeekResponse, errors=(400, 422),
              summary="Share of the stored demand covered at each hour of a real week (7 × 24, Monday first)")
def coverage_week():
    q = parse_query(m.WeekQuery)
    asked = question(q, parse_amenity_keys(q.amenities), None, h3_res=8)
    week_start = q.week_start or clock.today()
    frame = services().planning.model().week(asked.radius_m, asked.amenities, week_start, asked.mode)
    query = {"radius_m": asked.radius_m, "amenities": list(asked.amenities), "mode": asked.mode,
             "week_start": frame.attrs["dates"][0]}
    return answer(m.WeekResponse, _json_safe({
        "query": query, "weekday": list(frame.index), "hours": list(range(24)), "dates": frame.attrs["dates"],
        "day_kind": frame.attrs["day_kind"], "holiday": frame.attrs["holiday"], "share": frame.to_numpy().tolist(),
        "point_share": frame.attrs["point_share"]}))


@bp.operation("GET", f"{PREFIX}/coverage/compare", query=m.CompareQuery, response=m.CompareResponse, errors=(400, 422),
              summary="Hour-by-hour coverage of a normal week against a public-holiday week, and the difference")
def coverage_compare():
    q = parse_query(m.CompareQuery)
    asked = question(q, parse_amenity_keys(q.amenities), None, h3_res=8)
    comparison = services().planning.model().compare_weeks(q.normal_week, q.holiday_week, asked.radius_m,
                                                           asked.amenities, asked.mode)
    body = comparison.to_dict()
    body["query"] = {"radius_m": asked.radius_m, "amenities": list(asked.amenities), "mode": asked.mode,
                     "normal_week": body["normal"]["dates"][0], "holiday_week": body["holiday"]["dates"][0]}
    return answer(m.CompareResponse, _json_safe(body))


def _candidates(body: m.SitingBody, crs: str):
    planning = services().planning
    if body.candidates is None:
        return planning.candidates()
    try:
        sites = planner_sites([c.lon for c in body.candidates], [c.lat for c in body.candidates], crs,
                              planning.outline(), [c.name for c in body.candidates], [c.id for c in body.candidates])
    except DemandUploadError as exc:
        raise ApiError(400, "invalid_rows", exc.message, "candidates", exc.problems) from None
    return planning.site_namer().label_candidates(sites)


def _picks(result, cands) -> dict:
    """The siting answer; each pick named as every report names it (``name``, ``name_en``, ``coords``, ``adcode``)
    with the candidate's own name and source."""
    out = result.to_dict()
    names = cands["name"].to_numpy(dtype=object) if "name" in cands else None
    sources = cands["source"].to_numpy(dtype=object) if "source" in cands else None
    for pick in out["picks"]:
        j = pick["candidate"]
        pick["candidate_name"] = names[j] if names is not None and isinstance(names[j], str) else None
        pick["source"] = sources[j] if sources is not None else None
    return out


@bp.operation("POST", f"{PREFIX}/siting", query=m.SitingQuery, body={"application/json": m.SitingBody},
              response=m.SitingResponse, errors=(400, 413, 415, 422),
              summary="Where k new stations add the most covered demand (greedy, or exact for small problems with "
                      "the greedy's objective for comparison)")
def siting():
    q = parse_query(m.SitingQuery)
    body = parse_json_body(m.SitingBody, MAX_SITING_BYTES, rows_field="candidates")
    crs = body.crs or q.crs or "wgs84"
    at = parse_time(body.at)
    asked = question(body, parse_amenity_keys(body.amenities), at, h3_res=8)
    cands = _candidates(body, crs)
    model = services().planning.model()
    try:
        result = recommend_sites(model, cands, asked, body.k, body.method, time_limit_s=EXACT_TIME_LIMIT_S)
    except QuestionError as exc:
        raise from_question(exc) from None
    except ValueError as exc:  # the exact solve refused the size, or could not prove optimality
        raise invalid("method", str(exc)) from None
    out = _picks(result, cands)
    out["query"] = {"k": body.k, "radius_m": asked.radius_m, "amenities": list(asked.amenities),
                    "at": at.isoformat() if at else "any", "mode": asked.mode, "method": body.method, "crs": crs,
                    "candidates": "default" if body.candidates is None else "given", "n_candidates": len(cands)}
    if body.method == "exact":
        greedy = recommend_sites(model, cands, asked, body.k)
        out["greedy"] = {"objective": greedy.objective, "share": greedy.share, "added": greedy.added,
                         "points_covered": greedy.points_covered, "seconds": greedy.seconds,
                         "candidates": [int(j) for j in greedy.picks["candidate"]]}
    return answer(m.SitingResponse, _json_safe(out))
