"""The service ledger (服务工作台账): riders' reports in an account's area, worked through state by state.

One function answers each question, and the staff page, the API and the downloads call the same one:
:func:`queue` (a page of reports, overdue and newest first, with the counts), :func:`detail`,
:func:`act` (acknowledge, start, resolve, reject with a reason, mark a duplicate of another, reopen;
every change audited with who and when, with the public answer the rider sees), :func:`confirm`
(属实: the rider codes that reported it earn points, once), :func:`set_temporary_status` (the
station's amenity out of service or the station closed until a date, in one step; resolving can
clear it), :func:`ledger_rows` and :func:`monthly_summary` (the district's review).

A report is in an account's area as a station is: the city sees all, a district its district, a
street worker its street's, station staff their stations'.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.common.calendar import as_local, check_day, check_moment
from layers.common.errors import AccessDenied, QuestionError
from layers.rider.reports import parse_ref, public_view, ref_of
from layers.staff import stations as station_edits
from layers.staff.accounts import Account
from layers.staff.deadlines import CLOSED_STATES, DueDates, overdue
from mapdata import clock
from mapdata.store import Store
from mapdata.store.reports import ReportConflict
from mapdata.vocabulary import REPORT_KIND_KEYS, REPORT_POINTS, REPORT_STATE_NAMES, REPORT_STATES

OPEN_STATES = ("new", "acknowledged", "in_progress")
#: What each action does: the state it moves to and the states it may start from.
ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "acknowledge": ("acknowledged", ("new",)),
    "start": ("in_progress", ("new", "acknowledged")),
    "resolve": ("resolved", OPEN_STATES),
    "reject": ("rejected", OPEN_STATES),
    "duplicate": ("duplicate", OPEN_STATES),
    "reopen": ("in_progress", ("resolved", "rejected")),
}
PAGE_SIZE = 50
MAX_PAGE = 200
MAX_ANSWER = 500
#: Filters a queue takes: state (one state, "open", "closed" or "all"), kind, overdue only, a day range, a ref.
STATE_FILTERS = ("open", "closed", "all", *REPORT_STATES)


def _iso(t) -> str:
    return as_local(t).replace(microsecond=0).isoformat()


def area_clause(account: Account | None) -> tuple[str, list]:
    """The reports an account may see and work, as a WHERE fragment with its parameters."""
    if account is None:
        return "FALSE", []
    if account.role == "city":
        return "TRUE", []
    if account.role == "district" and account.adcode is not None:
        return "adcode = ?", [int(account.adcode)]
    if account.role == "street" and account.adcode is not None and account.street:
        return "adcode = ? AND street = ?", [int(account.adcode), account.street]
    if account.role == "station" and account.stations:
        return f"station_id IN ({','.join('?' * len(account.stations))})", list(account.stations)
    return "FALSE", []


def in_area(account: Account | None, row: Mapping) -> bool:
    if account is None:
        return False
    if account.role == "city":
        return True
    if account.role == "district":
        return account.adcode is not None and row["adcode"] == account.adcode
    if account.role == "street":
        return account.adcode is not None and row["adcode"] == account.adcode and row["street"] == account.street
    if account.role == "station":
        return row["station_id"] is not None and row["station_id"] in account.stations
    return False


def _report(store: Store, account: Account, report_id) -> dict:
    if isinstance(report_id, str):
        report_id = parse_ref(report_id, "id")
    if isinstance(report_id, bool) or not isinstance(report_id, (int, np.integer)) or not 0 < report_id < 10**9:
        raise QuestionError("id", "expected a report's number")
    row = store.reports.get(int(report_id))
    if row is None or not in_area(account, row):
        # the same answer for "no such report" and "not yours": nothing leaks about other areas
        raise QuestionError("id", f"no report {ref_of(int(report_id))} in this account's area")
    return row


def _due(row: Mapping) -> DueDates:
    return DueDates(as_local(row["received_at"]), as_local(row["acknowledge_by"]), as_local(row["resolve_by"]))


def lateness(row: Mapping, now) -> list[str]:
    """What is late about a report at ``now``: ``acknowledge``, ``resolve``, both or neither."""
    return overdue(_due(row), row["state"], now, row["acknowledged_at"], row["closed_at"])


def staff_view(row: Mapping, now) -> dict:
    """A report as the ledger shows it: the public view with lateness, age, days taken and the verification."""
    out = public_view(dict(row))
    out.pop("steps")
    now = as_local(now)
    received = as_local(row["received_at"])
    end = as_local(row["closed_at"]) if row["closed_at"] else now
    out.update(overdue=lateness(row, now), age_hours=round((now - received).total_seconds() / 3600, 1),
               days_taken=round((end - received).total_seconds() / 86400, 2), street=row["street"],
               reason=row["reason"], public_answer=row["public_answer"], verified_by=row["verified_by"],
               verified_at=row["verified_at"], acknowledged_at=row["acknowledged_at"], version=int(row["version"]),
               status_set=_status_set(row), channel=row["channel"],
               points=REPORT_POINTS.get(row["kind"], 0))
    return out


def _status_set(row: Mapping) -> dict | None:
    import json
    value = row["status_set"]
    return json.loads(value) if isinstance(value, str) and value else None


@dataclass(frozen=True)
class QueuePage:
    rows: list[dict]
    total: int
    offset: int
    limit: int
    counts: dict[str, int]      # by state, in the account's area
    overdue: int                # open reports late at now (to acknowledge or to resolve)


def _filters(account: Account, state: str = "open", kind: str | None = None, overdue_only: bool = False,
             since=None, until=None, station_id: str | None = None, now=None) -> tuple[str, list]:
    where, params = area_clause(account)
    clauses, args = [f"({where})"], list(params)
    if state not in STATE_FILTERS:
        raise QuestionError("state", f"expected one of {', '.join(STATE_FILTERS)}")
    if state == "open":
        clauses.append("state IN ('new', 'acknowledged', 'in_progress')")
    elif state == "closed":
        clauses.append("state IN ('resolved', 'rejected', 'duplicate')")
    elif state != "all":
        clauses.append("state = ?")
        args.append(state)
    if kind not in (None, ""):
        if kind not in REPORT_KIND_KEYS:
            raise QuestionError("kind", f"expected one of {', '.join(REPORT_KIND_KEYS)}")
        clauses.append("kind = ?")
        args.append(kind)
    if station_id not in (None, ""):
        if not isinstance(station_id, str) or len(station_id) > 64:
            raise QuestionError("station_id", "expected a station's id")
        clauses.append("station_id = ?")
        args.append(station_id)
    if since not in (None, ""):
        clauses.append("received_at >= ?")
        args.append(dt.datetime.combine(check_day(since, "since"), dt.time()).isoformat() + "+08:00")
    if until not in (None, ""):
        clauses.append("received_at < ?")
        args.append(dt.datetime.combine(check_day(until, "until") + dt.timedelta(days=1), dt.time()).isoformat()
                    + "+08:00")
    if overdue_only:
        stamp = _iso(now)
        clauses.append("((state = 'new' AND acknowledge_by < ?) OR (state IN ('new', 'acknowledged', 'in_progress') "
                       "AND resolve_by < ?))")
        args += [stamp, stamp]
    return " AND ".join(clauses), args


def queue(store: Store, account: Account, *, state: str = "open", kind: str | None = None,
          overdue_only: bool = False, since=None, until=None, station_id: str | None = None, offset: int = 0,
          limit: int = PAGE_SIZE, now=None) -> QueuePage:
    """A page of the reports in the account's area: open ones late to resolve first (the most overdue first),
    then the newest; with the count per state and of overdue open reports."""
    now = as_local(check_moment(now or clock.now(), "now"))
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise QuestionError("limit", f"expected a whole number from 1 to {MAX_PAGE}")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= 10**7:
        raise QuestionError("offset", "expected a whole number from 0")
    where, args = _filters(account, state, kind, overdue_only, since, until, station_id, now)
    stamp = _iso(now)
    late = "(state IN ('new', 'acknowledged', 'in_progress') AND (resolve_by < ? OR (state = 'new' AND " \
           "acknowledge_by < ?)))"
    order = f"{late} DESC, CASE WHEN {late} THEN resolve_by END ASC, received_at DESC, id DESC"
    rows = store.reports.select(where, [*args, stamp, stamp, stamp, stamp], order=order, limit=limit, offset=offset)
    total = store.reports.count(where, args)
    area, area_args = area_clause(account)
    counts = store.reports.count(area, area_args, group="state")
    late_where, late_args = _filters(account, "open", overdue_only=True, now=now)
    return QueuePage([staff_view(r, now) for r in rows], int(total), offset, limit,
                     {s: int(counts.get(s, 0)) for s in REPORT_STATES}, int(store.reports.count(late_where, late_args)))


def detail(store: Store, account: Account, report_id, now=None) -> dict:
    """One report for the ledger: the staff view, every rider's sighting (notes, photos), its history and the
    rider codes' count (never the codes)."""
    row = _report(store, account, report_id)
    out = staff_view(row, now or clock.now())
    out["sightings"] = [{"at": s["at"], "note": s["note"], "photo_id": s["photo_id"], "with_code": bool(s["with_code"])}
                        for s in store.reports.sightings(row["id"])]
    out["photos"] = store.reports.photos_of(row["id"])
    out["history"] = [{"at": e["at"], "by": e["user"], "action": e["action"], "before": e["before"],
                       "after": e["after"]} for e in store.reports.events(row["id"])]
    out["duplicates"] = [ref_of(r["id"]) for r in store.reports.select("duplicate_of = ?", [row["id"]],
                                                                       columns="id")]
    return out


