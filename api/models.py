"""Request and response models of the JSON API (pydantic): they validate what comes in, shape what goes
out, and the OpenAPI document is generated from them."""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, RootModel, Strict, field_validator

from layers.common.calendar import check_day
from layers.common.errors import QuestionError
from layers.common.geodesy import MAX_RADIUS_M
from layers.common.hours_ahead import DEFAULT_DAYS as HOURS_AHEAD_DAYS
from layers.common.hours_ahead import MAX_DAYS as HOURS_AHEAD_MAX_DAYS
from layers.common.hours_ahead import MAX_STATIONS as HOURS_AHEAD_MAX_STATIONS
from layers.planning.context import MAX_TOKEN_CHARS, MAX_UPLOADS
from layers.planning.coverage import DEFAULT_H3_RES
from layers.planning.questions import H3_RES_RANGE, MAX_HYPOTHETICAL
from layers.planning.siting import MAX_K
from layers.rider.catalogue import PUBLIC_LAYERS, PUBLIC_PROPERTIES, SIMPLIFY_STEPS_M
from layers.rider.viewport import CELL_PX as VIEW_CELL_PX
from layers.rider.viewport import MAX_FEATURES as VIEW_MAX_FEATURES
from layers.rider.viewport import MAX_ZOOM as VIEW_MAX_ZOOM
from layers.rider.viewport import MIN_ZOOM as VIEW_MIN_ZOOM
from layers.rider.viewport import STATIONS_ZOOM as VIEW_STATIONS_ZOOM
from layers.rider.viewport import check_view
from mapdata.vocabulary import AMENITY_KEYS, REPORT_KIND_KEYS, REPORT_STATES, SIGN_CONDITIONS, SIGN_KINDS, STATION_STATUSES

Crs = Literal["wgs84", "gcj02", "bd09"]
Mode = Literal["straight", "network"]
#: The default candidate set has about 15,000 sites; a planner's own list stays below that.
MAX_CANDIDATES = 20_000

_RADIUS = dict(gt=0, le=MAX_RADIUS_M, allow_inf_nan=False,
               description=f"metres: great-circle, or riding distance with mode=network; at most {MAX_RADIUS_M:,.0f}")
_AMENITIES = f"comma-separated amenity keys ({', '.join(AMENITY_KEYS)}); a station counts only with all of them"
_AT = "'now', 'any' (ignore opening hours) or an ISO 8601 time; only stations open then count"
_MODE = "straight: great-circle distance; network: riding distance on the road network where it reaches"


def _empty_is_none(v):
    return None if v == "" else v


# --- what a query string may hold: plain decimals and ISO days, nothing Python would also accept ------
# (float("30_6") is 306 and pydantic reads "0" as a Unix time for a date: a client's typo must be a 400)

_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
#: a whole number, also written with a zero fraction (60.0), as JSON Schema's integer allows
_INTEGER = re.compile(r"[+-]?\d+(?:\.0*)?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MAX_NUMBER_CHARS = 32


def _matching(pattern: re.Pattern, expected: str):
    def check(v):
        if isinstance(v, str):
            text = v.strip()
            if len(text) > _MAX_NUMBER_CHARS or not pattern.fullmatch(text):
                raise ValueError(f"expected {expected}")
            return text
        return v
    return check


def _in_calendar(day: dt.date) -> dt.date:
    try:
        return check_day(day, "day")
    except QuestionError as exc:
        raise ValueError(exc.message.removeprefix("got ")) from None


# --- what the document says a text parameter may hold: exactly what its parser reads ---------------

def one_or_more(words, sep: str) -> str:
    word = "(?:" + "|".join(re.escape(w) for w in words) + ")"
    return f"{word}(?:{sep}{word})*"


#: ``amenities``: keys separated by commas, semicolons or spaces (parse_amenities), or nothing.
_KEY_SEPARATORS = r"[;,\s]+"
AMENITIES_PATTERN = rf"^[;,\s]*(?:{one_or_more(AMENITY_KEYS, _KEY_SEPARATORS)}[;,\s]*)?$"
#: ``fields``: property names separated by commas, or nothing (every property).
FIELDS_PATTERN = rf"^(?:,*{one_or_more(PUBLIC_PROPERTIES, ',+')},*)?$"
_YEAR = r"(?:19[7-9]\d|2[01]\d\d)"  # the calendar the app answers for: 1970–2199
_DATE = _YEAR + r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_CLOCK = r"(?:[T ](?:[01]\d|2[0-3])(?::[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?)?(?:Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?)?"
#: ``at``: now, any, nothing (now) or an ISO 8601 day or time in 1970–2199.
AT_PATTERN = rf"^(?:now|any|\s*{_DATE}{_CLOCK}\s*)?$"
#: A moment: an ISO 8601 day or time in 1970–2199 (or nothing).
MOMENT_PATTERN = rf"^(?:\s*{_DATE}{_CLOCK}\s*)?$"
#: A day parameter: YYYY-MM-DD in 1970–2199.
DAY_PATTERN = rf"^\s*{_DATE}\s*$"
OPTIONAL_DAY_PATTERN = rf"^(?:\s*{_DATE}\s*)?$"


def _text(pattern: str) -> dict:
    return {"json_schema_extra": {"pattern": pattern}}


def _day(pattern: str = DAY_PATTERN):
    """A day parameter's schema: a string of the pattern (a query string carries text, not a JSON date)."""
    def extra(schema: dict) -> None:
        description = schema.get("description")
        schema.clear()
        schema.update({"type": "string", "pattern": pattern})
        if description:
            schema["description"] = description
    return {"json_schema_extra": extra}


#: pydantic leaves a constraint of an optional annotated number under its own name
_JSON_KEYWORD = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}


