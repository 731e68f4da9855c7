"""The coverage result as an Excel workbook: overall figures and the question, districts, hexagons, the week."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from exports.labels import HEADERS, inert, labelled_district_table, query_rows
from layers.planning.coverage import CoverageResult
from layers.planning.results import hexagon_table


def coverage_table_xlsx(result: CoverageResult, week: pd.DataFrame | None = None) -> bytes:
    """A coverage result as an Excel workbook.

    Parameters
    ----------
    result : CoverageResult
    week : DataFrame, optional
        The 7 × 24 table of :meth:`layers.planning.coverage.CoverageModel.week`, written to a ``week``
        sheet with a colour scale.

    Returns
    -------
    bytes
        An .xlsx file with the sheets ``overall`` (the figures and the question asked),
        ``districts`` (as :func:`district_table`), ``hexagons`` (as :func:`hexagon_table`) and,
        when given, ``week``. Shares are numbers formatted as percentages.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "overall"
    o = result.overall
    rows = [("需求 demand", o["demand"]), ("已覆盖 covered", o["covered"]),
            ("覆盖率 share", o["share"]), ("需求点 points", o["points"]),
            ("已覆盖点 points covered", o["points_covered"]), ("点覆盖率 point share", o["point_share"]),
            *query_rows(result)]
    _append(ws, ["指标 item", "值 value"])
    for key, value in rows:
        _append(ws, [key, value])
    for row in (4, 7):  # the two shares
        ws.cell(row=row, column=2).number_format = "0.0%"
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 30

    def table(sheet, frame: pd.DataFrame, percent: set[str], widths: dict[str, int]):
        columns = list(frame.columns)
        _append(sheet, [HEADERS.get(c, c) for c in columns])
        for values in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
            _append(sheet, [v.item() if isinstance(v, np.generic) else v for v in values])
        for j, column in enumerate(columns, start=1):
            letter = get_column_letter(j)
            sheet.column_dimensions[letter].width = widths.get(column, 14)
            if column in percent:
                for cell in sheet[letter][1:]:
                    cell.number_format = "0.0%"
            elif column in ("demand", "covered", "uncovered"):
                for cell in sheet[letter][1:]:
                    cell.number_format = "#,##0.0"
        sheet.freeze_panes = "A2"

    table(wb.create_sheet("districts"), labelled_district_table(result), {"share", "point_share"},
          {"adcode": 18, "name": 14, "name_en": 16})
    last = wb["districts"].max_row
    for cell in wb["districts"][last]:
        cell.font = bold
    table(wb.create_sheet("hexagons"), hexagon_table(result), {"share"}, {"h3": 18})

    if week is not None:
        _week_sheet(wb.create_sheet("week"), week)
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = bold
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _week_sheet(ws, week: pd.DataFrame) -> None:
    """The 7 × 24 week table, one row per day with its date, kind and holiday, shares coloured red to green."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter

    dates = week.attrs.get("dates") or [None] * len(week)
    kinds = week.attrs.get("day_kind") or [None] * len(week)
    holidays = week.attrs.get("holiday") or [None] * len(week)
    _append(ws, ["星期 weekday", "日期 date", "类型 day kind", "节日 holiday"] + [f"{h:02d}:00" for h in week.columns])
    values = week.to_numpy(dtype=float)
    for i, weekday in enumerate(week.index):
        d = dates[i]
        _append(ws, [weekday, d.isoformat() if d is not None else None, kinds[i], holidays[i]]
                  + [None if np.isnan(v) else float(v) for v in values[i]])
    first, last_col = get_column_letter(5), get_column_letter(4 + week.shape[1])
    area = f"{first}2:{last_col}{1 + len(week)}"
    for row in ws[area]:
        for cell in row:
            cell.number_format = "0%"
    ws.conditional_formatting.add(area, ColorScaleRule(start_type="num", start_value=0, start_color="F8696B",
                                                       mid_type="num", mid_value=0.5, mid_color="FFEB84",
                                                       end_type="num", end_value=1, end_color="63BE7B"))
    ws.column_dimensions["B"].width = 12
    ws.column_dimensions["C"].width = 16
    ws.column_dimensions["D"].width = 14
    ws.freeze_panes = "E2"


def _append(sheet, values) -> None:
    """One row; text a spreadsheet would run as a formula is written inert."""
    sheet.append([inert(v) for v in values])
