"""The planning API: coverage of stored or uploaded demand, siting of new stations, and report downloads."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely
from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from werkzeug.datastructures import Headers
from werkzeug.exceptions import RequestEntityTooLarge

from api.v1 import API_PREFIX, ApiError, _pydantic_error, parse_query, parse_time
from exports import reports
from layers.common.amenities import parse_amenities
from layers.common.geodesy import MAX_RADIUS_M
from layers.planning.coverage import DEFAULT_H3_RES
from layers.planning.demand import (
    CSV_TYPES, GEOJSON_TYPES, MAX_PROBLEMS, MAX_UPLOAD_BYTES, DemandUploadError, parse_demand_upload,
)
from layers.common.hours import as_local
from layers.planning.context import MAX_TOKEN_CHARS, MAX_UPLOADS, PlanningContext
from layers.planning.questions import recommend_sites
from layers.planning.siting import MAX_K
from mapdata.crs import to_wgs84
from layers.common.districts import chengdu_outline
from mapdata.vocabulary import INPUT_CRS

PLANNING_KEY = "nuanxin.planning"
MAX_SITING_BYTES = 8 * 1024 * 1024
#: The default candidate set has about 15,000 sites; a planner's own list stays below that.
MAX_CANDIDATES = 20_000
#: CBC's limit for one exact solve; a web request should not run for minutes.
EXACT_TIME_LIMIT_S = 60.0
H3_RES_MIN, H3_RES_MAX = 5, 10
Crs = Literal["wgs84", "gcj02", "bd09"]
Mode = Literal["straight", "network"]

_RADIUS = dict(gt=0, le=MAX_RADIUS_M, allow_inf_nan=False,
               description=f"metres: great-circle, or riding distance with mode=network; at most {MAX_RADIUS_M:,.0f}")
_AMENITIES = "comma-separated amenity keys; a station counts only with all of them"
_AT = "'now', 'any' (ignore opening hours) or an ISO 8601 time; only stations open then count"
_MODE = "straight: great-circle distance; network: riding distance on the road network where it reaches"


def _empty_is_none(v):
    return None if v == "" else v


class CoverageQuery(BaseModel):
    """Parameters of ``GET``/``POST /api/v1/coverage`` (and of the report downloads)."""

    model_config = ConfigDict(extra="ignore")

    radius_m: float = Field(500.0, **_RADIUS)
    amenities: str = Field("", description=_AMENITIES)
    at: str = Field("now", description=_AT)
    crs: Crs = Field("wgs84", description="coordinate system of an uploaded body (WGS-84, GCJ-02 of Amap, BD-09 "
                                          "of Baidu); answers are always WGS-84")
    mode: Mode = Field("straight", description=_MODE)
    h3_res: int = Field(DEFAULT_H3_RES, ge=H3_RES_MIN, le=H3_RES_MAX, description="H3 resolution of the hexagons")


class WeekQuery(BaseModel):
    """Parameters of ``GET /api/v1/coverage/week``."""

    model_config = ConfigDict(extra="ignore")

    radius_m: float = Field(500.0, **_RADIUS)
    amenities: str = Field("", description=_AMENITIES)
    mode: Mode = Field("straight", description=_MODE)
    week_start: dt.date | None = Field(None, description="any day of the week wanted (YYYY-MM-DD); default this week")

    @field_validator("week_start", mode="before")
    @classmethod
    def _blank(cls, v):
        return _empty_is_none(v)


class CompareQuery(BaseModel):
    """Parameters of ``GET /api/v1/coverage/compare``."""

    model_config = ConfigDict(extra="ignore")

    radius_m: float = Field(500.0, **_RADIUS)
    amenities: str = Field("", description=_AMENITIES)
    mode: Mode = Field("straight", description=_MODE)
    normal_week: dt.date = Field(description="a day of an ordinary week (YYYY-MM-DD)")
    holiday_week: dt.date = Field(description="a day of a public-holiday week (YYYY-MM-DD), e.g. 2026-10-01")


class ReportQuery(CoverageQuery):
    """Parameters of the ``/api/v1/reports/…`` downloads: a coverage question of the stored demand, or of a
    demand uploaded on the planner page."""

    adcode: int | None = Field(None, description="a district: the map's district; for gaps and sites, keep "
                                                 "only those in it")
    k: int | None = Field(None, ge=1, le=MAX_K, description="recommend this many new stations (greedy)")
    week_start: dt.date | None = Field(None, description="coverage.xlsx: the week of its week sheet "
                                                         "(default: the week of at)")
    min_uncovered: float = Field(0.0, ge=0, allow_inf_nan=False,
                                 description="gaps: only hexagons with at least this much uncovered demand")
    demand: str | None = Field(None, max_length=MAX_TOKEN_CHARS,
                               description="the token of a demand uploaded on the planner page (the server keeps "
                                           f"the last {MAX_UPLOADS}); default: the stored demand")
    candidates: str | None = Field(None, max_length=MAX_TOKEN_CHARS,
                                   description="the token of candidate sites uploaded on the planner page; "
                                               "default: the default set")

    @field_validator("adcode", "k", "week_start", "demand", "candidates", mode="before")
    @classmethod
    def _blank(cls, v):
        return _empty_is_none(v)


class CandidateSite(BaseModel):
    """One candidate site of a planner's own list."""

    model_config = ConfigDict(extra="ignore")

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    name: str | None = Field(None, max_length=200)
    id: str | None = Field(None, max_length=100)


