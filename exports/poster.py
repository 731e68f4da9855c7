"""The station's printable QR poster (暖新码): one A4 or A5 page per station, as a PDF with its Chinese text as text.

Each page carries the station's name, address, opening hours in words, its amenities as icons with
their names, and a large QR code holding the station's short link ``<base>/s/<id>`` (the server
redirects it to the rider page at the station, so a poster stays right after an edit). WeasyPrint
lays the page out from HTML and embeds the Noto Sans CJK font (Debian ``fonts-noto-cjk``) by its
family name; reportlab cannot load those OpenType collections. The QR code is
``segno.make_qr(url, error="h")``: plain ``segno.make`` may choose a Micro QR that phone readers miss.
"""
from __future__ import annotations

import datetime as dt
import functools
import html
import re
from collections.abc import Iterable, Mapping

import pandas as pd
import segno

from layers.common.geojson import amenity_list
from layers.common.hours import HoursTable
from layers.rider.links import short_url
from mapdata.config import ROOT
from mapdata.vocabulary import AMENITY_BY_KEY, AMENITY_KEYS

#: Paper sizes a poster is printed at (width, height in millimetres, portrait).
SIZES: dict[str, tuple[int, int]] = {"A4": (210, 297), "A5": (148, 210)}
#: The CJK font, by its fontconfig family name (Debian ``fonts-noto-cjk``).
FONT_FAMILY = "Noto Sans CJK SC"
SCAN_LINE = "扫码查看开放时间 · 报告问题"
SUBTITLE_EN = "Nuanxin Map rider station · scan the code for opening hours and to report a problem"
BRAND = "暖新驿站 · 暖新码"
#: Type scale per size: every length on the page is in rem, so an A4 page is an A5 page enlarged
#: (210 / 148 ≈ 1.42), and the QR code is printed at the same share of the page.
ROOT_FONT_PT = {"A5": 10.0, "A4": 14.2}
#: Height of the text above the QR block, in rem: the page (59.5 rem) less its padding and the QR block.
INFO_REM = 31

# Hours are worded from two ordinary weeks of 2025 (no holiday, no make-up day in either), one in
# winter and one in summer, and one public holiday (National Day): the same calendar rule the rider
# card's week uses, so the poster and the card cannot disagree. A station whose hours differ between
# the two weeks (seasonal hours) is shown its OSM text, which the card also shows.
_ORDINARY_WEEKS = (dt.date(2025, 3, 10), dt.date(2025, 7, 7))
_HOLIDAY_WEEK, _HOLIDAY_WEEKDAY = dt.date(2025, 9, 29), 2  # Wednesday 2025-10-01
_WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_ALL_DAY, _CLOSED = "24 小时", "休息"
_HOURS_CACHE = 256


def _span(a: dt.time, b: dt.time) -> str:
    """One opening span as the rider card writes it: ``08:00–22:00``, ``18:00–02:00``, ``24 小时``."""
    if (a.hour, a.minute, b.hour, b.minute) == (0, 0, 0, 0):
        return _ALL_DAY
    return f"{a:%H:%M}–{'24:00' if (b.hour, b.minute) == (0, 0) else f'{b:%H:%M}'}"


def _day_text(intervals) -> str:
    return "、".join(_span(a, b) for a, b in intervals) or _CLOSED


def _days_label(first: int, last: int) -> str:
    if first == 0 and last == 6:
        return "每天"
    if first == last:
        return _WEEKDAYS[first]
    if last == first + 1:
        return f"{_WEEKDAYS[first]}、{_WEEKDAYS[last]}"
    return f"{_WEEKDAYS[first]}至{_WEEKDAYS[last]}"


