"""Routes of the rider side: the amenity vocabulary, stations (all, one, nearest) and the published map layers."""
from __future__ import annotations

import datetime as dt
import gzip

from flask import Response, request

from api import models as m
from api.errors import ApiError, from_question
from api.params import parse_amenity_keys, parse_query, parse_time, services
from api.spec import ApiBlueprint
from layers.common import geojson
from layers.common.calendar import ScheduleSource, schedule_source, to_minute
from layers.common.errors import QuestionError
from layers.common.hours_ahead import open_intervals
from layers.rider.catalogue import MAP_FIELDS, PUBLIC_PROPERTIES
from mapdata import clock
from mapdata.vocabulary import AMENITIES

PREFIX = "/api/v1"
GEOJSON = "application/geo+json"
#: What a phone shows of a station on its card with no signal, beside the hours.
HOURS_AHEAD_PROPERTIES = ("name", "address", "phone", "opening_hours", "status", "status_note")

bp = ApiBlueprint("api_stations", __name__)


def _catalogue():
    return services().stations


def answer(model, data) -> Response:
    """``data`` shaped by its response model: what the document says is what goes out (validated, then written
    as JSON by pydantic's own serializer: one pass in compiled code, not a dict of plain values then json)."""
    return Response(model.model_validate(data).model_dump_json(), mimetype="application/json")


@bp.operation("GET", f"{PREFIX}/amenities", summary="The amenity vocabulary", response=m.AmenityList, errors=())
def amenities():
    return answer(m.AmenityList, [{"key": a.key, "zh": a.zh, "en": a.en} for a in AMENITIES])


@bp.operation("GET", f"{PREFIX}/stations", summary="All stations as a GeoJSON FeatureCollection",
              query=m.StationsQuery, response=m.StationCollection, response_type=GEOJSON)
def stations():
    q = parse_query(m.StationsQuery)
    fields = tuple(f for f in q.fields.split(",") if f) if q.fields else PUBLIC_PROPERTIES
    catalogue = _catalogue()
    try:
        if "gzip" in request.accept_encodings:
            # compressed once per store version, not per request
            resp = Response(catalogue.feature_collection_gzip(fields), mimetype=GEOJSON)
            resp.headers["Content-Encoding"] = "gzip"
            resp.vary.add("Accept-Encoding")
            return resp
        return Response(catalogue.feature_collection_json(fields), mimetype=GEOJSON)
    except QuestionError as exc:
        raise from_question(exc) from None


@bp.operation("GET", f"{PREFIX}/stations/view", query=m.StationsViewQuery, response=m.StationsView,
              response_type=GEOJSON,
              summary="The stations of a map's viewport: the stations from zoom 14, clusters on the zoom's pixel "
                      "grid below it (with how many answer the question amenities and at ask); at most 2,000 "
                      "features whatever the box")
def stations_view():
    q = parse_query(m.StationsViewQuery)
    fields = tuple(f for f in q.fields.split(",") if f) if q.fields else MAP_FIELDS
    # the rider's question, when asked: clusters count their stations that answer it
    question = (parse_amenity_keys(q.amenities), parse_time(q.at)) if q.amenities.strip() or q.at.strip() else None
    try:
        doc = _catalogue().stations_view(q.box, q.zoom, fields, at=clock.now(), question=question)
    except QuestionError as exc:
        raise from_question(exc) from None
    body = geojson.dumps(doc)
    if "gzip" in request.accept_encodings:
        resp = Response(gzip.compress(body, compresslevel=6, mtime=0), mimetype=GEOJSON)
        resp.headers["Content-Encoding"] = "gzip"
        resp.vary.add("Accept-Encoding")
        return resp
    return Response(body, mimetype=GEOJSON)


@bp.operation("GET", f"{PREFIX}/stations/nearest", query=m.NearestQuery, response=m.NearestResponse,
              summary="The nearest stations that have every asked amenity and are open at the asked time")
def nearest():
    q = parse_query(m.NearestQuery)
    keys = parse_amenity_keys(q.amenities)
    at = parse_time(q.at)
    results = _catalogue().finder.nearest(q.lat, q.lon, amenities=keys, at=at, k=q.k,
                                          max_distance_m=q.max_distance_m, sort=q.sort)
    query = {"lat": q.lat, "lon": q.lon, "amenities": list(keys), "at": at.isoformat() if at else "any",
             "k": q.k, "sort": q.sort, "max_distance_m": q.max_distance_m}
    schedule = None if at is None else schedule_source(at).value
    return answer(m.NearestResponse, {"query": query, "count": len(results), "results": results,
                                      "holiday_schedule": schedule})


@bp.operation("GET", f"{PREFIX}/stations/hours", query=m.StationHoursQuery, response=m.StationHoursResponse,
              summary="When stations are open over the next days: what a phone keeps to say open or closed with "
                      "no signal")
def hours_ahead():
    q = parse_query(m.StationHoursQuery)
    snapshot = _catalogue().snapshot()  # one store version: positions, hours and rows agree
    ids = list(dict.fromkeys(q.ids.split(",")))
    found = [(sid, snapshot.by_id[sid]) for sid in ids if sid in snapshot.by_id]
    begin = to_minute(clock.now())  # the window open_intervals reads
    try:
        intervals = open_intervals(snapshot.finder.hours, [i for _, i in found], begin, q.days)
    except QuestionError as exc:
        raise from_question(exc) from None
    end = begin + dt.timedelta(days=q.days)
    statutory = any(schedule_source((begin + dt.timedelta(days=k)).date()) is ScheduleSource.STATUTORY
                    for k in range(q.days + 1))
    stations = []
    for (sid, i), spans in zip(found, intervals):
        row = snapshot.stations.iloc[i]
        stations.append({"id": sid, **{k: geojson.plain(row[k]) for k in HOURS_AHEAD_PROPERTIES},
                         "intervals": [{"opens": a, "closes": b} for a, b in spans]})
    return answer(m.StationHoursResponse, {
        "start": begin, "end": end, "days": q.days, "holiday_schedule": "statutory" if statutory else "notice",
        "stations": stations, "missing": [sid for sid in ids if sid not in snapshot.by_id]})


@bp.operation("GET", f"{PREFIX}/stations/<station_id>", summary="One station", path=m.StationPath,
              response=m.StationFeature, response_type=GEOJSON, errors=(404,))
def station(station_id: str):
    feature = _catalogue().feature(station_id)
    if feature is None:
        raise ApiError(404, "not_found", f"no station with id {station_id!r}", "id")
    resp = Response(m.StationFeature.model_validate(feature).model_dump_json(), mimetype=GEOJSON)
    resp.headers["ETag"] = f'"{feature["properties"]["version"]}"'  # what a change sends back in If-Match
    return resp


@bp.operation("GET", f"{PREFIX}/layers/<layer>", path=m.LayerPath, query=m.LayerQuery,
              response=m.FeatureCollection, response_type=GEOJSON, errors=(400, 404),
              summary="A whole map layer as GeoJSON (districts, roads, compounds, gates, buildings, entry_routes, "
                      "wayfinding_signs)")
def layer(layer: str):
    q = parse_query(m.LayerQuery)
    highway = tuple(h for h in q.highway.split(",") if h)
    try:
        body = _catalogue().layer_geojson(layer, highway=highway, simplify_m=q.simplify_m)
    except QuestionError as exc:
        if exc.field == "layer":
            raise ApiError(404, "not_found", exc.message, "layer") from None
        raise from_question(exc) from None
    return Response(body, mimetype=GEOJSON)
