"""Opening hours of all stations at once: open at a time, closes at, next opens at, on China's calendar."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import opening_hours
import pandas as pd

from layers.common.caching import BoundedCache
from layers.common.calendar import (
    LATEST,
    TZ,
    as_local,
    calendar_generation,
    day_kind,
    evaluation_date,
    holiday_name,
    load_library_calendar,
)

#: How far ahead ``closes_at`` and ``next_opens_at`` look before answering None.
HORIZON_DAYS = 14

#: A station closing within this many minutes is ``closing_soon``.
CLOSING_SOON_MINUTES = 30

_DAY = 86_400
_TEMPORARILY_CLOSED = "closed_temporarily"
# status_until of a temporary closure with no announced end: later than any time asked about.
_NO_END = np.iinfo(np.int64).max
# ``PH`` outside quoted comments: only expressions that name it depend on the holiday calendar.
_COMMENT = re.compile(r'"[^"]*"')
_PH_TOKEN = re.compile(r"\bPH\b")
# Profiles are per calendar date; a bound keeps a long-running server from growing without limit.
_PROFILE_CACHE_DATES = 512
#: Merged open spans of one expression over the days ahead, kept per (expression, first day, days): a
#: rider's answer reads the same few expressions from the same day again and again.
_TIMELINE_CACHE = 8192


def _uses_ph(expression: str) -> bool:
    return bool(_PH_TOKEN.search(_COMMENT.sub("", expression)))


def _open_spans(rules: opening_hours.OpeningHours, on: dt.date) -> list[tuple[int, int]]:
    start = dt.datetime.combine(on, dt.time())
    spans: list[tuple[int, int]] = []
    for a, b, state, _comment in rules.intervals(start, start + dt.timedelta(days=1)):
        if state != opening_hours.State.OPEN:
            continue
        lo = max(0, int((a - start).total_seconds()))
        hi = _DAY if b is None else min(_DAY, int((b - start).total_seconds()))
        if hi <= lo:
            continue
        if spans and spans[-1][1] == lo:
            spans[-1] = (spans[-1][0], hi)
        else:
            spans.append((lo, hi))
    return spans


def _to_ns(values: Sequence | None, n: int, positions: np.ndarray) -> np.ndarray:
    """Epoch nanoseconds of ``values`` at ``positions``; :data:`_NO_END` elsewhere and where missing."""
    out = np.full(n, _NO_END, dtype=np.int64)
    if values is None:
        return out
    if len(values) != n:
        raise ValueError(f"status_until has {len(values)} values for {n} stations")
    values = list(values)
    for i in positions:
        v = values[i]
        if v is None or v is pd.NaT or v == "" or (isinstance(v, float) and math.isnan(v)):
            continue
        out[i] = _epoch_ns(as_local(v))
    return out


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _among(sel: np.ndarray, ascending: np.ndarray) -> np.ndarray:
    """Whether each of ``sel`` is in ``ascending`` (sorted positions): ``np.isin`` by binary search, which for a
    rider's few stations costs a tenth of it."""
    if len(ascending) == 0:
        return np.zeros(len(sel), dtype=bool)
    at = np.minimum(np.searchsorted(ascending, sel), len(ascending) - 1)
    return ascending[at] == sel


def _epoch_ns(t: dt.datetime) -> int:
    """Nanoseconds since 1970 in int64, clipped: a closure "until 9999" ends after any time asked about."""
    delta = t - _EPOCH
    ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    return max(-_NO_END, min(ns, _NO_END - 1))


