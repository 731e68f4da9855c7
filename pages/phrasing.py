"""How the pages say things: a station's state in words, distances, shares and counts."""
from __future__ import annotations

import datetime as dt
import math

from layers.common.calendar import as_local
from layers.common.hours import StationState
from pages.i18n import t


def when(moment: dt.datetime, now: dt.datetime, lang: str, *, bare_today: bool = False) -> str:
    """A moment as a rider reads it: "21:00" or "today 21:00", "tomorrow 08:00", "Fri 08:00", "Oct 27 08:00"."""
    moment, now = as_local(moment), as_local(now)
    clock = moment.strftime("%H:%M")
    days = (moment.date() - now.date()).days
    if days == 0:
        return clock if bare_today else t("when.today", lang, clock=clock)
    if days == 1:
        return t("when.tomorrow", lang, clock=clock)
    if 1 < days < 7:
        return t("when.weekday", lang, weekday=t(f"weekday.{moment.weekday()}", lang), clock=clock)
    return t("when.date", lang, month=moment.month, day=moment.day, mon=moment.strftime("%b"), clock=clock)


def status_text(state: StationState, lang: str) -> str:
    """One status line: "营业中 · 21:00 关门", "15 分钟后关门", "已关闭 · 明天 08:00 开门"."""
    if state.state == "closing_soon":
        return t("status.closing_soon", lang, n=state.minutes_to_close)
    if state.state == "open":
        if state.closes_at is None:
            return t("status.open", lang)
        return t("status.open_until", lang, when=when(state.closes_at, state.at, lang, bare_today=True))
    if state.next_opens_at is None:
        return t("status.closed", lang)
    return t("status.closed_until", lang, when=when(state.next_opens_at, state.at, lang))


def distance(metres: float, lang: str) -> str:
    """Metres as "350 米" (to 10 m) below a kilometre, "1.2 公里" above."""
    if metres < 1000:
        return t("unit.m", lang, n=f"{round(metres / 10) * 10:.0f}")
    return t("unit.km", lang, n=f"{metres / 1000:.1f}")


def minutes(n: float, lang: str) -> str:
    """A riding time as "3 分钟", "不到 1 分钟" under a minute (never "0 分钟")."""
    return t("time.under_minute", lang) if n < 1 else t("time.minutes", lang, n=f"{n:.0f}")


def walk_time(n: float, lang: str) -> str:
    """A walking time as "步行约 3 分钟", "步行不到 1 分钟" under a minute (never "约 0 分钟")."""
    return t("time.walk_under_minute", lang) if n < 1 else t("time.walk", lang, n=f"{n:.0f}")


def pct(share) -> str:
    """A share (0–1) as "34.2%", "—" when there is none."""
    return "—" if share is None or (isinstance(share, float) and math.isnan(share)) else f"{share * 100:.1f}%"


def signed_pct(delta) -> str:
    """A change of share in percentage points, signed: "+0.52"."""
    return "—" if delta is None or (isinstance(delta, float) and math.isnan(delta)) else f"{delta * 100:+.2f}"


def number(x) -> str:
    """A count or a weight with thousands separators: "20,000"."""
    return f"{x:,.0f}"