def _blank_or(schema_type: str):
    """An optional number that may also be given blank (``k=``: the default)."""
    def extra(schema: dict) -> None:
        options = [{_JSON_KEYWORD.get(k, k): v for k, v in o.items()} for o in schema.pop("anyOf", [])
                   if o.get("type") != "null"]
        schema["anyOf"] = [*options, {"type": "string", "maxLength": 0}]
        if schema.get("default", "") is None:
            del schema["default"]  # absent means the default; null is no value a query string can carry
    return {"json_schema_extra": extra}


QueryFloat = Annotated[float, BeforeValidator(_matching(_DECIMAL, "a decimal number such as 30.66"))]
def _whole(text):
    return text.split(".")[0] if isinstance(text, str) else text


QueryInt = Annotated[int, BeforeValidator(_whole), BeforeValidator(_matching(_INTEGER, "a whole number such as 5"))]
QueryDay = Annotated[dt.date, BeforeValidator(_matching(_DAY, "a day as YYYY-MM-DD")), AfterValidator(_in_calendar)]
def _json_integer(v):
    # JSON Schema's integer is a number without a fraction (100.0 is one); a string or a bool is not
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError("expected a JSON number without a fraction")
    if isinstance(v, float):
        if not v.is_integer():
            raise ValueError("expected a whole number")
        return int(v)
    return v


#: In a JSON body a number is a JSON number: not a string, not true or false.
BodyInt = Annotated[int, BeforeValidator(_json_integer)]
BodyFloat = Annotated[float, Strict()]


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- errors --------------------------------------------------------------------------------------

class RowProblem(BaseModel):
    row: int | None = Field(description="the 1-based data row (CSV header not counted) or feature; null for the "
                                        "whole body")
    field: str | None
    message: str


class ErrorDetail(BaseModel):
    code: Literal["invalid_parameter", "invalid_rows", "invalid_body", "not_found", "method_not_allowed",
                  "unsupported_media_type", "payload_too_large", "limit_exceeded", "http_error", "internal_error",
                  "unauthorized", "forbidden", "csrf", "cross_origin", "version_conflict", "version_required",
                  "rate_limited", "insufficient_points"]
    field: str | None = Field(description="the parameter or field at fault")
    message: str
    rows: list[RowProblem] | None = Field(None, description="invalid_rows / invalid_body: up to 100 problems")
    limit: float | None = Field(None, description="limit_exceeded: the most one request may ask")
    asked: float | None = Field(None, description="limit_exceeded: what this request asked")
    current: StaffStation | None = Field(None, description="version_conflict: the station as it is now")
    theirs: list[FieldChangeOut] | None = Field(None, description="version_conflict: what others changed since "
                                                                  "the version you loaded")
    retry_after: int | None = Field(None, description="rate_limited: seconds to wait (also in Retry-After)")
    balance: int | None = Field(None, description="insufficient_points: the rider code's balance")


class ErrorResponse(BaseModel):
    error: ErrorDetail


# --- stations --------------------------------------------------------------------------------------

class Amenity(BaseModel):
    key: str
    zh: str
    en: str


class AmenityList(RootModel[list[Amenity]]):
    """The amenity vocabulary, in the order shown to riders."""


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=2, description="[lon, lat], WGS-84")


class StationProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(examples=["st-0001"])
    name: str | None = None
    district: str | None = None
    street: str | None = None
    address: str | None = None
    phone: str | None = None
    amenities: list[Literal[AMENITY_KEYS]] | None = None  # type: ignore[valid-type]
    amenities_out: list[Literal[AMENITY_KEYS]] | None = Field(  # type: ignore[valid-type]
        None, description="amenities out of service until status_until (or until cleared)")
    opening_hours: str | None = Field(None, description="OpenStreetMap opening_hours syntax")
    status: Literal[STATION_STATUSES] | None = None  # type: ignore[valid-type]
    status_note: str | None = None
    status_until: dt.datetime | None = None
    confirmed_at: dt.datetime | None = Field(None, description="when staff last confirmed the entry (信息已于…确认)")
    version: int | None = None


class StationFeature(BaseModel):
    type: Literal["Feature"]
    id: str
    geometry: PointGeometry
    properties: StationProperties


class ListedStationProperties(StationProperties):
    """A station's properties in the collection: only the ``fields`` asked for (the feature's id is its ``id``)."""

    id: str | None = Field(None, examples=["st-0001"])


class ListedStationFeature(StationFeature):
    properties: ListedStationProperties


class StationCollection(BaseModel):
    """All stations (only the ``fields`` asked for in each feature's properties)."""

    type: Literal["FeatureCollection"]
    features: list[ListedStationFeature]


class StationsQuery(_Query):
    fields: str = Field("", description="comma-separated properties to include (default: all); the map asks "
                                        "for id,name,status to stay small at national scale", **_text(FIELDS_PATTERN))


_BBOX_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
#: ``bbox``: four plain decimals separated by commas, as Leaflet's ``getBounds().toBBoxString()`` writes them.
BBOX_PATTERN = rf"^{_BBOX_NUMBER},{_BBOX_NUMBER},{_BBOX_NUMBER},{_BBOX_NUMBER}$"


class StationsViewQuery(_Query):
    """Parameters of ``GET /api/v1/stations/view``: what a map shows of its viewport."""

    bbox: str = Field(max_length=200, pattern=BBOX_PATTERN, examples=["104.05,30.64,104.08,30.68"],
                      description="min lon,min lat,max lon,max lat (WGS-84): longitudes within -180..180, "
                                  "latitudes within -90..90, each min below its max")
    zoom: QueryInt = Field(ge=VIEW_MIN_ZOOM, le=VIEW_MAX_ZOOM,
                           description=f"the map's zoom; from {VIEW_STATIONS_ZOOM} the stations themselves, below "
                                       f"it clusters on a {VIEW_CELL_PX} px grid of that zoom")
    fields: str = Field("", description="comma-separated properties of each station (default: id,name,status)",
                        **_text(FIELDS_PATTERN))
    amenities: str = Field("", description="the rider's question, with at: comma-separated amenity keys a station "
                                           "must all have; given either, each cluster counts its stations that "
                                           "answer (answer_count)", **_text(AMENITIES_PATTERN))
    at: str = Field("", description="the rider's question, with amenities: " + _AT + " (default now when "
                                    "amenities are given; blank with no amenities: no answer_count)",
                    **_text(AT_PATTERN))

    @field_validator("bbox")
    @classmethod
    def _box(cls, v: str) -> str:
        try:
            check_view(v.split(","), VIEW_MIN_ZOOM)
        except QuestionError as exc:
            raise ValueError(exc.message) from None
        return v

    @property
    def box(self) -> tuple[float, float, float, float]:
        return tuple(float(x) for x in self.bbox.split(","))  # type: ignore[return-value]


