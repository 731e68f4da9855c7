"""Routes of riders' reports on the staff side (the ledger, its downloads and photos) and of points and rewards.

The ledger's routes authenticate (:func:`api.auth.require_account`) and the domain authorises by the
account's area. A rider's points are read with the rider code alone (the code is the rider's secret:
no name, no number); redemptions and corrections are staff writes.
"""
from __future__ import annotations

import re

from flask import Response, request

from api import models as m
from api.auth import STAFF, require_account
from api.errors import ApiError
from api.params import parse_json_body, parse_path, parse_query, services
from api.spec import ApiBlueprint
from api.stations import PREFIX
from exports.reports_ledger import MIMETYPES, ledger_csv, ledger_xlsx, summary_csv, summary_xlsx
from layers.staff import points as rider_points
from layers.staff import reports as ledger
from mapdata.store.reports import PointsRefused, ReportConflict

bp = ApiBlueprint("api_rider_reports", __name__)
MAX_BODY = 16 * 1024
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
READ_ERRORS = (400, 401)
WRITE_ERRORS = (400, 401, 403, 412, 415)


def _version() -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    match = _ETAG.match(header)
    if not match:
        raise ApiError(400, "invalid_parameter", 'expected the version as the ETag gave it, e.g. "3"', "If-Match")
    return int(match.group(1))


def _json(model: type, value: dict, status: int = 200, etag: int | None = None) -> Response:
    resp = Response(model.model_validate(value).model_dump_json(), status=status, mimetype="application/json")
    if etag is not None:
        resp.headers["ETag"] = f'"{etag}"'
    return resp


def _conflict(exc: ReportConflict) -> ApiError:
    error = ApiError(412, "version_conflict", f"the report is at version {exc.actual}, not {exc.expected}: someone "
                     f"changed it since; reload it and send If-Match \"{exc.actual}\"", "If-Match")
    error.headers = {"ETag": f'"{exc.actual}"'}
    return error


def _refused(exc: PointsRefused) -> ApiError:
    error = ApiError(409, "insufficient_points", str(exc), "reward_id")
    error.extra = {"balance": exc.balance}
    return error


# -- the ledger -----------------------------------------------------------------------------------------

@bp.operation("GET", f"{PREFIX}/ledger/reports", query=m.ReportQueueQuery, response=m.ReportQueue,
              errors=READ_ERRORS, security=STAFF,
              summary="Riders' reports in the account's area: open ones late to resolve first, then the newest")
def report_queue():
    account = require_account(write=False)
    q = parse_query(m.ReportQueueQuery)
    page = ledger.queue(services().store, account, state=q.state, kind=q.kind, overdue_only=q.overdue == "true",
                        since=q.since, until=q.until, station_id=q.station_id, offset=q.offset, limit=q.limit)
    return _json(m.ReportQueue, {"total": page.total, "offset": page.offset, "limit": page.limit,
                                 "counts": page.counts, "overdue": page.overdue, "reports": page.rows})


@bp.operation("GET", f"{PREFIX}/ledger/reports/<ref>", path=m.ReportPath, response=m.ReportDetail,
              errors=READ_ERRORS, security=STAFF,
              summary="One report: every rider's sighting, its photos, its history (who, when)")
def report_detail(ref: str):
    account = require_account(write=False)
    view = ledger.detail(services().store, account, ref)
    return _json(m.ReportDetail, view, etag=view["version"])


@bp.operation("POST", f"{PREFIX}/ledger/reports/<ref>/actions", path=m.ReportPath, header=m.VersionHeader,
              body={"application/json": m.ReportAction}, response=m.ReportRow, errors=WRITE_ERRORS, security=STAFF,
              summary="Take a step on the ledger: acknowledge, start, resolve, reject (with a reason), duplicate "
                      "(of another report), reopen; audited with who and when")
