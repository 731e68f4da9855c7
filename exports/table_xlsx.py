"""The coverage result as an Excel workbook: overall figures and the question, districts, hexagons, the week, the sites."""
from __future__ import annotations

import io

import chinese_calendar
import geopandas as gpd
import numpy as np
import pandas as pd

from exports.labels import (
    DAY_KIND_TEXT,
    DEMAND_COLUMNS,
    PP_UNIT,
    WEEK_HEADERS,
    WEEKDAY_TEXT,
    check_lang,
    check_unit,
    header,
    inert,
    labelled_district_table,
    query_rows,
)
from exports.table_csv import sites_table
from layers.planning.coverage import CoverageResult
from layers.planning.results import hexagon_table

#: Number formats of the workbook's figures.
PERCENT = "0.0%"
WEEK_PERCENT = "0%"
INTEGER = "#,##0"
CODE = "0"
DEMAND = "#,##0.0"
METRES = '#,##0" m"'
DEGREES = "0.000000"
INTEGER_COLUMNS = ("points", "points_covered", "gain_points", "rank")
PERCENT_COLUMNS = ("share", "point_share", "share_after")


def pp_format(lang: str | None) -> str:
    """The number format of a change in percentage points (the cell holds 1.2 for +1.2 pp)."""
    unit = PP_UNIT["en" if lang == "en" else "zh"]
    return f'+0.0" {unit}";-0.0" {unit}";0.0" {unit}"'


def _overall_labels(lang):
    pairs = [("demand", "需求", "Demand"), ("covered", "已覆盖需求", "Demand covered"),
             ("share", "覆盖率", "Share covered"), ("points", "需求点", "Points"),
             ("points_covered", "已覆盖点", "Points covered"), ("point_share", "点覆盖率", "Point share")]
    out = {}
    for key, zh, en in pairs:
        if key in ("demand", "covered"):
            out[key] = header(key, lang)
        else:
            out[key] = zh if lang == "zh" else en if lang == "en" else f"{zh} {key.replace('_', ' ')}"
    return out