def photo(store: Store, account: Account, photo_id) -> dict:
    """A report's photo for staff of its area (riders' photos are not public)."""
    if isinstance(photo_id, bool) or not isinstance(photo_id, (int, np.integer)) or not 0 < photo_id < 10**9:
        raise QuestionError("photo_id", "expected a photo's number")
    found = store.reports.photo(int(photo_id))
    if found is None:
        raise QuestionError("photo_id", "no such photo in this account's area")
    _report(store, account, int(found["report_id"]))
    return found


def _answer(value, field: str = "answer") -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > MAX_ANSWER:
        raise QuestionError(field, f"expected text of at most {MAX_ANSWER} characters")
    return value.strip()


def _version(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise QuestionError("version", "expected the report's version as loaded (a whole number from 1)")
    return int(value)


def act(store: Store, account: Account, report_id, action: str, *, version: int | None = None,
        answer: str | None = None, reason: str | None = None, duplicate_of=None, clear_status: bool = False,
        districts: gpd.GeoDataFrame | None = None, now=None) -> dict:
    """Move a report to its next state (see :data:`ACTIONS`), audited with who and when and the public answer.

    ``reject`` needs a reason; ``duplicate`` the report it repeats (in the same area, still counted: its
    riders move there); ``resolve`` with ``clear_status`` ends the temporary status this report set.
    A stale ``version`` raises ReportConflict (nothing written).
    """
    if action not in ACTIONS:
        raise QuestionError("action", f"expected one of {', '.join(ACTIONS)}")
    row = _report(store, account, report_id)
    target_state, sources = ACTIONS[action]
    if row["state"] not in sources:
        raise QuestionError("action", f"a report that is {row['state']} cannot be {action}d; from "
                                      f"{row['state']}: " + ", ".join(a for a, (_, s) in ACTIONS.items()
                                                                      if row["state"] in s) or "nothing")
    version = _version(version)
    if version is not None and version != int(row["version"]):
        raise ReportConflict(int(row["id"]), version, int(row["version"]))
    now = as_local(check_moment(now or clock.now(), "now")).replace(microsecond=0)
    stamp = now.isoformat()
    answer_text = _answer(answer)
    values, merge_into = _transition(store, account, row, action, target_state, stamp, answer_text, reason,
                                     duplicate_of)
    status = _status_set(row)
    if clear_status:
        if action != "resolve":
            raise QuestionError("clear_status", "only resolving a report ends the temporary status it set")
        if status is None or status.get("cleared"):
            raise QuestionError("clear_status", "this report set no temporary status that is still on")
    public = {"answer": answer_text or (values.get("reason") or "")}
    after, _ = store.reports.change(int(row["id"]), values, expected_version=int(row["version"]),
                                    by=account.name, at=stamp, action="report_state", public=public,
                                    merge_into=merge_into)
    if clear_status:
        _clear_status(store, account, after, status, districts if districts is not None else store.read("districts"),
                      now)
        after = store.reports.get(int(row["id"]))
    return staff_view(after, now)


def _transition(store: Store, account: Account, row: Mapping, action: str, target_state: str, stamp: str,
                answer_text: str, reason, duplicate_of) -> tuple[dict, int | None]:
    """The report's new values for an action, and the report a duplicate folds into."""
    values: dict = {"state": target_state}
    if answer_text:
        values["public_answer"] = answer_text
    if row["acknowledged_at"] is None and target_state != "new":
        values["acknowledged_at"] = stamp
    merge_into = None
    if action == "reject":
        why = _answer(reason, "reason")
        if len(why) < 2:
            raise QuestionError("reason", "say why the report is not taken up (the rider reads it)")
        values["reason"] = why
    if action == "duplicate":
        if duplicate_of in (None, ""):
            raise QuestionError("duplicate_of", "name the report this one repeats (its reference number)")
        other = _report(store, account, duplicate_of if isinstance(duplicate_of, (int, np.integer))
                        else parse_ref(duplicate_of, "duplicate_of"))
        while other["state"] == "duplicate" and other["duplicate_of"]:
            other = _report(store, account, int(other["duplicate_of"]))
        if other["id"] == row["id"]:
            raise QuestionError("duplicate_of", "a report cannot repeat itself")
        values["duplicate_of"] = int(other["id"])
        merge_into = int(other["id"])
    if target_state in CLOSED_STATES:
        values["closed_at"] = stamp
    elif action == "reopen":
        values["closed_at"] = None
    return values, merge_into


def _award_codes(store: Store, row: Mapping, at: str) -> list[str]:
    codes = store.reports.codes_of(int(row["id"]), before=at)
    for dup in store.reports.select("duplicate_of = ?", [int(row["id"])], columns="id"):
        codes += [c for c in store.reports.codes_of(int(dup["id"]), before=at) if c not in codes]
    return codes


def _loaded(row: Mapping, version) -> None:
    """ReportConflict when the caller loaded ``version`` and the report has moved on since (None: not checked)."""
    version = _version(version)
    if version is not None and version != int(row["version"]):
        raise ReportConflict(int(row["id"]), version, int(row["version"]))


def confirm(store: Store, account: Account, report_id, *, version: int | None = None, now=None) -> dict:
    """属实: the report is true. Each rider code that reported it (or a duplicate of it) before now earns the
    kind's points, once: confirming again, or by someone else, pays nothing more. With ``version`` (as the
    caller loaded it), a report changed since is refused with ReportConflict, in the same write."""
    row = _report(store, account, report_id)
    _loaded(row, version)
    if row["state"] in ("rejected", "duplicate"):
        raise QuestionError("action", f"a {row['state']} report cannot be confirmed as true")
    now = as_local(check_moment(now or clock.now(), "now")).replace(microsecond=0)
    stamp = now.isoformat()
    values = {} if row["verified_at"] else {"verified_at": stamp, "verified_by": account.name}
    if not values:
        return {**staff_view(row, now), "awarded": []}
    amount = REPORT_POINTS.get(row["kind"], 0)
    awards = [(c, amount) for c in _award_codes(store, row, stamp)] if amount > 0 else []
    after, written = store.reports.change(int(row["id"]), values, expected_version=int(row["version"]),
                                          by=account.name, at=stamp, action="report_confirm", awards=awards)
    return {**staff_view(after, now), "awarded": written}


def set_temporary_status(store: Store, account: Account, report_id, *, until, note: str | None = None,
                         closed: bool = False, version: int | None = None, districts: gpd.GeoDataFrame | None = None,
                         now=None) -> dict:
    """In one step from a station's report: its amenity out of service (a facility_broken report), or the whole
    station closed (``closed``), until ``until``; riders see it at once. The report remembers what it set. With
    ``version`` (as the caller loaded the report), a report changed since is refused with ReportConflict."""
    row = _report(store, account, report_id)
    _loaded(row, version)
    if not row["station_id"]:
        raise QuestionError("id", "only a report about a station can set the station's temporary status")
    if row["state"] not in OPEN_STATES:
        raise QuestionError("action", "the report is closed; open the station editor instead")
    if not isinstance(closed, bool):
        raise QuestionError("closed", "expected true (the station is closed) or false (an amenity is out)")
    if not closed and row["amenity"] is None:
        raise QuestionError("closed", "this report names no amenity: set the station closed, or use the editor")
    districts = districts if districts is not None else store.read("districts")
    station = station_edits.row_by_id(store, "stations", row["station_id"])
    values: dict = {"status_until": until}
    if note not in (None, ""):
        values["status_note"] = note
    if closed:
        values["status"] = "closed_temporarily"
    else:
        values["amenities_out"] = sorted(set(station["amenities_out"]) | {row["amenity"]})
    result = station_edits.save_edit(store, account, row["station_id"], values, int(station["version"]), districts,
                                     now=now, action="report_status")
    if result.conflict is not None:   # a save came between the read and the write: try once on the new version
        result = station_edits.save_edit(store, account, row["station_id"], values,
                                         result.conflict.current_version, districts, now=now, action="report_status")
        if result.conflict is not None:
            raise QuestionError("station_id", "the station is being edited right now; try again")
    now_l = as_local(check_moment(now or clock.now(), "now")).replace(microsecond=0)
    status = {"station": row["station_id"], "closed": closed, "amenity": None if closed else row["amenity"],
              "until": station_edits.shown("status_until", result.plan.values.get("status_until"))
              if result.plan.values.get("status_until") is not None else None, "cleared": False}
    values_r: dict = {"status_set": status}
    if row["acknowledged_at"] is None:
        values_r.update(acknowledged_at=now_l.isoformat(), state="in_progress")
    elif row["state"] == "acknowledged":
        values_r["state"] = "in_progress"
    # the station is written already: the report's own note of it must not fail on a version now
    after, _ = store.reports.change(int(row["id"]), values_r, expected_version=None, by=account.name,
                                    at=now_l.isoformat(), action="report_state" if "state" in values_r
                                    else "report_status", public={"answer": ""})
    return staff_view(after, now_l)


def _clear_status(store: Store, account: Account, row: Mapping, status: Mapping, districts, now) -> None:
    station = station_edits.row_by_id(store, "stations", status["station"])
    if status.get("closed"):
        values = {"status": "open"} if station["status"] != "open" else {}
    else:
        out = set(station["amenities_out"]) - {status.get("amenity")}
        values = {"amenities_out": sorted(out)} if out != set(station["amenities_out"]) else {}
        if not out and station["status"] == "open":
            values.update(status_until=None, status_note=None)
    if values:
        result = station_edits.save_edit(store, account, status["station"], values, int(station["version"]),
                                         districts, now=now, action="report_clear")
        if result.conflict is not None:
            raise QuestionError("clear_status", "the station was saved meanwhile; clear it in the editor")
    store.reports.change(int(row["id"]), {"status_set": {**status, "cleared": True}}, expected_version=None,
                         by=account.name, at=as_local(now).replace(microsecond=0).isoformat(),
                         action="report_status")


# -- the district's review ------------------------------------------------------------------------------
LEDGER_COLUMNS = ("ref", "kind", "place", "district", "street", "received_at", "acknowledged_at", "closed_at",
                  "state", "days_taken", "overdue", "riders", "verified", "answer")
MAX_LEDGER_ROWS = 200_000


def ledger_rows(store: Store, account: Account, *, state: str = "all", kind: str | None = None,
                since=None, until=None, now=None) -> pd.DataFrame:
    """The ledger for the review (every report the filters take, oldest first): kind, place, dates, state,
    days taken, overdue."""
    now = as_local(check_moment(now or clock.now(), "now"))
    where, args = _filters(account, state, kind, False, since, until, None, now)
    total = store.reports.count(where, args)
    if total > MAX_LEDGER_ROWS:
        raise QuestionError("since", f"{total} reports; at most {MAX_LEDGER_ROWS} in one file: narrow the days")
    names = dict(zip(store.read("districts")["adcode"].astype(int), store.read("districts")["name"]))
    out = []
    for r in store.reports.select(where, args, order="received_at, id"):
        view = staff_view(r, now)
        out.append({"ref": view["ref"], "kind": r["kind"], "place": r["place"], "district": names.get(r["adcode"], ""),
                    "street": r["street"] or "", "received_at": r["received_at"],
                    "acknowledged_at": r["acknowledged_at"] or "", "closed_at": r["closed_at"] or "",
                    "state": r["state"], "days_taken": view["days_taken"], "overdue": ",".join(view["overdue"]),
                    "riders": int(r["riders"]), "verified": r["verified_at"] is not None,
                    "answer": r["public_answer"] or (r["reason"] or "")})
    return pd.DataFrame(out, columns=list(LEDGER_COLUMNS))


SUMMARY_COLUMNS = ("month", "adcode", "district", "received", "resolved", "resolved_on_time", "open", "overdue",
                   "median_days")


def monthly_summary(store: Store, account: Account, *, now=None) -> pd.DataFrame:
    """Per district and month (of receipt): reports received, resolved, resolved on time, still open, overdue now,
    and the median days from receipt to closing of the closed ones."""
    now = as_local(check_moment(now or clock.now(), "now"))
    where, args = area_clause(account)
    rows = store.reports.select(where, args, order="received_at",
                                columns="adcode, state, received_at, acknowledge_by, resolve_by, acknowledged_at, "
                                        "closed_at")
    names = dict(zip(store.read("districts")["adcode"].astype(int), store.read("districts")["name"]))
    if not rows:
        return pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    frame = pd.DataFrame(rows)
    frame["month"] = frame["received_at"].str.slice(0, 7)
    stamp = _iso(now)
    frame["is_open"] = frame["state"].isin(OPEN_STATES)
    frame["resolved"] = frame["state"] == "resolved"
    frame["on_time"] = frame["resolved"] & (frame["closed_at"].fillna("9") <= frame["resolve_by"])
    frame["late_now"] = frame["is_open"] & ((frame["resolve_by"] < stamp) |
                                            ((frame["state"] == "new") & (frame["acknowledge_by"] < stamp)))
    closed = frame["closed_at"].notna()
    frame["days"] = np.nan
    frame.loc[closed, "days"] = [(as_local(c) - as_local(r)).total_seconds() / 86400
                                 for c, r in zip(frame.loc[closed, "closed_at"], frame.loc[closed, "received_at"])]
    out = frame.groupby(["month", "adcode"], sort=True).agg(
        received=("state", "size"), resolved=("resolved", "sum"), resolved_on_time=("on_time", "sum"),
        open=("is_open", "sum"), overdue=("late_now", "sum"), median_days=("days", "median")).reset_index()
    out["district"] = out["adcode"].map(lambda a: names.get(int(a), "") if pd.notna(a) else "")
    out["median_days"] = out["median_days"].round(2)
    for name in ("received", "resolved", "resolved_on_time", "open", "overdue"):
        out[name] = out[name].astype(int)
    return out[list(SUMMARY_COLUMNS)]


def state_name(state: str, lang: str = "zh") -> str:
    return REPORT_STATE_NAMES[state][0 if lang == "zh" else 1]


__all__ = ["ACTIONS", "AccessDenied", "QueuePage", "ReportConflict", "act", "area_clause", "confirm", "detail",
           "in_area", "ledger_rows", "monthly_summary", "photo", "queue", "set_temporary_status", "staff_view"]
