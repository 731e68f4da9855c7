"""The bilingual labels every report shares: column headings, the city-wide row, the question asked."""
from __future__ import annotations

import pandas as pd

from layers.planning.coverage import CoverageResult
from layers.planning.results import district_table
from mapdata.vocabulary import AMENITIES

#: Label of the city-wide row that closes the district tables.
TOTAL_NAME, TOTAL_NAME_EN = "成都市合计", "Chengdu total"
AMENITY_ZH = {a.key: a.zh for a in AMENITIES}
AMENITY_EN = {a.key: a.en for a in AMENITIES}
LANGUAGES = ("zh", "en")

#: What a demand figure counts: the stored demand is delivery orders a day (mapdata/demo/demand.py); an
#: upload's weights are the planner's own.
DEMAND_UNITS = {"orders_per_day": {"zh": "单/日", "en": "orders/day"}, "weight": {"zh": "权重", "en": "weight"}}
#: Columns whose figures are demand, in the demand's unit.
DEMAND_COLUMNS = ("demand", "covered", "uncovered", "gain")
_COLUMN_TEXT = {
    "adcode": ("行政区划代码", "Adcode"), "name": ("区县", "District"), "name_en": ("区县（英文）", "District (EN)"),
    "demand": ("需求", "Demand"), "covered": ("已覆盖需求", "Demand covered"),
    "uncovered": ("未覆盖需求", "Demand uncovered"), "share": ("覆盖率", "Share covered"),
    "points": ("需求点", "Points"), "points_covered": ("已覆盖点", "Points covered"),
    "point_share": ("点覆盖率", "Point share"), "delta": ("假设变化（个百分点）", "What-if change (pp)"),
    "h3": ("H3 六边形", "H3 cell"), "lat": ("纬度", "Latitude"), "lon": ("经度", "Longitude"),
    "rank": ("序号", "Rank"), "site": ("建议新址", "Recommended site"),
    "site_en": ("建议新址（英文）", "Recommended site (EN)"), "coords": ("坐标（纬度, 经度）", "Coordinates (lat, lon)"),
    "gain": ("新增覆盖需求", "Demand added"), "gain_points": ("新增覆盖点", "Points added"),
    "share_after": ("累计覆盖率", "Share covered, cumulative"), "id": ("候选点编号", "Candidate id"),
    "source": ("候选来源", "Candidate source"), "district": ("区县", "District"),
    "candidate_name": ("候选点名称", "Candidate name"),
}
#: How many decimals a percentage-point change is written with.
PP_DIGITS = 1
PP_UNIT = {"zh": "个百分点", "en": "pp"}
SOURCE_TEXT = {"osm_place": ("地点", "place"), "compound": ("小区", "compound"), "grid": ("网格点", "grid point"),
               "planner": ("上传的候选点", "uploaded site")}
WEEK_HEADERS = {"zh": ["星期", "日期", "类型", "节日"], "en": ["Weekday", "Date", "Day kind", "Holiday"]}
WEEKDAY_TEXT = {"zh": dict(zip(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
                               ("周一", "周二", "周三", "周四", "周五", "周六", "周日")))}
DAY_KIND_TEXT = {"zh": {"workday": "工作日", "weekend": "周末", "holiday": "法定节假日", "makeup_workday": "调休上班"},
                 "en": {"workday": "working day", "weekend": "weekend", "holiday": "public holiday",
                        "makeup_workday": "make-up working day"}}


def check_lang(lang) -> str | None:
    """``lang`` as a supported language, None for the bilingual labels; ValueError for anything else."""
    if lang is None or lang in LANGUAGES:
        return lang
    raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")


def check_unit(unit) -> str:
    if unit not in DEMAND_UNITS:
        raise ValueError(f"unit must be one of {', '.join(DEMAND_UNITS)}, got {unit!r}")
    return unit


def header(column: str, lang: str | None, unit: str = "orders_per_day") -> str:
    """A column's heading in ``lang`` (``zh``: ``需求（单/日）``; ``en``: ``Demand (orders/day)``), or both
    (``需求（单/日） demand (orders/day)``) for ``lang=None``; demand figures carry their unit."""
    zh, en = _COLUMN_TEXT.get(column, (column, column))
    if column in DEMAND_COLUMNS:
        u = DEMAND_UNITS[check_unit(unit)]
        zh, en = f"{zh}（{u['zh']}）", f"{en} ({u['en']})"
    if lang == "zh":
        return zh
    if lang == "en":
        return en
    return f"{zh} {column}" + (f" ({DEMAND_UNITS[unit]['en']})" if column in DEMAND_COLUMNS else "")