class SitingBody(BaseModel):
    """JSON body of ``POST /api/v1/siting``."""

    model_config = ConfigDict(extra="forbid")

    k: int = Field(ge=1, le=MAX_K, description="how many new stations")
    radius_m: float = Field(500.0, **_RADIUS)
    amenities: str | list[str] = Field("", description="amenity keys the existing stations must have to count")
    at: str = Field("now", description="existing stations count when open then ('now', 'any' or ISO 8601); "
                                       "new stations are assumed always open with every amenity")
    mode: Mode = Field("straight", description="how existing stations reach demand: " + _MODE)
    method: Literal["greedy", "exact"] = Field("greedy", description="exact: optimal (CBC), refused when too large")
    crs: Crs | None = Field(None, description="coordinate system of candidates (default: the crs query parameter, "
                                              "else wgs84)")
    candidates: list[CandidateSite] | None = Field(None, min_length=1, max_length=MAX_CANDIDATES,
                                                   description="your own candidate sites; null for the default "
                                                               "set (OSM places, compounds, a 1 km grid)")


class RowsError(ApiError):
    """A 400 that lists the bad rows: ``{"error": {…, "rows": [{"row", "field", "message"}]}}``."""

    def __init__(self, message: str, rows: list[dict], code: str = "invalid_rows", field: str | None = "body"):
        super().__init__(400, code, message, field)
        self.rows = rows

    def response(self) -> Response:
        body = {"error": {"code": self.code, "field": self.field, "message": self.message, "rows": self.rows}}
        resp = jsonify(body)
        resp.status_code = self.status
        return resp


def planning() -> PlanningContext:
    return current_app.extensions[PLANNING_KEY]


def _amenities(value) -> tuple[str, ...]:
    try:
        return parse_amenities(value)
    except ValueError as exc:
        raise ApiError(400, "invalid_parameter", str(exc), "amenities") from None


def _layer_error(exc: ValueError, field: str | None = None) -> ApiError:
    """A domain function refused the question: the planner's mistake, not the server's."""
    return ApiError(400, "invalid_parameter", str(exc), field)


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


def _coverage(model, q: CoverageQuery, keys, at):
    try:
        return model.coverage(q.radius_m, keys, at, q.mode, q.h3_res)
    except ValueError as exc:
        raise _layer_error(exc, "mode" if "network" in str(exc) else None) from None


def _coverage_body(result, q: CoverageQuery, source: str) -> dict:
    body = result.to_dict()
    body["query"].update({"at": body["query"]["at"] or "any", "crs": q.crs, "demand": source})
    return _json_safe(body)


def _upload(q: CoverageQuery):
    """The request body as demand points, or the 4xx that explains why not."""
    ctype = request.mimetype
    if ctype not in GEOJSON_TYPES + CSV_TYPES:
        raise ApiError(415, "unsupported_media_type",
                       f"Content-Type {request.content_type or 'missing'!r}: send the demand points as GeoJSON "
                       "(application/geo+json or application/json) or CSV (text/csv)", "Content-Type")
    request.max_content_length = MAX_UPLOAD_BYTES
    data = request.get_data(cache=False)
    outline = chengdu_outline(planning().districts())
    try:
        return parse_demand_upload(data, ctype, q.crs, outline)
    except DemandUploadError as exc:
        numbered = [p for p in exc.problems if p.get("row") is not None]
        if numbered:
            raise RowsError(exc.message, exc.problems) from None
        field = next((p["field"] for p in exc.problems if p.get("field")), "body")
        raise RowsError(exc.message, exc.problems, code="invalid_body", field=field) from None