class ViewStationProperties(ListedStationProperties):
    cluster: Literal[False] = Field(description="false: one station")


class ClusterProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cluster: Literal[True] = Field(description="true: stations grouped in one cell of the zoom's pixel grid")
    point_count: int = Field(ge=2, description="stations in the cell")
    open_count: int | None = Field(ge=0, description="of them, open now")
    answer_count: int | None = Field(ge=0, description="of them, those answering the question asked by amenities "
                                                       "and at (null when neither is given)")


class ViewFeature(BaseModel):
    type: Literal["Feature"]
    id: str = Field(description="a station's id, or cluster-{zoom}-{cell px}-{column}-{row} for a cluster")
    bbox: list[float] | None = Field(None, min_length=4, max_length=4,
                                     description="a cluster's members' extent: min lon, min lat, max lon, max lat")
    geometry: PointGeometry = Field(description="the station, or the centroid of a cluster's members")
    properties: ViewStationProperties | ClusterProperties


class StationsView(BaseModel):
    """The stations of a viewport, at most 2,000 features whatever the box."""

    type: Literal["FeatureCollection"]
    bbox: list[float] = Field(min_length=4, max_length=4, description="the box asked about")
    zoom: int
    count: int = Field(ge=0, description="stations inside the box")
    clustered: bool = Field(description="whether features are clusters (or single stations alone in their cell)")
    cell_px: int | None = Field(description="the side of a cluster cell in pixels at this zoom; null when not "
                                            "clustered")
    features: list[ViewFeature] = Field(max_length=VIEW_MAX_FEATURES)


class StationPath(BaseModel):
    station_id: str = Field(max_length=64, description="a station id such as st-0001")


class NearestQuery(_Query):
    lat: QueryFloat = Field(ge=-90, le=90, allow_inf_nan=False, description="latitude, WGS-84")
    lon: QueryFloat = Field(ge=-180, le=180, allow_inf_nan=False, description="longitude, WGS-84")
    amenities: str = Field("", description="comma-separated amenity keys; a station must have all of them",
                           **_text(AMENITIES_PATTERN))
    at: str = Field("now", description=_AT, **_text(AT_PATTERN))
    k: QueryInt = Field(5, ge=1, le=50, description="how many stations")
    sort: Literal["distance", "eta"] = Field("distance", description="rank by great-circle distance or riding time")
    max_distance_m: QueryFloat | None = Field(None, gt=0, le=2_000_000, allow_inf_nan=False,
                                              description="only stations within this great-circle distance",
                                              **_blank_or("number"))

    @field_validator("max_distance_m", mode="before")
    @classmethod
    def _blank(cls, v):
        return _empty_is_none(v)


class NearestResult(BaseModel):
    id: str
    name: str
    lat: float
    lon: float
    distance_m: float = Field(description="great-circle distance")
    eta_min: float = Field(description="riding time at 15 km/h")
    eta_source: Literal["network", "estimate"] = Field(
        description="network: riding distance on the OSM road network; estimate: straight line × 1.3")
    open: bool | None = Field(description="open at the asked time; null when at=any")
    closes_at: dt.datetime | None
    amenities: list[str] = Field(description="amenities in service at the asked time")
    amenities_out: list[str] = Field(description="amenities the station has but are out of service then "
                                                 "(e.g. a microwave under repair)")
    district: str | None
    address: str | None


class NearestEcho(BaseModel):
    lat: float
    lon: float
    amenities: list[str]
    at: str = Field(description="the time asked about (ISO 8601) or 'any'")
    k: int
    sort: str
    max_distance_m: float | None


class NearestResponse(BaseModel):
    query: NearestEcho
    count: int
    results: list[NearestResult]
    holiday_schedule: Literal["notice", "statutory"] | None = Field(
        description="the holidays the asked time's opening hours were read with: notice, the State Council's "
                    "published schedule for that year; statutory, no schedule published yet for that year, so the "
                    "statutory holidays apply (no make-up days); null when at=any")


_STATION_ID = r"[A-Za-z0-9_.:-]{1,64}"
#: ``ids``: one to :data:`HOURS_AHEAD_MAX_STATIONS` station ids separated by commas.
STATION_IDS_PATTERN = rf"^{_STATION_ID}(?:,{_STATION_ID}){{0,{HOURS_AHEAD_MAX_STATIONS - 1}}}$"


class StationHoursQuery(_Query):
    ids: str = Field(description=f"comma-separated station ids, 1 to {HOURS_AHEAD_MAX_STATIONS}; a repeated id is "
                                 "answered once", **_text(STATION_IDS_PATTERN))
    days: QueryInt = Field(HOURS_AHEAD_DAYS, ge=1, le=HOURS_AHEAD_MAX_DAYS,
                           description="how many days ahead of now, 1 to 14")

    @field_validator("ids")
    @classmethod
    def _ids(cls, v: str) -> str:
        ids = v.split(",")
        if len(ids) > HOURS_AHEAD_MAX_STATIONS:
            raise ValueError(f"at most {HOURS_AHEAD_MAX_STATIONS} station ids, got {len(ids)}")
        bad = next((i for i in ids if not re.fullmatch(_STATION_ID, i)), None)
        if bad is not None:
            raise ValueError(f"expected station ids such as st-0001 separated by commas, got {bad[:40]!r}")
        return v