def report_action(ref: str):
    account = require_account(write=True)
    version = _version()
    body = parse_json_body(m.ReportAction, MAX_BODY)
    try:
        view = ledger.act(services().store, account, ref, body.action, version=version, answer=body.answer,
                          reason=body.reason, duplicate_of=body.duplicate_of, clear_status=body.clear_status)
    except ReportConflict as exc:
        raise _conflict(exc) from None
    return _json(m.ReportRow, view, etag=view["version"])


@bp.operation("POST", f"{PREFIX}/ledger/reports/<ref>/confirm", path=m.ReportPath, header=m.VersionHeader,
              response=m.ConfirmedReport, errors=(400, 401, 403, 412), security=STAFF,
              summary="属实: the report is true; the rider codes that reported it earn the kind's points, once")
def report_confirm(ref: str):
    account = require_account(write=True)
    version = _version()
    try:
        view = ledger.confirm(services().store, account, ref, version=version)
    except ReportConflict as exc:
        raise _conflict(exc) from None
    return _json(m.ConfirmedReport, view, etag=view["version"])


@bp.operation("POST", f"{PREFIX}/ledger/reports/<ref>/status", path=m.ReportPath, header=m.VersionHeader,
              body={"application/json": m.ReportStatusBody}, response=m.ReportRow, errors=(400, 401, 403, 412, 415),
              security=STAFF,
              summary="From a station's report, in one step: its amenity out of service, or the station closed, "
                      "until a time (riders see it at once)")
def report_status(ref: str):
    account = require_account(write=True)
    version = _version()
    body = parse_json_body(m.ReportStatusBody, MAX_BODY)
    try:
        view = ledger.set_temporary_status(services().store, account, ref, until=body.until, note=body.note,
                                           closed=body.closed, version=version)
    except ReportConflict as exc:
        raise _conflict(exc) from None
    return _json(m.ReportRow, view, etag=view["version"])


@bp.operation("GET", f"{PREFIX}/ledger/reports.<format>", path=m.ReportLedgerPath, query=m.ReportLedgerQuery,
              response_type="application/octet-stream", response_description="the ledger as an attachment",
              errors=READ_ERRORS, security=STAFF,
              summary="The reports ledger for the district's review (kind, place, dates, state, days taken, "
                      "overdue) as CSV or Excel; the workbook also holds the monthly summary")
def report_ledger(format: str):  # noqa: A002 (the route's name for it)
    account = require_account(write=False)
    q = parse_query(m.ReportLedgerQuery)
    store = services().store
    rows = ledger.ledger_rows(store, account, state=q.state, kind=q.kind, since=q.since, until=q.until)
    data = ledger_csv(rows) if format == "csv" else ledger_xlsx(rows, ledger.monthly_summary(store, account))
    resp = Response(data, mimetype=MIMETYPES[format])
    resp.headers.set("Content-Disposition", "attachment", filename=f"reports-ledger.{format}")
    return resp


@bp.operation("GET", f"{PREFIX}/ledger/reports/summary.<format>", path=m.ReportLedgerPath,
              response_type="application/octet-stream", response_description="the summary as an attachment",
              errors=READ_ERRORS, security=STAFF,
              summary="Per district and month: reports received, resolved, resolved on time, open, overdue, "
                      "median days")
def report_summary(format: str):  # noqa: A002
    account = require_account(write=False)
    summary = ledger.monthly_summary(services().store, account)
    resp = Response(summary_csv(summary) if format == "csv" else summary_xlsx(summary), mimetype=MIMETYPES[format])
    resp.headers.set("Content-Disposition", "attachment", filename=f"reports-summary.{format}")
    return resp


@bp.operation("GET", f"{PREFIX}/ledger/photos/<photo_id>.jpg", path=m.PhotoPath, response_type="image/jpeg",
              response_description="the photo, re-encoded without metadata", errors=READ_ERRORS, security=STAFF,
              summary="A report's photo (staff of the report's area only)")