def _candidates(body: SitingBody, crs: str):
    """(lon, lat, ids, frame with name/source) of the candidate sites, WGS-84."""
    ctx = planning()
    if body.candidates is None:
        cands = ctx.candidates()
        return cands.geometry.x.to_numpy(), cands.geometry.y.to_numpy(), cands["id"].to_numpy(dtype=object), cands
    raw_lon = np.array([c.lon for c in body.candidates], dtype=float)
    raw_lat = np.array([c.lat for c in body.candidates], dtype=float)
    lon, lat = to_wgs84(raw_lon, raw_lat, crs)
    lon, lat = np.asarray(lon, dtype=float).reshape(-1), np.asarray(lat, dtype=float).reshape(-1)
    outline = chengdu_outline(ctx.districts())
    shapely.prepare(outline)
    outside = np.flatnonzero(~shapely.contains_xy(outline, lon, lat))
    if len(outside):
        rows = [{"row": int(i) + 1, "field": "candidates",
                 "message": f"({raw_lon[i]:.6f}, {raw_lat[i]:.6f}) as {crs} lies outside Chengdu"}
                for i in outside[:MAX_PROBLEMS]]
        raise RowsError(f"{len(outside):,} of {len(lon):,} candidate sites lie outside Chengdu; rows are "
                        "numbered from 1", rows, field="candidates")
    ids = np.array([c.id or f"planner-{i + 1}" for i, c in enumerate(body.candidates)], dtype=object)
    frame = gpd.GeoDataFrame({"id": ids, "name": [c.name for c in body.candidates],
                              "source": ["planner"] * len(ids)},
                             geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    return lon, lat, ids, frame


def _parse_siting_body() -> SitingBody:
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise ApiError(415, "unsupported_media_type",
                       f"Content-Type {request.content_type or 'missing'!r}: send a JSON object (application/json)",
                       "Content-Type")
    request.max_content_length = MAX_SITING_BYTES
    data = request.get_data(cache=False)
    try:
        return SitingBody.model_validate_json(data or b"{}")
    except ValidationError as exc:
        errors = exc.errors()
        if errors[0]["type"] == "json_invalid":
            raise ApiError(400, "invalid_body", f"not valid JSON ({errors[0]['msg']})", "body") from None
        rows = [{"row": e["loc"][1] + 1, "field": ".".join(str(p) for p in e["loc"][2:]) or "candidates",
                 "message": e["msg"]}
                for e in errors if len(e["loc"]) >= 2 and e["loc"][0] == "candidates" and isinstance(e["loc"][1], int)]
        if rows:
            raise RowsError(f"{len(rows):,} candidate site(s) are invalid; rows are numbered from 1",
                            rows[:MAX_PROBLEMS], field="candidates") from None
        raise _pydantic_error(exc) from None


def recommend(model, candidates, radius_m: float, keys, at, mode: str, k: int, method: str = "greedy"):
    """Sites for ``k`` new stations: :func:`layers.planning.questions.recommend_sites`, as the page asks it."""
    question = SimpleNamespace(radius_m=radius_m, amenities=keys, at=at, mode=mode)
    return recommend_sites(model, candidates, question, k, method, time_limit_s=EXACT_TIME_LIMIT_S)


def _stamp(at) -> str:
    return "any" if at is None else at.strftime("%Y%m%dT%H%M")


def _download(data, mimetype: str, filename: str) -> Response:
    headers = Headers()
    headers.set("Content-Disposition", "attachment", filename=filename)
    # the map is HTML with inline scripts: never let a browser guess another type for it
    headers.set("X-Content-Type-Options", "nosniff")
    return Response(data, mimetype=mimetype, headers=headers)


def _district(adcode: int):
    districts = planning().districts()
    row = districts[districts["adcode"].astype(np.int64) == adcode]
    if row.empty:
        raise ApiError(400, "invalid_parameter", f"no district with adcode {adcode}; adcodes: "
                       f"{', '.join(str(a) for a in districts['adcode'])}", "adcode")
    return row.geometry.iloc[0]


def _unknown_upload(field: str) -> ApiError:
    return ApiError(404, "not_found", f"no upload with this {field} token on the server: it is unknown, or "
                    f"older than the last {MAX_UPLOADS} uploads; upload it again on the planner page", field)


class _Report:
    """One report question of the stored (or an uploaded) demand: the coverage result, and the sites when ``k``
    is given."""

    def __init__(self, need_adcode: bool = False):
        self.q = q = parse_query(ReportQuery, request.args)
        if need_adcode and q.adcode is None:
            raise ApiError(400, "invalid_parameter", "required parameter is missing", "adcode")
        self.within = None if q.adcode is None else _district(q.adcode)
        self.keys = _amenities(q.amenities)
        self.at = parse_time(q.at)
        self.model = planning().model() if q.demand is None else planning().model_for_token(q.demand)
        if self.model is None:
            raise _unknown_upload("demand")
        self.candidates = None if q.candidates is None else planning().candidates_for_token(q.candidates)
        if q.candidates is not None and self.candidates is None:
            raise _unknown_upload("candidates")
        self.result = _coverage(self.model, q, self.keys, self.at)
        self.name = f"{q.radius_m:g}m-{_stamp(self.at)}"

    def sites(self, k: int | None = None):
        """(SitingResult, candidates) or (None, None) without ``k``."""
        k = k or self.q.k
        if k is None:
            return None, None
        cands = planning().candidates() if self.candidates is None else self.candidates
        if self.q.adcode is not None:
            cands = cands[cands["adcode"].astype(np.int64) == self.q.adcode].reset_index(drop=True)
        result = recommend(self.model, cands, self.q.radius_m, self.keys, self.at, self.q.mode, k)
        return result, cands


def create_blueprint() -> Blueprint:
    bp = Blueprint("api_planning", __name__)

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return exc.response()

    @bp.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        limit = request.max_content_length or MAX_UPLOAD_BYTES
        return ApiError(413, "payload_too_large", f"the body is larger than {limit // (1024 * 1024)} MB; "
                        "split the demand into several requests", "body").response()

    @bp.get(f"{API_PREFIX}/coverage")
    def coverage_stored():
        q = parse_query(CoverageQuery, request.args)
        keys, at = _amenities(q.amenities), parse_time(q.at)
        return jsonify(_coverage_body(_coverage(planning().model(), q, keys, at), q, "stored"))

    @bp.post(f"{API_PREFIX}/coverage")
    def coverage_upload():
        q = parse_query(CoverageQuery, request.args)
        keys, at = _amenities(q.amenities), parse_time(q.at)
        points = _upload(q)
        model = planning().model_for(points.lon, points.lat, points.weight)
        return jsonify(_coverage_body(_coverage(model, q, keys, at), q, "upload"))

    @bp.get(f"{API_PREFIX}/coverage/week")
    def coverage_week():
        q = parse_query(WeekQuery, request.args)
        keys = _amenities(q.amenities)
        week_start = q.week_start or as_local(dt.datetime.now().astimezone()).date()
        try:
            frame = planning().model().week(q.radius_m, keys, week_start, q.mode)
        except ValueError as exc:
            raise _layer_error(exc) from None
        query = {"radius_m": q.radius_m, "amenities": list(keys), "mode": q.mode,
                 "week_start": frame.attrs["dates"][0].isoformat()}
        return jsonify(_json_safe({
            "query": query, "weekday": list(frame.index), "hours": list(range(24)),
            "dates": [d.isoformat() for d in frame.attrs["dates"]], "day_kind": frame.attrs["day_kind"],
            "holiday": frame.attrs["holiday"], "share": frame.to_numpy().tolist(),
            "point_share": frame.attrs["point_share"]}))

    @bp.get(f"{API_PREFIX}/coverage/compare")
    def coverage_compare():
        q = parse_query(CompareQuery, request.args)
        keys = _amenities(q.amenities)
        try:
            comparison = planning().model().compare_weeks(q.normal_week, q.holiday_week, q.radius_m, keys, q.mode)
        except ValueError as exc:
            raise _layer_error(exc) from None
        body = comparison.to_dict()
        body["query"] = {"radius_m": q.radius_m, "amenities": list(keys), "mode": q.mode,
                         "normal_week": body["normal"]["dates"][0], "holiday_week": body["holiday"]["dates"][0]}
        return jsonify(_json_safe(body))

    @bp.route(f"{API_PREFIX}/coverage", methods=["PUT", "PATCH", "DELETE"])
    def coverage_other():
        raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}; "
                       "use GET (stored demand) or POST (your demand points)")

    @bp.post(f"{API_PREFIX}/siting")
    def siting():
        body = _parse_siting_body()
        crs = body.crs or request.args.get("crs") or "wgs84"
        if crs not in INPUT_CRS:
            raise ApiError(400, "invalid_parameter", f"got {crs!r}; expected wgs84, gcj02 or bd09", "crs")
        keys, at = _amenities(body.amenities), parse_time(body.at)
        lon, lat, ids, cands = _candidates(body, crs)
        model = planning().model()
        try:
            result = recommend(model, cands, body.radius_m, keys, at, body.mode, body.k, body.method)
        except ValueError as exc:
            raise _layer_error(exc, "method" if body.method == "exact" else None) from None
        out = result.to_dict()
        names = cands["name"].to_numpy(dtype=object) if "name" in cands else None
        sources = cands["source"].to_numpy(dtype=object) if "source" in cands else None
        for pick in out["picks"]:
            j = pick["candidate"]
            pick["name"] = names[j] if names is not None and isinstance(names[j], str) else None
            pick["source"] = sources[j] if sources is not None else None
        out["query"] = {"k": body.k, "radius_m": body.radius_m, "amenities": list(keys),
                        "at": at.isoformat() if at else "any", "mode": body.mode, "method": body.method, "crs": crs,
                        "candidates": "default" if body.candidates is None else "given", "n_candidates": len(lon)}
        if body.method == "exact":
            greedy = recommend(model, cands, body.radius_m, keys, at, body.mode, body.k, "greedy")
            out["greedy"] = {"objective": greedy.objective, "share": greedy.share, "added": greedy.added,
                             "points_covered": greedy.points_covered, "seconds": greedy.seconds,
                             "candidates": [int(j) for j in greedy.picks["candidate"]]}
        return jsonify(_json_safe(out))

    @bp.route(f"{API_PREFIX}/siting", methods=["GET", "PUT", "PATCH", "DELETE"])
    def siting_other():
        raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}; use POST "
                       "with a JSON body")

    @bp.get(f"{API_PREFIX}/reports/coverage.csv")
    def report_csv():
        r = _Report()
        return _download(reports.coverage_table_csv(r.result), "text/csv", f"nuanxin-coverage-{r.name}.csv")

    @bp.get(f"{API_PREFIX}/reports/coverage.xlsx")
    def report_xlsx():
        r = _Report()
        week_start = r.q.week_start or (r.at or as_local(dt.datetime.now().astimezone())).date()
        week = r.model.week(r.q.radius_m, r.keys, week_start, r.q.mode)
        return _download(reports.coverage_table_xlsx(r.result, week),
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         f"nuanxin-coverage-{r.name}.xlsx")

    @bp.get(f"{API_PREFIX}/reports/gaps.geojson")
    def report_gaps_geojson():
        r = _Report()
        where = f"-{r.q.adcode}" if r.q.adcode else ""
        return _download(reports.gaps_geojson(r.result, r.q.min_uncovered, r.within), "application/geo+json",
                         f"nuanxin-gaps{where}-{r.name}.geojson")

    @bp.get(f"{API_PREFIX}/reports/gaps.gpkg")
    def report_gaps_gpkg():
        r = _Report()
        sites, cands = r.sites()
        where = f"-{r.q.adcode}" if r.q.adcode else ""
        data = reports.gaps_gpkg(r.result, sites, r.q.min_uncovered, cands, r.within)
        return _download(data, "application/geopackage+sqlite3", f"nuanxin-gaps{where}-{r.name}.gpkg")

    @bp.get(f"{API_PREFIX}/reports/sites.geojson")
    def report_sites():
        r = _Report()
        if r.q.k is None:
            raise ApiError(400, "invalid_parameter", "required parameter is missing", "k")
        sites, cands = r.sites()
        where = f"-{r.q.adcode}" if r.q.adcode else ""
        return _download(reports.sites_geojson(sites, cands), "application/geo+json",
                         f"nuanxin-sites-k{r.q.k}{where}-{r.name}.geojson")

    @bp.get(f"{API_PREFIX}/reports/district_map.html")
    def report_district_map():
        r = _Report(need_adcode=True)
        sites, cands = r.sites()
        model = r.model
        counted = reports.stations_counted(model.stations, r.keys, r.at, model.hours)
        page = reports.district_map_html(r.q.adcode, model.stations, r.result, sites, districts=planning().districts(),
                                         counted=counted, candidates=cands,
                                         generated=as_local(dt.datetime.now().astimezone()))
        return _download(page.encode("utf-8"), "text/html", f"nuanxin-map-{r.q.adcode}-{r.name}.html")

    return bp