def pp_text(delta, lang: str | None = "zh") -> str:
    """A change of share (a fraction: 0.012) in percentage points, signed: ``+1.2 个百分点`` / ``+1.2 pp``; empty
    for a missing change (a district the what-if leaves untouched)."""
    if delta is None or pd.isna(delta):
        return ""
    unit = PP_UNIT["en" if lang == "en" else "zh"]
    return f"{delta * 100:+.{PP_DIGITS}f} {unit}"


def district_name(row, lang: str | None) -> str:
    """A district table row's name in ``lang`` (both for None)."""
    zh, en = row.get("name") or "", row.get("name_en") or ""
    if lang == "en":
        return en or zh
    if lang == "zh":
        return zh
    return f"{zh} {en}".strip()
OSM_ATTRIBUTION = '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors (ODbL)'


#: A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value):
    """``value`` safe to put in a spreadsheet cell: text that a spreadsheet would run is prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell of ``frame`` made :func:`inert`; numbers are left as numbers."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(inert)
    return out


def labelled_district_table(result: CoverageResult, whatif=None) -> pd.DataFrame:
    """:func:`layers.planning.results.district_table` with its last row named as the city total.

    With ``whatif`` (:class:`layers.planning.questions.WhatIf`, whose ``changed`` is ``result``) a column
    ``delta``: the change of weighted share in percentage points (1.2 for +1.2 pp), missing for a district
    the what-if leaves untouched; the total row carries the city's change.
    """
    frame = district_table(result)
    frame.loc[frame.index[-1], ["name", "name_en"]] = [TOTAL_NAME, TOTAL_NAME_EN]
    if whatif is not None:
        deltas = whatif.district_deltas()
        values = [deltas.get(a) if not pd.isna(a) else None for a in frame["adcode"]]
        total = whatif.delta_share
        values[-1] = total if total is not None and abs(total) > 1e-12 else None
        frame["delta"] = pd.array([None if v is None or pd.isna(v) else round(float(v) * 100, 6) for v in values],
                                  dtype="Float64")
    return frame


_QUERY_TEXT = {
    "radius_m": ("半径（米）", "Radius (m)"), "mode": ("距离", "Distance"), "at": ("时间", "Time"),
    "amenities": ("设施", "Amenities"), "h3_res": ("H3 分辨率", "H3 resolution"),
    "open_stations": ("计入驿站", "Stations counted"),
    "hypothetical_stations": ("假设的新站（不计入驿站）", "Hypothetical stations (not counted as stations)"),
}
_MODE_TEXT = {"straight": ("直线", "straight line"), "network": ("骑行路网", "riding network")}


def _pick(pair: tuple[str, str], lang: str | None, key: str = "") -> str:
    zh, en = pair
    return zh if lang == "zh" else en if lang == "en" else f"{zh} {key or en}".strip()


def query_rows(result: CoverageResult, lang: str | None = None) -> list[tuple[str, object, str]]:
    """The question a result answers, as (label, value, kind) rows; ``kind`` is ``metres``, ``integer`` or
    ``text`` (how a spreadsheet formats the value). Hypothetical stations are a row of their own, never among
    the stations counted."""
    if lang == "zh":
        amenities = "、".join(AMENITY_ZH.get(k, k) for k in result.amenities) or "不限"
        at = "任意时间" if result.at is None else result.at.isoformat()
    elif lang == "en":
        amenities = ", ".join(AMENITY_EN.get(k, k) for k in result.amenities) or "any"
        at = "any time" if result.at is None else result.at.isoformat()
    else:
        amenities = ", ".join(f"{AMENITY_ZH.get(k, k)} {k}" for k in result.amenities) or "—"
        at = "任意时间 any time" if result.at is None else result.at.isoformat()
    mode = _MODE_TEXT[result.mode]
    rows = [
        (_pick(_QUERY_TEXT["radius_m"], lang, "radius_m"), result.radius_m, "metres"),
        (_pick(_QUERY_TEXT["mode"], lang, "mode"), _pick(mode, lang), "text"),
        (_pick(_QUERY_TEXT["at"], lang, "at"), at, "text"),
        (_pick(_QUERY_TEXT["amenities"], lang, "amenities"), amenities, "text"),
        (_pick(_QUERY_TEXT["h3_res"], lang, "h3_res"), result.h3_res, "integer"),
        (_pick(_QUERY_TEXT["open_stations"], lang, "stations counted"), result.open_stations, "integer"),
    ]
    if result.hypothetical_stations:
        rows.append((_pick(_QUERY_TEXT["hypothetical_stations"], lang, "hypothetical stations"),
                     result.hypothetical_stations, "integer"))
    return rows
