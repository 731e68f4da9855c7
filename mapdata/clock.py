"""The one clock: now in Chengdu. Everything that asks "now" asks here, so tests can freeze it."""
from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo

from mapdata.vocabulary import TIMEZONE

TZ = zoneinfo.ZoneInfo(TIMEZONE)
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current time, aware, in Asia/Shanghai — whatever time zone the server runs in."""
    return _frozen if _frozen is not None else dt.datetime.now(TZ)


def today() -> dt.date:
    """Today's date in Chengdu."""
    return now().date()


@contextlib.contextmanager
def frozen(at: dt.datetime | None):
    """Make :func:`now` answer ``at`` (aware; a naive time is Chengdu's) inside the block, for tests;
    ``None`` runs the real clock inside the block."""
    global _frozen
    before = _frozen
    _frozen = None if at is None else at.replace(tzinfo=TZ) if at.tzinfo is None else at.astimezone(TZ)
    try:
        yield _frozen
    finally:
        _frozen = before
