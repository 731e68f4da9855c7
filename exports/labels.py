"""The bilingual labels every report shares: column headings, the city-wide row, the question asked."""
from __future__ import annotations

import pandas as pd

from layers.planning.coverage import CoverageResult
from layers.planning.results import district_table
from mapdata.vocabulary import AMENITIES

#: Label of the city-wide row that closes the district tables.
TOTAL_NAME, TOTAL_NAME_EN = "成都市合计", "Chengdu total"
HEADERS = {"adcode": "行政区划代码 adcode", "name": "区县 district", "name_en": "District (EN)",
           "demand": "需求 demand", "covered": "已覆盖 covered", "uncovered": "未覆盖 uncovered",
           "share": "覆盖率 share", "points": "需求点 points", "points_covered": "已覆盖点 points covered",
           "point_share": "点覆盖率 point share", "h3": "H3 cell", "lat": "纬度 lat", "lon": "经度 lon"}
AMENITY_ZH = {a.key: a.zh for a in AMENITIES}
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


def labelled_district_table(result: CoverageResult) -> pd.DataFrame:
    """:func:`layers.planning.results.district_table` with its last row named as the city total."""
    frame = district_table(result)
    frame.loc[frame.index[-1], ["name", "name_en"]] = [TOTAL_NAME, TOTAL_NAME_EN]
    return frame


def query_rows(result: CoverageResult) -> list[tuple[str, object]]:
    """The question a result answers, as (label, value) rows."""
    return [
        ("半径 radius_m", result.radius_m),
        ("距离 mode", {"straight": "直线 straight line", "network": "骑行路网 riding network"}[result.mode]),
        ("时间 at", "任意时间 any time" if result.at is None else result.at.isoformat()),
        ("设施 amenities", ", ".join(f"{AMENITY_ZH.get(k, k)} {k}" for k in result.amenities) or "—"),
        ("H3 分辨率 h3_res", result.h3_res),
        ("计入驿站 stations counted", result.open_stations),
    ]