@functools.lru_cache(maxsize=_HOURS_CACHE)
def hours_in_words(expression: str) -> tuple[str, ...]:
    """A station's weekly opening hours as lines a rider reads on a wall, in Chinese.

    Parameters
    ----------
    expression : str
        The station's OSM ``opening_hours``.

    Returns
    -------
    tuple of str
        ``("周一至周五 08:30–18:00", "周六 09:00–12:00", "周日 休息", "法定节假日 休息")``; days with the
        same hours are joined, ``每天 24 小时`` for ``24/7``. A line for public holidays only when they
        differ from the same weekday's hours, one for make-up working days (调休) only when working days
        and weekends differ. Seasonal hours are given as the OSM text itself.

    Raises
    ------
    ValueError
        When ``expression`` is not valid ``opening_hours`` syntax.
    """
    table = HoursTable([expression])
    weeks = [[_day_text(d["intervals"]) for d in table.week_schedule(0, monday)] for monday in _ORDINARY_WEEKS]
    if weeks[0] != weeks[1]:
        return (expression,)
    week = weeks[0]
    lines, first = [], 0
    for day in range(1, 8):
        if day == 7 or week[day] != week[first]:
            lines.append(f"{_days_label(first, day - 1)} {week[first]}")
            first = day
    holiday = _day_text(table.week_schedule(0, _HOLIDAY_WEEK)[_HOLIDAY_WEEKDAY]["intervals"])
    if holiday != week[_HOLIDAY_WEEKDAY]:
        lines.append(f"法定节假日 {holiday}")
    if week[4] != week[5] or week[0] != week[6]:
        lines.append("调休上班日 按工作日时间")
    return tuple(lines)


def _icon(path) -> str:
    """An amenity icon's SVG, inline: its size set by the page's CSS, its title (a tooltip on screen) dropped."""
    svg = path.read_text(encoding="utf-8")
    svg = re.sub(r"<title>.*?</title>", "", svg, flags=re.S)
    return re.sub(r'\s(?:width|height|role)="[^"]*"', "", svg, count=3).replace("<svg ", '<svg class="icon" ', 1)


#: The amenity icons the rider page shows (assets/icons), read once: one per vocabulary key.
ICONS: dict[str, str] = {k: _icon(ROOT / "assets" / "icons" / f"{k}.svg") for k in AMENITY_KEYS
                         if (ROOT / "assets" / "icons" / f"{k}.svg").is_file()}


def qr_svg(url: str) -> str:
    """``url`` as a QR code (error correction H, never a Micro QR), inline SVG with its 4-module quiet zone."""
    return segno.make_qr(url, error="h").svg_inline(scale=1, border=4, omitsize=True, dark="#000",
                                                    svgclass="qr", lineclass="qr-modules")


def _css(size: str) -> str:
    width, height = SIZES[size]
    return f"""
@page {{ size: {size} portrait; margin: 0; }}
html {{ font-family: "{FONT_FAMILY}", sans-serif; font-size: {ROOT_FONT_PT[size]}pt; color: #1f2328; }}
body {{ margin: 0; }}
.poster {{ box-sizing: border-box; width: {width}mm; height: {height}mm; padding: 1.1rem 1.5rem 0.9rem;
          overflow: hidden; page-break-after: always; position: relative; }}
/* the QR block sits at the foot of the page; the text above it is cut where it would reach it (a flex column
   does the same but lays out about half as fast) */
.info {{ max-height: {INFO_REM}rem; overflow: hidden; }}
.poster:last-child {{ page-break-after: auto; }}
.brand {{ font-size: 0.95rem; font-weight: bold; color: #c2410c; border-bottom: 0.12rem solid #f97316;
         padding-bottom: 0.25rem; margin: 0 0 0.6rem; }}
.brand .where {{ float: right; font-weight: normal; color: #57606a; }}
h1 {{ font-size: 2.2rem; line-height: 1.2; margin: 0 0 0.3rem; font-weight: bold; }}
h1.long {{ font-size: 1.6rem; }}
h1.very-long {{ font-size: 1.15rem; }}
.address {{ font-size: 1.05rem; margin: 0 0 0.6rem; color: #24292f; }}
.address.long {{ font-size: 0.85rem; }}
h2 {{ font-size: 0.9rem; margin: 0.5rem 0 0.15rem; color: #c2410c; font-weight: bold; }}
.hours {{ font-size: 1.1rem; margin: 0; padding: 0; list-style: none; line-height: 1.35; }}
.amenities {{ margin: 0.1rem 0 0; padding: 0; list-style: none; }}
.amenities li {{ display: inline-block; width: 4.4rem; margin: 0 0.25rem 0.3rem 0; text-align: center;
                vertical-align: top; font-size: 0.72rem; line-height: 1.15; }}
.amenities svg.icon {{ display: block; width: 1.7rem; height: 1.7rem; margin: 0 auto 0.1rem; color: #c2410c; }}
.scan {{ position: absolute; left: 1.5rem; right: 1.5rem; bottom: 0.9rem; text-align: center; }}
.scan svg.qr {{ display: block; width: 21rem; height: 21rem; margin: 0 auto; }}
.scan .call {{ font-size: 1.45rem; font-weight: bold; margin: 0.2rem 0 0; }}
.scan .en {{ font-size: 0.72rem; color: #57606a; margin: 0.1rem 0 0; }}
.scan .url {{ font-size: 0.7rem; color: #57606a; margin: 0.15rem 0 0; }}
"""


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else " ".join(str(value).split())


