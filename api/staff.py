"""Routes of the staff side: change, create, retire and confirm stations, their history and revert, the feed of changes.

Every route authenticates (:func:`api.auth.require_account`) and the domain authorises: the account's
area decides, whatever the request claims. Writes carry the version loaded in ``If-Match`` and get the
new one in ``ETag``; a stale version is a 412 with the current values and what others changed.
"""
from __future__ import annotations

import re

from flask import Response, request

from api import models as m
from api.auth import STAFF, require_account
from api.errors import ApiError, invalid
from api.params import parse_json_body, parse_query, read_body, services
from api.spec import ApiBlueprint
from api.stations import PREFIX
from exports.ledger import MIMETYPES, WRITERS
from layers.staff import compounds, ledger
from layers.staff import stations as edits

bp = ApiBlueprint("api_staff", __name__)
MAX_EDIT_BYTES = 64 * 1024
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
WRITE_ERRORS = (400, 401, 403, 404, 412, 415, 428)


def _districts():
    return services().store.read("districts")


def _loaded_version(required: bool = True) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise ApiError(428, "version_required", 'send If-Match with the version you loaded (its ETag, e.g. "3")',
                           "If-Match")
        return None
    match = _ETAG.match(header)
    if not match:
        raise invalid("If-Match", 'expected the version as the ETag gave it, e.g. "3"')
    return int(match.group(1))


def _staff_station(row) -> dict:
    out = {name: edits.shown(name, row[name]) for name in m.StaffStation.model_fields if name in row.index}
    out["position"] = edits.shown("position", row.geometry)
    return out


def _row(station_id: str):
    stations = services().store.read("stations")
    hit = stations[stations["id"] == station_id]
    if hit.empty:
        raise ApiError(404, "not_found", f"no station with id {station_id!r}", "id")
    return hit.iloc[0]


def _saved(row, changes, warnings, status: int = 200) -> Response:
    body = m.SavedStation.model_validate({"station": _staff_station(row), "changes": [vars(c) for c in changes],
                                          "warnings": warnings})
    resp = Response(body.model_dump_json(), status=status, mimetype="application/json")
    resp.headers["ETag"] = f'"{int(row["version"])}"'
    return resp


def _result(result: edits.SaveResult, station_id: str) -> Response:
    if result.conflict is not None:
        c = result.conflict
        error = ApiError(412, "version_conflict", f"the station is at version {c.current_version}, not "
                         f"{c.loaded_version}: someone saved it since; merge and send If-Match \"{c.current_version}\"",
                         "If-Match")
        error.extra = {"current": m.StaffStation.model_validate(_staff_station(_row(station_id))).model_dump(mode="json"),
                       "theirs": [vars(ch) for ch in c.theirs]}
        error.headers = {"ETag": f'"{c.current_version}"'}
        raise error
    return _saved(_row(station_id), result.plan.changes, result.plan.warnings)