class OpenInterval(BaseModel):
    opens: dt.datetime = Field(description="Asia/Shanghai; the window's start when open at it")
    closes: dt.datetime = Field(description="Asia/Shanghai; the window's end when still open then")


class StationHoursAhead(BaseModel):
    id: str
    name: str
    address: str | None
    phone: str | None
    opening_hours: str | None = Field(description="OpenStreetMap opening_hours syntax")
    status: Literal[STATION_STATUSES]  # type: ignore[valid-type]
    status_note: str | None
    intervals: list[OpenInterval] = Field(description="when it is open in the window, in time order, apart: holidays "
                                                      "(PH, 调休) and temporary closures applied")


class StationHoursResponse(BaseModel):
    start: dt.datetime = Field(description="the window's start: now, to the minute (Asia/Shanghai)")
    end: dt.datetime = Field(description="the window's end: start + days")
    days: int
    holiday_schedule: Literal["notice", "statutory"] = Field(
        description="statutory when a day of the window is in a year with no published holiday notice")
    stations: list[StationHoursAhead] = Field(description="in the order asked")
    missing: list[str] = Field(description="ids asked that no station (any longer) has")


class LayerPath(BaseModel):
    layer: Literal[PUBLIC_LAYERS]  # type: ignore[valid-type]


class LayerQuery(_Query):
    highway: str = Field("", description="roads only: comma-separated OSM highway classes the roads hold")
    # blank (simplify_m=) is read as no simplification, so the document says so (the fuzz sends it)
    simplify_m: Literal[SIMPLIFY_STEPS_M] | None = Field(  # type: ignore[valid-type]
        None, description="simplify lines and polygons to about this many metres, for display", **_blank_or("number"))

    @field_validator("simplify_m", mode="before")
    @classmethod
    def _number(cls, v):
        if v in ("", None):
            return None
        if isinstance(v, str) and not _DECIMAL.fullmatch(v.strip()):
            return v  # refused by the Literal, naming the value
        try:
            return float(v)
        except (TypeError, ValueError):
            return v


class Feature(BaseModel):
    type: Literal["Feature"]
    id: Any = None
    geometry: dict | None
    properties: dict


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[Feature]


# --- coverage --------------------------------------------------------------------------------------

class CoverageQuery(_Query):
    """Parameters of ``GET``/``POST /api/v1/coverage`` (and of the report downloads)."""

    radius_m: QueryFloat = Field(500.0, **_RADIUS)
    amenities: str = Field("", description=_AMENITIES, **_text(AMENITIES_PATTERN))
    at: str = Field("now", description=_AT, **_text(AT_PATTERN))
    crs: Crs = Field("wgs84", description="coordinate system of an uploaded body (WGS-84, GCJ-02 of Amap, BD-09 "
                                          "of Baidu); answers are always WGS-84")
    mode: Mode = Field("straight", description=_MODE)
    h3_res: QueryInt = Field(DEFAULT_H3_RES, ge=H3_RES_RANGE[0], le=H3_RES_RANGE[1],
                        description="H3 resolution of the hexagons")


class _Reach(_Query):
    """What decides which stations count and how far they reach."""

    radius_m: QueryFloat = Field(500.0, **_RADIUS)
    amenities: str = Field("", description=_AMENITIES, **_text(AMENITIES_PATTERN))
    mode: Mode = Field("straight", description=_MODE)


class WeekQuery(_Reach):
    week_start: QueryDay | None = Field(None, description="any day of the week wanted (YYYY-MM-DD); default this week",
                                        **_day(OPTIONAL_DAY_PATTERN))

    @field_validator("week_start", mode="before")
    @classmethod
    def _blank(cls, v):
        return _empty_is_none(v)


class CompareQuery(_Reach):
    normal_week: QueryDay = Field(description="a day of an ordinary week (YYYY-MM-DD)", **_day())
    holiday_week: QueryDay = Field(description="a day of a public-holiday week (YYYY-MM-DD), e.g. 2026-10-01",
                                   **_day())


class Overall(BaseModel):
    demand: float
    covered: float
    share: float | None
    points: int
    points_covered: int
    point_share: float | None


class DistrictCoverage(BaseModel):
    adcode: int
    name: str
    name_en: str
    demand: float
    covered: float
    share: float | None
    points: int
    points_covered: int
    point_share: float | None


class HexagonCoverage(BaseModel):
    h3: str
    demand: float
    covered: float
    points: int
    points_covered: int


class CoverageEcho(BaseModel):
    radius_m: float
    mode: str
    at: str = Field(description="the time asked about (ISO 8601) or 'any'")
    amenities: list[str]
    h3_res: int
    open_stations: int = Field(description="stations counted (amenities and opening hours applied)")
    hypothetical_stations: int = Field(0, description="hypothetical stations added (never counted as stations)")
    network_points: int
    fallback_points: int = Field(description="network mode: points measured in a straight line off the network")
    crs: str
    demand: Literal["stored", "upload"]


class CoverageResponse(BaseModel):
    query: CoverageEcho
    overall: Overall
    districts: list[DistrictCoverage]
    hexagons: list[HexagonCoverage]


class WeekEcho(BaseModel):
    radius_m: float
    amenities: list[str]
    mode: str
    week_start: dt.date


class WeekResponse(BaseModel):
    """Weighted share covered at the top of each hour of a real week (7 × 24, Monday first)."""

    query: WeekEcho
    weekday: list[str]
    hours: list[int]
    dates: list[dt.date]
    day_kind: list[Literal["workday", "weekend", "holiday", "makeup_workday"]]
    holiday: list[str | None]
    share: list[list[float | None]]
    point_share: list[list[float | None]]


class WeekTable(BaseModel):
    weekday: list[str]
    dates: list[dt.date]
    day_kind: list[str]
    holiday: list[str | None]
    share: list[list[float | None]]