def report_photo(photo_id: str):
    photo_id = parse_path(m.PhotoPath, photo_id=photo_id).photo_id
    account = require_account(write=False)
    found = ledger.photo(services().store, account, photo_id)
    resp = Response(found["image"], mimetype=found["media_type"])
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


# -- points and rewards ---------------------------------------------------------------------------------

@bp.operation("GET", f"{PREFIX}/riders/<code>/points", path=m.RiderPath, response=m.RiderPoints, errors=(400,),
              summary="A rider code's points: the balance and the latest entries (award, redemption, correction)")
def points_of(code: str):
    code = parse_path(m.RiderPath, code=code).code
    view = rider_points.rider_points(services().store, code)
    resp = _json(m.RiderPoints, view)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.operation("POST", f"{PREFIX}/riders/<code>/redemptions", path=m.RiderPath,
              body={"application/json": m.RedemptionBody}, response=m.PointsTaken, status=201,
              errors=(400, 401, 403, 409, 415), security=STAFF,
              summary="Redeem points at a station for a reward of its district's catalogue (refused below zero)")
def redeem(code: str):
    code = parse_path(m.RiderPath, code=code).code
    account = require_account(write=True)
    body = parse_json_body(m.RedemptionBody, MAX_BODY)
    try:
        taken = rider_points.redeem(services().store, account, code, body.reward_id, body.station_id)
    except PointsRefused as exc:
        raise _refused(exc) from None
    return _json(m.PointsTaken, taken, status=201)


@bp.operation("POST", f"{PREFIX}/riders/<code>/corrections", path=m.RiderPath,
              body={"application/json": m.CorrectionBody}, response=m.PointsTaken, status=201,
              errors=(400, 401, 403, 409, 415), security=STAFF,
              summary="Correct a rider code's points with a new entry and its reason (district and city admins)")
def correct(code: str):
    code = parse_path(m.RiderPath, code=code).code
    account = require_account(write=True)
    body = parse_json_body(m.CorrectionBody, MAX_BODY)
    try:
        taken = rider_points.correct(services().store, account, code, body.points, body.note)
    except PointsRefused as exc:
        raise _refused(exc) from None
    return _json(m.PointsTaken, taken, status=201)


@bp.operation("GET", f"{PREFIX}/rewards", query=m.RewardsQuery, response=m.RewardList, errors=(400,),
              summary="The rewards a district offers for points")
def rewards():
    q = parse_query(m.RewardsQuery)
    if q.adcode not in set(services().store.read("districts")["adcode"].astype(int)):
        raise ApiError(400, "invalid_parameter", f"no district {q.adcode}", "adcode")
    return _json(m.RewardList, {"adcode": q.adcode, "rewards": rider_points.catalogue(services().store, q.adcode)})


@bp.operation("POST", f"{PREFIX}/rewards", body={"application/json": m.NewReward}, response=m.Reward, status=201,
              errors=(400, 401, 403, 415), security=STAFF,
              summary="Add a reward to a district's catalogue (its district admin, or the city)")
def add_reward():
    account = require_account(write=True)
    body = parse_json_body(m.NewReward, MAX_BODY)
    reward = rider_points.save_reward(services().store, account, body.model_dump())
    return _json(m.Reward, reward, status=201, etag=reward["version"])


@bp.operation("PATCH", f"{PREFIX}/rewards/<reward_id>", path=m.RewardPath, header=m.VersionHeader,
              body={"application/json": m.RewardPatch}, response=m.Reward, errors=WRITE_ERRORS, security=STAFF,
              summary="Change or withdraw (active: false) a reward")
def change_reward(reward_id: str):
    reward_id = parse_path(m.RewardPath, reward_id=reward_id).reward_id
    account = require_account(write=True)
    version = _version()
    body = parse_json_body(m.RewardPatch, MAX_BODY)
    try:
        reward = rider_points.save_reward(services().store, account, body.changed(), reward_id=reward_id,
                                          version=version)
    except ReportConflict as exc:
        raise _conflict(exc) from None
    return _json(m.Reward, reward, etag=reward["version"])