def _lookup(fn, station_id, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except LookupError:
        raise ApiError(404, "not_found", f"no station with id {station_id!r}", "id") from None


@bp.operation("PATCH", f"{PREFIX}/stations/<station_id>", path=m.StationPath, header=m.VersionHeader,
              body={"application/json": m.StationPatch}, response=m.SavedStation, errors=WRITE_ERRORS, security=STAFF,
              summary="Change some fields of a station (If-Match: the version loaded; the new one in ETag)")
def patch_station(station_id: str):
    account = require_account(write=True)
    loaded = _loaded_version()
    body = parse_json_body(m.StationPatch, MAX_EDIT_BYTES)
    result = _lookup(edits.save_edit, station_id, services().store, account, station_id, body.changed(), loaded,
                     _districts())
    return _result(result, station_id)


@bp.operation("POST", f"{PREFIX}/stations", body={"application/json": m.NewStation}, response=m.SavedStation,
              errors=(400, 401, 403, 415), security=STAFF, status=201,
              summary="Create a station (district admins in their district, city admins anywhere)")
def create_station():
    account = require_account(write=True)
    body = parse_json_body(m.NewStation, MAX_EDIT_BYTES)
    row = edits.create_station(services().store, account, body.changed(), _districts())
    resp = _saved(_row(str(row["id"])), [], [], status=201)
    resp.headers["Location"] = f"{PREFIX}/stations/{row['id']}"
    return resp


@bp.operation("DELETE", f"{PREFIX}/stations/<station_id>", path=m.StationPath, response=m.RetireAnswer,
              errors=(400, 401, 403, 404), security=STAFF,
              summary="Retire a station: hidden from riders and planners, kept with its history")
def retire_station(station_id: str):
    account = require_account(write=True)
    version = _lookup(edits.retire_station, station_id, services().store, account, station_id)
    return Response(m.RetireAnswer(id=station_id, version=version, retired=True).model_dump_json(),
                    mimetype="application/json", headers={"ETag": f'"{version}"'})


@bp.operation("GET", f"{PREFIX}/stations/<station_id>/history", path=m.StationPath, response=m.StationHistory,
              errors=(400, 401, 403, 404), security=STAFF,
              summary="A station's timeline: who, when, each field before and after")
def station_history(station_id: str):
    account = require_account(write=False)
    row = _row(station_id)
    edits.require_station(account, row)
    entries = [{"seq": e.seq, "at": e.at, "user": e.user, "action": e.action, "version": e.version,
                "changes": [vars(c) for c in e.changes]} for e in edits.history(services().store, station_id)]
    return Response(m.StationHistory(id=station_id, entries=entries).model_dump_json(), mimetype="application/json")


@bp.operation("POST", f"{PREFIX}/stations/<station_id>/revert", path=m.StationPath, header=m.VersionHeader,
              body={"application/json": m.RevertBody}, response=m.SavedStation, errors=WRITE_ERRORS, security=STAFF,
              summary="Put a station back as it was after a history entry (a new, audited change)")
def revert_station(station_id: str):
    account = require_account(write=True)
    loaded = _loaded_version(required=False)
    body = parse_json_body(m.RevertBody, MAX_EDIT_BYTES)
    result = _lookup(edits.revert, station_id, services().store, account, station_id, body.seq, _districts(), loaded)
    return _result(result, station_id)


@bp.operation("POST", f"{PREFIX}/stations/<station_id>/confirm", path=m.StationPath, response=m.ConfirmAnswer,
              errors=(400, 401, 403, 404), security=STAFF,
              summary="Confirm a station's information is still correct (who and when; the data is unchanged)")
def confirm_station(station_id: str):
    account = require_account(write=True)
    _row(station_id)
    stamp = edits.confirm(services().store, account, [station_id])
    return Response(m.ConfirmAnswer(id=station_id, confirmed_at=stamp, confirmed_by=account.name).model_dump_json(),
                    mimetype="application/json")


@bp.operation("GET", f"{PREFIX}/changes", query=m.ChangesQuery, response=m.ChangeFeed, errors=(400, 401),
              security=STAFF, summary="Recent changes to the stations of the account's area, newest first")
def changes():
    account = require_account(write=False)
    q = parse_query(m.ChangesQuery)
    store = services().store
    feed = edits.changes_in_area(store, account, since=q.since, until=q.until, adcode=q.adcode, user=q.user,
                                 limit=q.limit)
    return Response(m.ChangeFeed(count=len(feed), changes=feed).model_dump_json(), mimetype="application/json")


MAX_LEDGER_BYTES = 16 * 1024 * 1024
_LEDGER_BODY = {mimetype: {"type": "string", "format": "binary"} for mimetype in MIMETYPES.values()}


@bp.operation("GET", f"{PREFIX}/ledger/stations.<format>", path=m.LedgerPath, query=m.LedgerQuery,
              response_type="application/octet-stream", errors=(400, 401), security=STAFF,
              response_description="the ledger as an attachment",
              summary="The stations the account keeps as the service ledger (服务工作台账): CSV, Excel, GeoJSON, "
                      "GeoPackage")
def ledger_out(format: str):  # noqa: A002 (the route's name for it)
    account = require_account(write=False)
    if format not in WRITERS:
        raise ApiError(404, "not_found", f"no ledger format {format[:20]!r}; formats: csv, xlsx, geojson, gpkg",
                       "format")
    q = parse_query(m.LedgerQuery)
    crs = q.crs if format in ("csv", "xlsx") else "wgs84"
    table = ledger.ledger_table(services().store.read("stations"), account, crs, q.adcode)
    resp = Response(WRITERS[format](table), mimetype=MIMETYPES[format])
    resp.headers.set("Content-Disposition", "attachment", filename=f"stations-ledger{'-' + str(q.adcode) if q.adcode else ''}"
                                                                   f"-{crs}.{format}")
    return resp


@bp.operation("POST", f"{PREFIX}/ledger/stations", query=m.LedgerImportQuery, body=_LEDGER_BODY,
              response=m.LedgerImport, errors=(400, 401, 413, 415), security=STAFF,
              summary="Import an edited ledger: a dry run lists every bad row and every change; without one, all "
                      "rows are written in one transaction or none")
def ledger_in():
    account = require_account(write=True)
    q = parse_query(m.LedgerImportQuery)
    try:
        kind = ledger.kind_of(None, request.mimetype)
    except ledger.LedgerError:
        raise ApiError(415, "unsupported_media_type", "send the ledger as text/csv, an .xlsx workbook, "
                       "application/geo+json or application/geopackage+sqlite3", "Content-Type") from None
    data = read_body(MAX_LEDGER_BYTES)
    try:
        table = ledger.read_ledger(data, kind)
    except ledger.LedgerError as exc:
        raise ApiError(400, "invalid_body", exc.message, exc.field or "body") from None
    store = services().store
    plan = ledger.plan_import(store, account, table, q.crs, _districts())
    dry = q.dry_run == "true"
    if not dry and not plan.ok:
        raise ApiError(400, "invalid_rows", f"{plan.problem_count} rows have problems; nothing was written",
                       "body", plan.problems)
    written = 0 if dry else ledger.apply_import(store, account, plan)
    body = m.LedgerImport(dry_run=dry, ok=plan.ok, written=written, problem_count=plan.problem_count,
                          problems=plan.problems, changes=plan.changes, unchanged=plan.unchanged)
    return Response(body.model_dump_json(), mimetype="application/json")


# -- gates and signs ------------------------------------------------------------------------------------

_FEATURES = {"gates": ("gates", m.GatePatch), "signs": ("wayfinding_signs", m.SignPatch),
             "routes": ("entry_routes", m.RoutePatch)}


def _feature_saved(result: compounds.FeatureSave) -> Response:
    if result.conflict is not None:
        error = ApiError(412, "version_conflict", f"at version {result.conflict['current_version']} now: someone "
                         "saved it since; merge and send If-Match with that version", "If-Match")
        error.extra = {"theirs": result.conflict["theirs"]}
        error.headers = {"ETag": f'"{result.conflict["current_version"]}"'}
        raise error
    body = m.SavedFeature(id=result.id, version=result.version, changes=[vars(c) for c in result.changes])
    return Response(body.model_dump_json(), mimetype="application/json", headers={"ETag": f'"{result.version}"'})


def _patch_feature(kind: str, feature_id: str):
    layer, model = _FEATURES[kind]
    account = require_account(write=True)
    loaded = _loaded_version()
    body = parse_json_body(model, MAX_EDIT_BYTES)
    try:
        result = compounds.save_feature(services().store, account, layer, feature_id, body.changed(), loaded)
    except LookupError:
        raise ApiError(404, "not_found", f"no {kind[:-1]} with id {feature_id!r}", "id") from None
    return _feature_saved(result)


def _feature_history(kind: str, feature_id: str):
    layer, _ = _FEATURES[kind]
    account = require_account(write=False)
    store = services().store
    try:
        row = compounds.feature_row(store, layer, feature_id)
    except LookupError:
        raise ApiError(404, "not_found", f"no {kind[:-1]} with id {feature_id!r}", "id") from None
    compounds.compound_for(store, str(row["compound_id"]), account)
    entries = [{"seq": e.seq, "at": e.at, "user": e.user, "action": e.action, "version": e.version,
                "changes": [vars(c) for c in e.changes]} for e in compounds.feature_history(store, layer, feature_id)]
    return Response(m.FeatureHistory(id=feature_id, entries=entries).model_dump_json(), mimetype="application/json")


@bp.operation("PATCH", f"{PREFIX}/gates/<feature_id>", path=m.FeaturePath, header=m.VersionHeader,
              body={"application/json": m.GatePatch}, response=m.SavedFeature, errors=WRITE_ERRORS, security=STAFF,
              summary="Change a compound gate: may riders pass, with an e-bike, when (If-Match: the version loaded)")
def patch_gate(feature_id: str):
    return _patch_feature("gates", feature_id)


@bp.operation("GET", f"{PREFIX}/gates/<feature_id>/history", path=m.FeaturePath, response=m.FeatureHistory,
              errors=(400, 401, 403, 404), security=STAFF, summary="A gate's timeline")
def gate_history(feature_id: str):
    return _feature_history("gates", feature_id)


@bp.operation("PATCH", f"{PREFIX}/signs/<feature_id>", path=m.FeaturePath, header=m.VersionHeader,
              body={"application/json": m.SignPatch}, response=m.SavedFeature, errors=WRITE_ERRORS, security=STAFF,
              summary="Change a wayfinding sign: its condition (good, damaged, missing), text or kind")
def patch_sign(feature_id: str):
    return _patch_feature("signs", feature_id)


@bp.operation("GET", f"{PREFIX}/signs/<feature_id>/history", path=m.FeaturePath, response=m.FeatureHistory,
              errors=(400, 401, 403, 404), security=STAFF, summary="A sign's timeline")
def sign_history(feature_id: str):
    return _feature_history("signs", feature_id)


@bp.operation("PATCH", f"{PREFIX}/entry_routes/<feature_id>", path=m.FeaturePath, header=m.VersionHeader,
              body={"application/json": m.RoutePatch}, response=m.SavedFeature, errors=WRITE_ERRORS, security=STAFF,
              summary="Mark a compound's entry route blocked (riders are sent another way) or open again")
def patch_route(feature_id: str):
    return _patch_feature("routes", feature_id)


def _revert_feature(kind: str, feature_id: str):
    layer, _ = _FEATURES[kind]
    account = require_account(write=True)
    loaded = _loaded_version(required=False)
    body = parse_json_body(m.RevertBody, MAX_EDIT_BYTES)
    try:
        result = compounds.revert_feature(services().store, account, layer, feature_id, body.seq, loaded)
    except LookupError:
        raise ApiError(404, "not_found", f"no {kind[:-1]} with id {feature_id!r}", "id") from None
    return _feature_saved(result)


@bp.operation("POST", f"{PREFIX}/gates/<feature_id>/revert", path=m.FeaturePath, header=m.VersionHeader,
              body={"application/json": m.RevertBody}, response=m.SavedFeature, errors=WRITE_ERRORS, security=STAFF,
              summary="Put a gate back as it was after a history entry (a new, audited change)")
def revert_gate(feature_id: str):
    return _revert_feature("gates", feature_id)


@bp.operation("POST", f"{PREFIX}/signs/<feature_id>/revert", path=m.FeaturePath, header=m.VersionHeader,
              body={"application/json": m.RevertBody}, response=m.SavedFeature, errors=WRITE_ERRORS, security=STAFF,
              summary="Put a sign back as it was after a history entry (a new, audited change)")
def revert_sign(feature_id: str):
    return _revert_feature("signs", feature_id)


@bp.operation("GET", f"{PREFIX}/entry_routes/<feature_id>/history", path=m.FeaturePath, response=m.FeatureHistory,
              errors=(400, 401, 403, 404), security=STAFF, summary="An entry route's timeline")
def route_history(feature_id: str):
    return _feature_history("routes", feature_id)


@bp.operation("POST", f"{PREFIX}/entry_routes/<feature_id>/revert", path=m.FeaturePath, header=m.VersionHeader,
              body={"application/json": m.RevertBody}, response=m.SavedFeature, errors=WRITE_ERRORS, security=STAFF,
              summary="Put an entry route back as it was after a history entry")
def revert_route(feature_id: str):
    return _revert_feature("routes", feature_id)


@bp.operation("POST", f"{PREFIX}/signs", body={"application/json": m.NewSign}, response=m.SavedFeature,
              errors=(400, 401, 403, 415), security=STAFF, status=201,
              summary="Put up a new wayfinding sign in a compound the account keeps")
def create_sign():
    account = require_account(write=True)
    body = parse_json_body(m.NewSign, MAX_EDIT_BYTES)
    values = body.model_dump()
    row = compounds.new_sign(services().store, account, values)
    resp = Response(m.SavedFeature(id=str(row["id"]), version=int(row["version"]), changes=[]).model_dump_json(),
                    status=201, mimetype="application/json")
    resp.headers["Location"] = f"{PREFIX}/signs/{row['id']}"
    return resp