class CompareEcho(BaseModel):
    radius_m: float
    amenities: list[str]
    mode: str
    normal_week: dt.date
    holiday_week: dt.date


class CompareResponse(BaseModel):
    query: CompareEcho
    normal: WeekTable
    holiday: WeekTable
    difference: list[list[float | None]] = Field(description="holiday − normal, in share points")


# --- siting ----------------------------------------------------------------------------------------

class CandidateSite(BaseModel):
    """One candidate site of a planner's own list."""

    model_config = ConfigDict(extra="ignore")

    lon: BodyFloat = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: BodyFloat = Field(ge=-90, le=90, allow_inf_nan=False)
    name: str | None = Field(None, max_length=200)
    id: str | None = Field(None, max_length=100)


class SitingBody(BaseModel):
    """JSON body of ``POST /api/v1/siting``."""

    model_config = ConfigDict(extra="forbid")

    k: BodyInt = Field(ge=1, le=MAX_K, description="how many new stations")
    radius_m: BodyFloat = Field(500.0, **_RADIUS)
    amenities: Annotated[str, Field(**_text(AMENITIES_PATTERN))] | list[Literal[AMENITY_KEYS]] = Field(  # type: ignore[valid-type]
        "", description="amenity keys the existing stations must have to count")
    at: str = Field("now", description="existing stations count when open then ('now', 'any' or ISO 8601); "
                                       "new stations are assumed always open with every amenity", **_text(AT_PATTERN))
    mode: Mode = Field("straight", description="how existing stations reach demand: " + _MODE)
    method: Literal["greedy", "exact"] = Field("greedy", description="exact: optimal (CBC), refused when too large")
    crs: Crs | None = Field(None, description="coordinate system of candidates (default: the crs query parameter, "
                                              "else wgs84)")
    candidates: list[CandidateSite] | None = Field(None, min_length=1, max_length=MAX_CANDIDATES,
                                                   description="your own candidate sites; null for the default "
                                                               "set (OSM places, compounds, a 1 km grid)")


class SitingQuery(_Query):
    crs: Crs | None = Field(None, description="coordinate system of the candidates when the body does not say")


class Pick(BaseModel):
    rank: int
    candidate: int = Field(description="position in the candidate list")
    id: str | None
    name: str | None = Field(description="the site's name in Chinese: its district and the nearest named place, "
                                         "street or compound, e.g. 锦江区 · 东风路 附近")
    name_en: str | None = Field(description="the same in English, e.g. Jinjiang · near 东风路")
    coords: str = Field(description="lat, lon to 6 decimals (WGS-84), to copy", examples=["30.657123, 104.065432"])
    adcode: int | None = Field(description="the district the site lies in")
    candidate_name: str | None = Field(description="the candidate's own name (a place, a compound, yours), if any")
    source: str | None
    lon: float
    lat: float
    gain: float = Field(description="weighted demand this pick newly covers")
    gain_points: int
    covered: float
    share: float | None
    points_covered: int
    point_share: float | None


class GreedyEcho(BaseModel):
    objective: float
    share: float | None
    added: float
    points_covered: int
    seconds: float
    candidates: list[int]


class SitingEcho(BaseModel):
    k: int
    radius_m: float
    amenities: list[str]
    at: str
    mode: str
    method: str
    crs: str
    candidates: Literal["default", "given"]
    n_candidates: int


class SitingResponse(BaseModel):
    method: str
    k: int
    objective: float
    share: float | None
    added: float
    points_covered: int
    baseline: float
    baseline_points: int
    total_demand: float
    total_points: int
    seconds: float
    picks: list[Pick]
    query: SitingEcho
    greedy: GreedyEcho | None = Field(None, description="method=exact: the greedy answer for comparison")


# --- reports ---------------------------------------------------------------------------------------

_NUMBER = r"-?[0-9]{1,3}(?:\.[0-9]{1,12})?"
_ADDED_PATTERN = rf"^(?:{_NUMBER},{_NUMBER}(?:;{_NUMBER},{_NUMBER}){{0,{MAX_HYPOTHETICAL - 1}}})?$"
_MAX_ADDED_CHARS = MAX_HYPOTHETICAL * 36
_REMOVED_PATTERN = r"^(?:[A-Za-z0-9_.:-]{1,64}(?:,[A-Za-z0-9_.:-]{1,64})*)?$"
_MAX_REMOVED_CHARS = 20_000


class ReportQuery(CoverageQuery):
    """A coverage question of the stored demand, or of a demand uploaded on the planner page."""

    adcode: QueryInt | None = Field(None, description="a district: the map's district; for gaps and sites, keep "
                                                      "only those in it", **_blank_or("integer"))
    k: QueryInt | None = Field(None, ge=1, le=MAX_K, description="recommend this many new stations (greedy)",
                               **_blank_or("integer"))
    week_start: QueryDay | None = Field(None, description="coverage.xlsx: the week of its week sheet "
                                                         "(default: the week of at)", **_day(OPTIONAL_DAY_PATTERN))
    min_uncovered: QueryFloat = Field(0.0, ge=0, allow_inf_nan=False,
                                 description="gaps: only hexagons with at least this much uncovered demand")
    demand: str | None = Field(None, max_length=MAX_TOKEN_CHARS,
                               description="the token of a demand uploaded on the planner page (the server keeps "
                                           f"the last {MAX_UPLOADS}); default: the stored demand")
    candidates: str | None = Field(None, max_length=MAX_TOKEN_CHARS,
                                   description="the token of candidate sites uploaded on the planner page; "
                                               "default: the default set")
    lang: Literal["zh", "en"] | None = Field(None, description="the language of a table's headings and labels "
                                                               "(CSV and Excel, the Excel week sheet) and of the "
                                                               "district map; default: the CSV's column keys, Excel's "
                                                               "and the map's both languages")
    added: str | None = Field(None, max_length=_MAX_ADDED_CHARS,
                              description="what-if: hypothetical stations as lon,lat;lon,lat (WGS-84, inside "
                                          f"Chengdu, at most {MAX_HYPOTHETICAL}); they are never counted as stations",
                              **_text(_ADDED_PATTERN))
    removed: str | None = Field(None, max_length=_MAX_REMOVED_CHARS,
                                description="what-if: ids of existing stations to leave out, comma-separated",
                                **_text(_REMOVED_PATTERN))

    @field_validator("adcode", "k", "week_start", "demand", "candidates", "lang", "added", "removed", mode="before")
    @classmethod
    def _blank(cls, v):
        return _empty_is_none(v)