class HoursTable:
    """Opening hours of many stations, compiled once, answered for all of them at once.

    Parameters
    ----------
    expressions : sequence of str
        One OSM ``opening_hours`` expression per station. Stations share few distinct
        expressions; each distinct one is compiled and evaluated once and the result is
        gathered over stations by NumPy indexing.
    status : sequence of str, optional
        One status per station. ``"closed_temporarily"`` closes the station whatever its hours
        say, until its ``status_until`` (indefinitely when that is missing); other values do
        not change the hours.
    status_until : sequence of datetime, Timestamp, str or None, optional
        End of a temporary closure; naive values are Asia/Shanghai time.

    Raises
    ------
    ValueError
        If an expression is not valid ``opening_hours`` syntax (the message names the first
        station position holding it and the expression), or the sequences differ in length.

    Notes
    -----
    Public holidays (``PH``) and make-up working days (调休) follow the store's published calendar
    (statutory holidays in a year without a notice), not the library's own CN calendar; see :func:`evaluation_date`
    for the rule. The library's ``unknown`` state counts as closed. Times are Asia/Shanghai.
    """

    def __init__(
        self,
        expressions: Sequence[str],
        status: Sequence[str] | None = None,
        status_until: Sequence[dt.datetime | pd.Timestamp | None] | None = None,
    ):
        expressions = list(expressions)
        n = len(expressions)
        if status is not None and len(status) != n:
            raise ValueError(f"status has {len(status)} values for {n} stations")
        if any(not isinstance(e, str) for e in expressions):
            i = next(i for i, e in enumerate(expressions) if not isinstance(e, str))
            raise ValueError(f"opening_hours at position {i} is not a string: {expressions[i]!r}")
        # Hashing, not sorting: 130k strings factorise in milliseconds.
        codes, uniques = pd.factorize(pd.Series(expressions, dtype=object), sort=False)
        _, first = np.unique(codes, return_index=True)
        self.expressions: tuple[str, ...] = tuple(str(e) for e in uniques)
        self.codes: np.ndarray = np.asarray(codes, dtype=np.intp)
        self._rules: list[opening_hours.OpeningHours] = []
        for expr, pos in zip(self.expressions, first):
            try:
                self._rules.append(opening_hours.OpeningHours(expr, country="CN"))
            except (SyntaxError, opening_hours.ParserError, ValueError) as err:
                raise ValueError(
                    f"opening_hours at position {int(pos)} is not valid: {expr!r}: "
                    f"{str(err).splitlines()[0]}"
                ) from err
        self._uses_ph = np.array([_uses_ph(e) for e in self.expressions], dtype=bool)
        if self._uses_ph.any():
            # Read the library's calendar now, not inside the first rider's query.
            load_library_calendar()
        temporary = np.zeros(n, dtype=bool) if status is None else (
            np.asarray(list(status), dtype=object) == _TEMPORARILY_CLOSED)
        # Few stations are ever closed temporarily: the per-call mask touches only those.
        self._temporary_idx = np.flatnonzero(temporary)
        self._until_ns = _to_ns(status_until, n, self._temporary_idx)
        self._profiles: BoundedCache[tuple[np.ndarray, np.ndarray, list[list[tuple[int, int]]]]] = \
            BoundedCache(_PROFILE_CACHE_DATES)
        self._timelines: BoundedCache[tuple[tuple[int, int], ...]] = BoundedCache(_TIMELINE_CACHE)

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    def _profile(self, day: dt.date):
        """Open spans of every distinct expression on real date ``day``, in seconds of the day."""
        # Keyed by the calendar's generation too: an imported notice changes which days are PH.
        return self._profiles.get_or_build((calendar_generation(), day), lambda: self._build_profile(day))

    def _build_profile(self, day: dt.date):
        spans = [
            _open_spans(rules, evaluation_date(day, bool(ph)))
            for rules, ph in zip(self._rules, self._uses_ph)
        ]
        width = max(1, max((len(s) for s in spans), default=0))
        # Padding spans are empty (start == end == -1) and never contain a time.
        starts = np.full((len(spans), width), -1, dtype=np.int64)
        ends = np.full((len(spans), width), -1, dtype=np.int64)
        for u, s in enumerate(spans):
            if s:
                arr = np.asarray(s, dtype=np.int64)
                starts[u, : len(s)] = arr[:, 0]
                ends[u, : len(s)] = arr[:, 1]
        return starts, ends, spans

    def _expression_open(self, local: dt.datetime) -> np.ndarray:
        starts, ends, _ = self._profile(local.date())
        sec = local.hour * 3600 + local.minute * 60 + local.second
        return ((starts <= sec) & (sec < ends)).any(axis=1)

    def _temporarily_closed(self, t_ns: int) -> np.ndarray:
        idx = self._temporary_idx
        return idx[t_ns < self._until_ns[idx]]

    def temporarily_closed(self, t) -> np.ndarray:
        """Positions of the stations closed temporarily at ``t`` (``closed_temporarily`` with no
        ``status_until``, or one later than ``t``), ascending."""
        return self._temporarily_closed(_epoch_ns(as_local(t)))

    def hours_open_at(self, t) -> np.ndarray:
        """Whether each station's hours say open at ``t``, ignoring temporary closures.

        Parameters
        ----------
        t : datetime, Timestamp or ISO str
            See :func:`as_local`.

        Returns
        -------
        numpy.ndarray of bool, shape (len(self),)
        """
        return self._expression_open(as_local(t))[self.codes]

    def open_at(self, t) -> np.ndarray:
        """Whether each station is open at ``t``.

        A station ``closed_temporarily`` is closed while ``status_until`` is missing or later
        than ``t``; from ``status_until`` on its hours apply again.

        Parameters
        ----------
        t : datetime, Timestamp or ISO str
            See :func:`as_local`.

        Returns
        -------
        numpy.ndarray of bool, shape (len(self),)
        """
        local = as_local(t)
        result = self._expression_open(local)[self.codes]
        result[self._temporarily_closed(_epoch_ns(local))] = False
        return result

    def _timeline(self, u: int, day: dt.date, days: int) -> tuple[tuple[int, int], ...]:
        """Merged open spans of expression ``u`` over ``days`` days from ``day``, seconds from its 00:00."""
        return self._timelines.get_or_build((calendar_generation(), u, day, days),
                                            lambda: self._build_timeline(u, day, days))

    def _build_timeline(self, u: int, day: dt.date, days: int) -> tuple[tuple[int, int], ...]:
        merged: list[tuple[int, int]] = []
        for k in range(days):
            _, _, spans = self._profile(day + dt.timedelta(days=k))
            for lo, hi in spans[u]:
                lo, hi = lo + k * _DAY, hi + k * _DAY
                if merged and merged[-1][1] == lo:
                    merged[-1] = (merged[-1][0], hi)
                else:
                    merged.append((lo, hi))
        return tuple(merged)

    def _hours_change(self, u: int, local: dt.datetime) -> tuple[bool, dt.datetime | None]:
        """State of expression ``u`` at ``local`` and the next change within the horizon."""
        day = local.date()
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=TZ)
        sec = int((local - midnight).total_seconds())
        days = HORIZON_DAYS + 1
        limit = (days - 1) * _DAY + sec
        for lo, hi in self._timeline(u, day, days):
            if hi <= sec:
                continue
            if lo <= sec:
                # Open now: a span still running at the end of the fetched days has not been
                # seen to close within the horizon.
                return True, (None if hi >= days * _DAY else midnight + dt.timedelta(seconds=hi))
            return False, (midnight + dt.timedelta(seconds=lo) if lo <= limit else None)
        return False, None

    def _open_selected(self, local: dt.datetime, sel: np.ndarray) -> np.ndarray:
        """:meth:`open_at` of the stations at positions ``sel`` only (a rider's few, not the whole catalogue)."""
        result = self._expression_open(local)[self.codes[sel]]
        closed = self._temporarily_closed(_epoch_ns(local))
        if len(closed):
            result &= ~_among(sel, closed)
        return result

    def _select(self, idx) -> np.ndarray:
        return np.arange(len(self)) if idx is None else np.asarray(idx, dtype=np.intp).reshape(-1)

    def closes_at(self, t, idx: Sequence[int] | None = None) -> list[dt.datetime | None]:
        """When stations open at ``t`` next close.

        Parameters
        ----------
        t : datetime, Timestamp or ISO str
            See :func:`as_local`.
        idx : sequence of int, optional
            Station positions; all stations when omitted.

        Returns
        -------
        list of datetime or None
            One per selected station, aware Asia/Shanghai. None for a station closed at ``t``
            (temporary closures counted) and for one that does not close within
            :data:`HORIZON_DAYS` (``24/7``). A span running past midnight into hours of the
            next day is one span: ``Mo-Su 08:00-24:00`` at 23:00 closes at 00:00, ``24/7``
            never does.
        """
        local = as_local(t)
        sel = self._select(idx)
        is_open = self._open_selected(local, sel)
        codes = self.codes[sel]
        answers: dict[int, dt.datetime | None] = {}  # per expression: a rider's few stations share a handful
        out = []
        for u, open_now in zip(codes.tolist(), is_open.tolist()):
            if not open_now:
                out.append(None)
                continue
            if u not in answers:
                answers[u] = self._hours_change(u, local)[1]
            out.append(answers[u])
        return out

    def next_opens_at(self, t, idx: Sequence[int] | None = None) -> list[dt.datetime | None]:
        """When stations closed at ``t`` next open.

        Parameters
        ----------
        t : datetime, Timestamp or ISO str
            See :func:`as_local`.
        idx : sequence of int, optional
            Station positions; all stations when omitted.

        Returns
        -------
        list of datetime or None
            One per selected station, aware Asia/Shanghai. None for a station open at ``t``,
            for one closed temporarily with no ``status_until``, and for one whose hours do not
            open within :data:`HORIZON_DAYS` of the time the search starts. A temporary closure
            is searched from ``status_until``: the station opens then if its hours are open
            then, else at its next opening after it.
        """
        local = as_local(t)
        sel = self._select(idx)
        codes = self.codes[sel]
        hours_open = self._expression_open(local)[codes]
        temporarily = _among(sel, self._temporarily_closed(_epoch_ns(local)))
        answers = np.full(len(self.expressions), None, dtype=object)
        for u in np.unique(codes[~hours_open & ~temporarily]):
            answers[u] = self._hours_change(int(u), local)[1]
        out = np.where(hours_open | temporarily, None, answers[codes])
        for j in np.flatnonzero(temporarily):
            until_ns = int(self._until_ns[sel[j]])
            if until_ns == _NO_END:
                continue
            resume = (_EPOCH + dt.timedelta(microseconds=until_ns // 1000)).astimezone(TZ)
            if resume > LATEST:  # closed for longer than anyone plans ahead
                continue
            state, change = self._hours_change(int(codes[j]), resume)
            out[j] = resume if state else change
        return out.tolist()

    def week_schedule(self, i: int, week_of) -> list[dict]:
        """The week, Monday to Sunday, of station ``i``'s hours, for a human-readable card.

        Parameters
        ----------
        i : int
            Station position.
        week_of : datetime.date, datetime or ISO str
            Any date in the wanted week.

        Returns
        -------
        list of dict
            Seven dicts with keys ``date`` (datetime.date), ``weekday`` (0 = Monday),
            ``day_kind`` (:class:`DayKind`), ``holiday`` (:func:`holiday_name`, English) and
            ``intervals``: the spans that open on that day as ``(time_open, time_close)``
            pairs of ``datetime.time``. A span that runs past midnight is listed once, on the
            day it opens, with ``time_close <= time_open`` (``(22:00, 02:00)``;
            ``(08:00, 00:00)`` closes at midnight; ``(00:00, 00:00)`` is open all day). Temporary
            closures are not shown here; :meth:`open_at` has them.
        """
        if isinstance(week_of, str):
            week_of = dt.date.fromisoformat(week_of[:10])
        if isinstance(week_of, dt.datetime):
            week_of = as_local(week_of).date()
        monday = week_of - dt.timedelta(days=week_of.weekday())
        u = int(self.codes[i])
        # One day before and after the week show whether its edge spans continue.
        before = monday - dt.timedelta(days=1)
        timeline = self._timeline(u, before, 9)
        days: list[dict] = []
        for k in range(7):
            day = monday + dt.timedelta(days=k)
            lo_day, hi_day = (k + 1) * _DAY, (k + 2) * _DAY
            pieces = []
            for lo, hi in timeline:
                if lo < lo_day and hi > lo_day:
                    # Carried over from the day before; shown there, unless it fills this day.
                    if hi >= hi_day:
                        pieces.append((dt.time(), dt.time()))
                    continue
                if lo_day <= lo < hi_day:
                    close = min(hi, lo + _DAY) - lo_day
                    pieces.append((_clock(lo - lo_day), _clock(close)))
            days.append({
                "date": day,
                "weekday": day.weekday(),
                "day_kind": day_kind(day),
                "holiday": holiday_name(day),
                "intervals": pieces,
            })
        return days


def _clock(seconds: int) -> dt.time:
    seconds %= _DAY
    return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def _clock(seconds: int) -> dt.time:
    seconds %= _DAY
    return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)


@dataclass(frozen=True)
class StationState:
    """Whether a station is open at a moment and when that changes: what a status line says.

    Attributes
    ----------
    state : {"open", "closing_soon", "closed"}
        ``closing_soon`` when it closes within :data:`CLOSING_SOON_MINUTES`.
    minutes_to_close : int or None
        Rounded up; None when closed or when it does not close within the horizon.
    closes_at, next_opens_at : datetime or None
        Aware, Asia/Shanghai.
    at : datetime
        The moment asked about.
    """

    state: str
    minutes_to_close: int | None
    closes_at: dt.datetime | None
    next_opens_at: dt.datetime | None
    at: dt.datetime


def station_state(open: bool, closes_at, next_opens_at, at) -> StationState:
    """The state of one station at ``at``, from :meth:`HoursTable.open_at`, ``closes_at`` and ``next_opens_at``."""
    at = as_local(at)
    closes = None if closes_at is None else as_local(closes_at)
    opens = None if next_opens_at is None else as_local(next_opens_at)
    if not open:
        return StationState("closed", None, None, opens, at)
    if closes is None:
        return StationState("open", None, None, None, at)
    minutes = max(0, math.ceil((closes - at).total_seconds() / 60))
    return StationState("closing_soon" if minutes <= CLOSING_SOON_MINUTES else "open", minutes, closes, None, at)
