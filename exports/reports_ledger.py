"""The reports ledger (服务工作台账 of riders' reports) for the district's review: CSV (UTF-8 with BOM) and Excel,
headers in Chinese, and the summary per district and month. Text a spreadsheet would run is written inert."""
from __future__ import annotations

import io

import pandas as pd

from exports.labels import inert, inert_frame
from mapdata.vocabulary import REPORT_KINDS, REPORT_STATE_NAMES

KIND_NAMES = {k.key: k.zh for k in REPORT_KINDS}
OVERDUE_NAMES = {"acknowledge": "受理超期", "resolve": "办结超期"}
HEADERS = {"ref": "编号", "kind": "类型", "place": "地点", "district": "区", "street": "街道",
           "received_at": "报告时间", "acknowledged_at": "受理时间", "closed_at": "办结时间", "state": "状态",
           "days_taken": "用时（天）", "overdue": "超期", "riders": "报告人次", "verified": "属实",
           "answer": "答复"}
SUMMARY_HEADERS = {"month": "月份", "adcode": "区划代码", "district": "区", "received": "收到报告",
                   "resolved": "已解决", "resolved_on_time": "按时解决", "open": "未办结", "overdue": "当前超期",
                   "median_days": "用时中位数（天）"}
MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _labelled(rows: pd.DataFrame) -> pd.DataFrame:
    out = rows.copy()
    out["kind"] = out["kind"].map(lambda k: KIND_NAMES.get(k, k))
    out["state"] = out["state"].map(lambda s: REPORT_STATE_NAMES.get(s, (s,))[0])
    out["overdue"] = out["overdue"].map(lambda v: "、".join(OVERDUE_NAMES.get(x, x) for x in str(v).split(",") if x))
    out["verified"] = out["verified"].map(lambda v: "是" if v else "")
    for name in ("received_at", "acknowledged_at", "closed_at"):
        out[name] = out[name].map(lambda t: str(t)[:16].replace("T", " ") if t else "")
    return out.rename(columns=HEADERS)


def ledger_csv(rows: pd.DataFrame) -> bytes:
    return inert_frame(_labelled(rows)).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def summary_csv(summary: pd.DataFrame) -> bytes:
    return inert_frame(summary.rename(columns=SUMMARY_HEADERS)).to_csv(index=False, lineterminator="\r\n") \
        .encode("utf-8-sig")


def _sheet(ws, frame: pd.DataFrame, widths: list[int], formats: dict[str, str]) -> None:
    from openpyxl.styles import Font
    ws.append(list(frame.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False):
        ws.append([inert(v.item() if hasattr(v, "item") else (None if pd.isna(v) else v)) for v in row])
    ws.freeze_panes = "A2"
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    for i, name in enumerate(frame.columns):
        if name in formats:
            for cell in ws[chr(ord("A") + i)][1:]:
                cell.number_format = formats[name]


def ledger_xlsx(rows: pd.DataFrame, summary: pd.DataFrame) -> bytes:
    """The ledger sheet and the monthly summary sheet in one workbook."""
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "骑手报告台账"
    _sheet(ws, _labelled(rows), [11, 14, 28, 10, 14, 17, 17, 17, 9, 10, 14, 9, 6, 40], {HEADERS["days_taken"]: "0.00"})
    _sheet(wb.create_sheet("月度汇总"), summary.rename(columns=SUMMARY_HEADERS), [9, 10, 10, 10, 9, 10, 9, 10, 16],
           {SUMMARY_HEADERS["median_days"]: "0.00"})
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def summary_xlsx(summary: pd.DataFrame) -> bytes:
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = "月度汇总"
    _sheet(ws, summary.rename(columns=SUMMARY_HEADERS), [9, 10, 10, 10, 9, 10, 9, 10, 16],
           {SUMMARY_HEADERS["median_days"]: "0.00"})
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