class ReportWithSitesQuery(ReportQuery):
    k: QueryInt = Field(ge=1, le=MAX_K, description="recommend this many new stations (greedy)")


class DistrictMapQuery(ReportQuery):
    adcode: QueryInt = Field(description="the district the map shows")
    k: QueryInt | None = Field(None, ge=1, le=MAX_K, description="the planner page's k: the map draws and lists the "
                                                                 "page's k recommended sites (over every candidate, "
                                                                 "those in the district marked); none without k",
                               **_blank_or("integer"))


# --- staff: editing stations ------------------------------------------------------------------------

class Position(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: BodyFloat = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: BodyFloat = Field(ge=-90, le=90, allow_inf_nan=False)


_Amenities = list[Literal[AMENITY_KEYS]]  # type: ignore[valid-type]


class StationPatch(BaseModel):
    """The fields to change (any subset); the version you loaded goes in If-Match."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    address: str | None = Field(None, min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=40, description="null: no phone")
    operator: str | None = Field(None, min_length=1, max_length=100)
    amenities: _Amenities | None = None
    amenities_out: _Amenities | None = Field(None, description="amenities out of service until status_until")
    capacity: BodyInt | None = Field(None, ge=0, le=10_000)
    opening_hours: str | None = Field(None, min_length=1, max_length=500, description="OSM opening_hours")
    status: Literal[STATION_STATUSES] | None = None  # type: ignore[valid-type]
    status_note: str | None = Field(None, max_length=200)
    status_until: str | None = Field(None, max_length=40, description="ISO 8601; null: no end")
    position: Position | None = Field(None, description="WGS-84; a move beyond 200 m is answered with a warning")

    def changed(self) -> dict:
        """The fields the client sent (an explicit null included), as the domain takes them."""
        out = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            out[name] = value.model_dump() if isinstance(value, BaseModel) else value
        return out


class NewStation(StationPatch):
    """A new station: name, address, operator, opening_hours and position are required."""

    name: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=1, max_length=200)
    operator: str = Field(min_length=1, max_length=100)
    opening_hours: str = Field(min_length=1, max_length=500)
    position: Position
    street: str | None = Field(None, max_length=100)


class VersionHeader(BaseModel):
    if_match: str | None = Field(None, max_length=40, description='the version loaded, as the ETag gave it ("3")')


class StaffStation(BaseModel):
    """A station as staff see it: every field, the version and who touched it last."""

    id: str
    name: str
    adcode: int
    district: str
    street: str | None
    address: str
    operator: str
    phone: str | None
    amenities: list[str]
    amenities_out: list[str]
    capacity: int
    opening_hours: str
    status: str
    status_note: str | None
    status_until: dt.datetime | None
    position: Position
    confirmed_at: dt.datetime | None
    confirmed_by: str | None
    retired_at: dt.datetime | None
    version: int
    updated_at: dt.datetime
    updated_by: str


class FieldChangeOut(BaseModel):
    field: str
    before: Any = None
    after: Any = None


class SavedStation(BaseModel):
    station: StaffStation
    changes: list[FieldChangeOut] = Field(description="what this request changed, field by field")
    warnings: list[str] = Field(description="e.g. move:350 (the station moved 350 m)")


class HistoryItem(BaseModel):
    seq: int = Field(description="the entry's number: revert to it with POST …/revert {\"seq\": n}")
    at: dt.datetime
    user: str
    action: str
    version: int | None
    changes: list[FieldChangeOut]


class StationHistory(BaseModel):
    id: str
    entries: list[HistoryItem]


class RevertBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: BodyInt = Field(ge=0, description="the history entry to go back to; 0: as first stored")


class ConfirmAnswer(BaseModel):
    id: str
    confirmed_at: dt.datetime
    confirmed_by: str


class RetireAnswer(BaseModel):
    id: str
    version: int
    retired: bool


class ChangeItem(HistoryItem):
    station: str


class ChangesQuery(_Query):
    since: str | None = Field(None, max_length=40, description="ISO 8601: changes at or after", **_text(MOMENT_PATTERN))
    until: str | None = Field(None, max_length=40, description="ISO 8601: changes at or before", **_text(MOMENT_PATTERN))
    adcode: QueryInt | None = Field(None, description="a district", **_blank_or("integer"))
    user: str | None = Field(None, max_length=64, description="changes by this account")
    limit: QueryInt = Field(200, ge=1, le=1000)

    @field_validator("since", "until", "adcode", "user", mode="before")
    @classmethod
    def _blank(cls, v):
        return _empty_is_none(v)


class ChangeFeed(BaseModel):
    count: int
    changes: list[ChangeItem]


class LedgerPath(BaseModel):
    format: Literal["csv", "xlsx", "geojson", "gpkg"]


class LedgerQuery(_Query):
    adcode: QueryInt | None = Field(None, description="only this district's stations", **_blank_or("integer"))
    crs: Crs = Field("wgs84", description="coordinates of the CSV and Excel ledger (GeoJSON and GeoPackage are "
                                          "WGS-84)")

    @field_validator("adcode", mode="before")
    @classmethod
    def _blank(cls, v):
        return _empty_is_none(v)


class LedgerImportQuery(_Query):
    crs: Crs = Field("wgs84", description="coordinates in the file")
    dry_run: Literal["true", "false"] = Field("true", description="true: only say what would change")


class LedgerProblem(BaseModel):
    row: int
    field: str | None
    message: str


class LedgerChange(BaseModel):
    row: int
    id: str
    name: str
    changes: list[FieldChangeOut]
    warnings: list[str]


class LedgerImport(BaseModel):
    dry_run: bool
    ok: bool = Field(description="no row has a problem (only then is anything written)")
    written: int = Field(description="stations changed (0 on a dry run)")
    problem_count: int
    problems: list[LedgerProblem] = Field(description="up to 100 bad rows: row number, field, what was expected")
    changes: list[LedgerChange]
    unchanged: int


class FeaturePath(BaseModel):
    feature_id: str = Field(max_length=64, description="a gate or sign id")


class GatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    rider_access: Annotated[bool, Strict()] | None = Field(None, description="riders may pass this gate")
    e_bike: Annotated[bool, Strict()] | None = Field(None, description="with an e-bike")
    opening_hours: str | None = Field(None, min_length=1, max_length=500)

    def changed(self) -> dict:
        return {name: getattr(self, name) for name in self.model_fields_set}


class SignPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, min_length=1, max_length=100)
    condition: Literal[SIGN_CONDITIONS] | None = None  # type: ignore[valid-type]
    kind: Literal[SIGN_KINDS] | None = None  # type: ignore[valid-type]

    def changed(self) -> dict:
        return {name: getattr(self, name) for name in self.model_fields_set}


class RoutePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blocked: Annotated[bool, Strict()] = Field(description="true: riders are not sent along this route")

    def changed(self) -> dict:
        return {name: getattr(self, name) for name in self.model_fields_set}


class NewSign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    compound_id: str = Field(max_length=64)
    kind: Literal[SIGN_KINDS]  # type: ignore[valid-type]
    text: str = Field(min_length=1, max_length=100)
    condition: Literal[SIGN_CONDITIONS] = "good"  # type: ignore[valid-type]
    gate_id: str | None = Field(None, max_length=64)
    building_id: str | None = Field(None, max_length=64)
    position: Position


class SavedFeature(BaseModel):
    id: str
    version: int
    changes: list[FieldChangeOut]


class FeatureHistory(BaseModel):
    id: str
    entries: list[HistoryItem]


ErrorDetail.model_rebuild()


# --- riders' reports: the ledger, points, rewards ----------------------------------------------------

_KINDS = Literal[REPORT_KIND_KEYS]  # type: ignore[valid-type]
_STATE_FILTER = Literal["open", "closed", "all", *REPORT_STATES]  # type: ignore[valid-type]
#: A report's reference number as riders quote it (NX000123), or its bare number.
REF_PATTERN = r"^(?:[Nn][Xx]-?)?\d{1,9}$"
#: A rider code (暖新码): 16 letters and digits, in groups of four with or without dashes.
RIDER_CODE_PATTERN = r"^[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}$"


class ReportStep(BaseModel):
    at: str
    state: str
    answer: str


class ReportPublic(BaseModel):
    """A report as riders and anyone see it: never who reported it or who answered."""

    ref: str
    id: int
    kind: str
    kind_zh: str
    kind_en: str
    amenity: str | None
    station_id: str | None
    compound_id: str | None
    place: str
    lon: float
    lat: float
    adcode: int | None
    note: str
    state: str
    state_zh: str
    state_en: str
    open: bool
    riders: int
    received_at: str
    updated_at: str
    acknowledge_by: str
    resolve_by: str
    closed_at: str | None
    answer: str
    verified: bool
    duplicate_of: str | None


class ReportRow(ReportPublic):
    """A report on the ledger: lateness, age, days taken, the version to send back."""

    overdue: list[Literal["acknowledge", "resolve"]]
    age_hours: float
    days_taken: float
    street: str | None
    reason: str | None
    public_answer: str
    verified_by: str | None
    verified_at: str | None
    acknowledged_at: str | None
    version: int
    status_set: dict | None
    channel: str
    points: int


class ReportQueueQuery(_Query):
    state: _STATE_FILTER = Field("open", description="one state, open (new, acknowledged, in progress), closed or all")
    kind: _KINDS | Literal[""] | None = Field(None, description="only this kind")
    overdue: Literal["true", "false"] = Field("false", description="true: only open reports late to acknowledge "
                                                                   "or resolve")
    since: QueryDay | None = Field(None, description="received on or after this day", **_text(OPTIONAL_DAY_PATTERN))
    until: QueryDay | None = Field(None, description="received on or before this day",
                                   **_text(OPTIONAL_DAY_PATTERN))
    station_id: str | None = Field(None, max_length=64, description="only this station's reports")
    offset: QueryInt = Field(0, ge=0, le=10_000_000)
    limit: QueryInt = Field(50, ge=1, le=200)

    @field_validator("since", "until", "kind", "station_id", mode="before")
    @classmethod
    def _blank(cls, v):
        return _empty_is_none(v)


class ReportQueue(BaseModel):
    total: int
    offset: int
    limit: int
    counts: dict[str, int]
    overdue: int
    reports: list[ReportRow]


class ReportPath(BaseModel):
    ref: str = Field(description="the reference number, e.g. NX000123", json_schema_extra={"pattern": REF_PATTERN})


class ReportSighting(BaseModel):
    at: str
    note: str
    photo_id: int | None
    with_code: bool


class ReportPhotoInfo(BaseModel):
    id: int
    media_type: str
    width: int
    height: int


class ReportEvent(BaseModel):
    at: str
    by: str
    action: str
    before: dict | None
    after: dict | None


class ReportDetail(ReportRow):
    sightings: list[ReportSighting]
    photos: list[ReportPhotoInfo]
    history: list[ReportEvent]
    duplicates: list[str]


class ReportAction(BaseModel):
    """A step on the ledger; the version loaded goes in If-Match (optional: without it the step is taken on
    the current version)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["acknowledge", "start", "resolve", "reject", "duplicate", "reopen"]
    answer: str | None = Field(None, max_length=500, description="the public answer the rider reads")
    reason: str | None = Field(None, max_length=500, description="reject: why (required, the rider reads it)")
    duplicate_of: str | None = Field(None, max_length=20, description="duplicate: the report it repeats",
                                     json_schema_extra={"pattern": REF_PATTERN})
    clear_status: bool = Field(False, description="resolve: also end the temporary status this report set")


class ReportStatusBody(BaseModel):
    """The station's temporary status in one step from its report."""

    model_config = ConfigDict(extra="forbid")

    until: str = Field(min_length=10, max_length=40, description="ISO 8601, in the future",
                       json_schema_extra={"pattern": MOMENT_PATTERN})
    note: str | None = Field(None, max_length=200)
    closed: bool = Field(False, description="true: the station is closed; false: the report's amenity is out")


class Award(BaseModel):
    id: int
    points: int


class ConfirmedReport(ReportRow):
    awarded: list[Award] = Field(description="points entries written now (none when it was confirmed before)")


class ReportLedgerPath(BaseModel):
    format: Literal["csv", "xlsx"]


class ReportLedgerQuery(_Query):
    state: _STATE_FILTER = Field("all")
    kind: _KINDS | Literal[""] | None = None
    since: QueryDay | None = Field(None, **_text(OPTIONAL_DAY_PATTERN))
    until: QueryDay | None = Field(None, **_text(OPTIONAL_DAY_PATTERN))

    @field_validator("since", "until", "kind", mode="before")
    @classmethod
    def _blank(cls, v):
        return _empty_is_none(v)


class PhotoPath(BaseModel):
    photo_id: int = Field(ge=1, le=999_999_999)


class RiderPath(BaseModel):
    code: str = Field(description="the rider code (暖新码)", max_length=19, pattern=RIDER_CODE_PATTERN)


class PointsEntry(BaseModel):
    id: int
    at: str
    entry: Literal["award", "redemption", "correction"]
    points: int
    report: str | None
    reward_id: int | None
    station_id: str | None
    note: str


class RiderPoints(BaseModel):
    code: str
    balance: int
    entries: list[PointsEntry]


class Reward(BaseModel):
    id: int
    adcode: int
    name: str
    points: int
    active: bool
    version: int


class RewardList(BaseModel):
    adcode: int
    rewards: list[Reward]


class RewardsQuery(_Query):
    adcode: QueryInt = Field(description="the district's adcode")


class RewardPath(BaseModel):
    reward_id: int = Field(ge=1, le=999_999_999)


class NewReward(BaseModel):
    model_config = ConfigDict(extra="forbid")

    adcode: BodyInt = Field(description="the district whose catalogue it joins")
    name: str = Field(min_length=1, max_length=60)
    points: BodyInt = Field(ge=1, le=100_000)


class RewardPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=60)
    points: BodyInt | None = Field(None, ge=1, le=100_000)
    active: bool | None = None

    def changed(self) -> dict:
        return {k: getattr(self, k) for k in self.model_fields_set if getattr(self, k) is not None}


class RedemptionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reward_id: BodyInt = Field(ge=1, le=999_999_999)
    station_id: str = Field(min_length=1, max_length=64, description="the station where the reward is given")


class CorrectionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: BodyInt = Field(ge=-10_000, le=10_000, description="plus or minus, not 0")
    note: str = Field(min_length=2, max_length=200, description="why")


class PointsTaken(BaseModel):
    entry: PointsEntry
    balance: int
    reward: Reward | None = None


# --- Open311 GeoReport v2 ----------------------------------------------------------------------------

class Open311Error(BaseModel):
    code: int
    description: str
    field: str | None = Field(None, description="the parameter at fault (an extension of the standard)")


class Open311Errors(RootModel[list[Open311Error]]):
    pass


class Open311Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str
    group: str


class Open311Services(RootModel[list[Open311Service]]):
    pass


class Open311Value(BaseModel):
    key: str
    name: str


class Open311Attribute(BaseModel):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[Open311Value] | None = None


class Open311Definition(BaseModel):
    service_code: str
    attributes: list[Open311Attribute]


class Open311ServicePath(BaseModel):
    service_code: _KINDS = Field(description="the service code")


class Open311RequestPath(BaseModel):
    service_request_id: str = Field(description="the reference number, e.g. NX000123",
                                    json_schema_extra={"pattern": REF_PATTERN})