def coverage_table_xlsx(result: CoverageResult, week: pd.DataFrame | None = None, lang: str | None = None,
                        unit: str = "orders_per_day", whatif=None, sites: gpd.GeoDataFrame | None = None) -> bytes:
    """A coverage result as an Excel workbook.

    Parameters
    ----------
    result : CoverageResult
        What the page shows (with a what-if: its ``changed`` result).
    week : DataFrame, optional
        The 7 × 24 table of :meth:`layers.planning.coverage.CoverageModel.week`, written to a ``week``
        sheet with a colour scale.
    lang : {"zh", "en"} or None
        The language of headings, labels and the week sheet; None for both side by side.
    unit : {"orders_per_day", "weight"}
        What demand counts (in the demand headings).
    whatif : WhatIf, optional
        A ``delta`` column on the districts sheet in percentage points (empty where untouched), and the
        hypothetical stations as their own row of the question, never among the stations counted.
    sites : GeoDataFrame, optional
        The recommended sites (:func:`layers.planning.results.recommended_sites`), written to a ``sites``
        sheet: name, coordinates to copy, what each adds.

    Returns
    -------
    bytes
        An .xlsx file with the sheets ``overall`` (the figures and the question asked),
        ``districts`` (as :func:`district_table`), ``hexagons`` (as :func:`hexagon_table`) and,
        when given, ``week`` and ``sites``. Every figure is a number with its number format:
        percentages, integers with thousands separators, demand to one decimal, metres, degrees.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    lang, unit = check_lang(lang), check_unit(unit)
    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "overall"
    o = result.overall
    labels = _overall_labels(lang)
    formats = {"demand": DEMAND, "covered": DEMAND, "share": PERCENT, "points": INTEGER, "points_covered": INTEGER,
               "point_share": PERCENT}
    rows = [(labels[key], o[key], formats[key]) for key in ("demand", "covered", "share", "points", "points_covered",
                                                            "point_share")]
    kinds = {"metres": METRES, "integer": INTEGER, "text": None}
    rows += [(label, value, kinds[kind]) for label, value, kind in query_rows(result, lang)]
    if whatif is not None and whatif.delta_share is not None:
        change = {"zh": "假设变化", "en": "What-if change"}.get(lang, "假设变化 what-if change")
        rows.append((change, round(whatif.delta_share * 100, 6), pp_format(lang)))
    item = {"zh": ["指标", "值"], "en": ["Item", "Value"]}.get(lang, ["指标 item", "值 value"])
    _append(ws, item)
    for label, value, number_format in rows:
        _append(ws, [label, value])
        if number_format:
            ws.cell(row=ws.max_row, column=2).number_format = number_format
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 30

    def table(sheet, frame: pd.DataFrame, widths: dict[str, int], extra: dict[str, str] | None = None):
        columns = list(frame.columns)
        _append(sheet, [header(c, lang, unit) for c in columns])
        for values in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
            _append(sheet, [v.item() if isinstance(v, np.generic) else v for v in values])
        for j, column in enumerate(columns, start=1):
            letter = get_column_letter(j)
            sheet.column_dimensions[letter].width = widths.get(column, 16)
            number_format = (extra or {}).get(column) or (
                PERCENT if column in PERCENT_COLUMNS else DEMAND if column in DEMAND_COLUMNS
                else INTEGER if column in INTEGER_COLUMNS else CODE if column == "adcode"
                else DEGREES if column in ("lat", "lon") else None)
            if number_format:
                for cell in sheet[letter][1:]:
                    cell.number_format = number_format
        sheet.freeze_panes = "A2"

    table(wb.create_sheet("districts"), labelled_district_table(result, whatif),
          {"adcode": 14, "name": 14, "name_en": 16, "delta": 20}, {"delta": pp_format(lang)})
    last = wb["districts"].max_row
    for cell in wb["districts"][last]:
        cell.font = bold
    table(wb.create_sheet("hexagons"), hexagon_table(result), {"h3": 18})

    if week is not None:
        _week_sheet(wb.create_sheet("week"), week, lang)
    if sites is not None:
        table(wb.create_sheet("sites"), sites_table(sites, lang), {"rank": 8, "site": 36, "site_en": 36,
                                                                   "coords": 24, "id": 12})
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = bold
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _holiday_text(name, lang: str | None):
    if not name:
        return None
    try:
        chinese = chinese_calendar.Holiday(name).chinese
    except ValueError:
        return name
    return chinese if lang == "zh" else name if lang == "en" else f"{chinese} {name}"


def _week_sheet(ws, week: pd.DataFrame, lang: str | None = None) -> None:
    """The 7 × 24 week table, one row per day with its date, kind and holiday, shares coloured red to green;
    headings, weekdays, day kinds and holidays in ``lang`` (both for None)."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter

    dates = week.attrs.get("dates") or [None] * len(week)
    kinds = week.attrs.get("day_kind") or [None] * len(week)
    holidays = week.attrs.get("holiday") or [None] * len(week)
    if lang is None:
        heads = [f"{zh} {en.lower()}" for zh, en in zip(WEEK_HEADERS["zh"], WEEK_HEADERS["en"])]
    else:
        heads = WEEK_HEADERS[lang]
    _append(ws, heads + [f"{h:02d}:00" for h in week.columns])
    values = week.to_numpy(dtype=float)
    for i, weekday in enumerate(week.index):
        d = dates[i]
        day = WEEKDAY_TEXT.get(lang, {}).get(weekday, weekday)
        kind = kinds[i]
        if lang is not None and kind is not None:
            kind = DAY_KIND_TEXT[lang].get(kind, kind)
        _append(ws, [day, d.isoformat() if d is not None else None, kind, _holiday_text(holidays[i], lang)]
                + [None if np.isnan(v) else float(v) for v in values[i]])
    first, last_col = get_column_letter(5), get_column_letter(4 + week.shape[1])
    area = f"{first}2:{last_col}{1 + len(week)}"
    for row in ws[area]:
        for cell in row:
            cell.number_format = WEEK_PERCENT
    ws.conditional_formatting.add(area, ColorScaleRule(start_type="num", start_value=0, start_color="F8696B",
                                                       mid_type="num", mid_value=0.5, mid_color="FFEB84",
                                                       end_type="num", end_value=1, end_color="63BE7B"))
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 18
    ws.column_dimensions["D"].width = 16
    ws.freeze_panes = "E2"


def _append(sheet, values) -> None:
    """One row; text a spreadsheet would run as a formula is written inert."""
    sheet.append([inert(v) for v in values])