def _page(row: Mapping, base_url: str) -> str:
    station_id = str(row["id"])
    url = short_url(base_url, station_id)
    name = _text(row["name"])
    address = _text(row["address"])
    # long texts are set smaller; whatever still does not fit is cut at the QR code, never pushed onto a page
    title_class = "very-long" if len(name) > 30 else "long" if len(name) > 13 else ""
    where = " · ".join(p for p in (_text(row.get("district")), _text(row.get("street"))) if p)
    hours = "".join(f"<li>{html.escape(line)}</li>" for line in hours_in_words(str(row["opening_hours"])))
    amenities = "".join(f'<li>{ICONS.get(k, "")}<span>{html.escape(AMENITY_BY_KEY[k].zh)}</span></li>'
                        for k in amenity_list(row.get("amenities") or ()))
    return f"""<section class="poster"><div class="info">
<p class="brand">{BRAND}<span class="where">{html.escape(where)}</span></p>
<h1 class="{title_class}">{html.escape(name)}</h1>
<p class="address{' long' if len(address) > 60 else ''}">{html.escape(address)}</p>
<h2>开放时间</h2><ul class="hours">{hours}</ul>
{f'<h2>服务设施</h2><ul class="amenities">{amenities}</ul>' if amenities else ""}
</div><div class="scan">{qr_svg(url)}
<p class="call">{SCAN_LINE}</p>
<p class="en">{html.escape(SUBTITLE_EN)}</p>
<p class="url">{html.escape(url)} · {html.escape(station_id)}</p></div>
</section>"""


def _rows(stations_rows) -> list[Mapping]:
    if isinstance(stations_rows, pd.DataFrame):
        return [row for _, row in stations_rows.iterrows()]
    if isinstance(stations_rows, (pd.Series, Mapping)):
        return [stations_rows]
    return list(stations_rows)


def poster_html(stations_rows: Iterable[Mapping] | pd.DataFrame, base_url: str, size: str = "A5") -> str:
    """The posters' HTML, one ``section.poster`` per station (see :func:`station_poster_pdf`)."""
    if size not in SIZES:
        raise ValueError(f"size={str(size)[:10]!r}: expected one of {', '.join(SIZES)}")
    pages = "\n".join(_page(row, base_url) for row in _rows(stations_rows))
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{BRAND}</title>'
            f"<style>{_css(size)}</style></head><body>{pages}</body></html>")


def _fetch_nothing(url: str, *args, **kwargs):
    # everything a poster shows is inline; a station's text can never make the server fetch a URL
    raise ValueError(f"a poster fetches no resource ({url[:60]})")


def station_poster_pdf(stations_rows: Iterable[Mapping] | pd.DataFrame, base_url: str, size: str = "A5") -> bytes:
    """The QR posters of ``stations_rows``, one page each, as one PDF.

    Parameters
    ----------
    stations_rows : DataFrame, Series or iterable of mappings
        Stations (rows of the ``stations`` layer): ``id``, ``name``, ``address``, ``opening_hours``,
        ``amenities`` and, shown when present, ``district`` and ``street``; in page order.
    base_url : str
        The site's public address; each QR code holds ``<base_url>/s/<id>``.
    size : {"A5", "A4"}

    Returns
    -------
    bytes
        A PDF with one page per station (a blank page for no station), its text extractable.

    Raises
    ------
    ValueError
        For an unknown size, a base URL that is not http(s), an id that cannot go in a link, or hours that
        are not valid ``opening_hours``.
    """
    document = poster_html(stations_rows, base_url, size)
    # imported here: WeasyPrint loads Pango when imported, and only posters need it
    from weasyprint import HTML

    return HTML(string=document, url_fetcher=_fetch_nothing).write_pdf()