class Open311Request(BaseModel):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None
    address: str
    address_id: str | None
    zipcode: str | None
    lat: float
    long: float
    media_url: str | None
    state: str = Field(description="the ledger's own state behind open/closed (an extension)")
    riders: int = Field(description="how many riders reported it (an extension)")


class Open311Requests(RootModel[list[Open311Request]]):
    pass


class Open311RequestsQuery(_Query):
    service_request_id: str | None = Field(None, max_length=2000, description="reference numbers, comma-separated",
                                           json_schema_extra={"pattern": r"^(?:(?:[Nn][Xx]-?)?\d{1,9}"
                                                                         r"(?:,(?:[Nn][Xx]-?)?\d{1,9}){0,99})?$"})
    service_code: _KINDS | Literal[""] | None = None
    status: Literal["open", "closed", "open,closed", "closed,open", ""] | None = None
    start_date: str | None = Field(None, max_length=40, description="ISO 8601: requested on or after",
                                   json_schema_extra={"pattern": MOMENT_PATTERN})
    end_date: str | None = Field(None, max_length=40, description="ISO 8601: requested before",
                                 json_schema_extra={"pattern": MOMENT_PATTERN})
    jurisdiction_id: str | None = Field(None, max_length=100, description="accepted and ignored: one jurisdiction")


class Open311Created(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None = None
    token: str | None = None


class Open311CreatedList(RootModel[list[Open311Created]]):
    pass
