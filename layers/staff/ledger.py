"""The service ledger (服务工作台账) in and out: a district's stations as a table with Chinese headers, and an
edited table read back with a dry run that lists every bad row and every change, then written all at once.

The table has one row per station and the columns of :data:`COLUMNS` (Chinese header, or the English key:
both are read back). Import changes existing stations only (new stations are made in the editor or
through the API, where their position and district are checked one by one); a row refers to its station
by ``编号 id``, and a ``版本 version`` column, when present, must still be the station's version.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from layers.common.calendar import as_local
from layers.common.errors import AccessDenied, QuestionError
from layers.common.geodesy import haversine_m
from layers.staff import stations as edits
from layers.staff.access import editable_mask
from layers.staff.accounts import Account
from mapdata.crs import from_wgs84, to_wgs84
from mapdata.store import Change, Store, VersionConflict
from mapdata.vocabulary import AMENITIES, INPUT_CRS

#: key → Chinese header, in the order the table has them. ``district``, ``street`` and ``confirmed_at`` are
#: shown but not read back.
COLUMNS = {
    "id": "编号", "name": "名称", "district": "区", "street": "街道", "address": "地址", "operator": "运营方",
    "phone": "电话", "amenities": "服务设施", "amenities_out": "暂停服务设施", "opening_hours": "营业时间",
    "status": "状态", "status_note": "状态说明", "status_until": "截止时间", "capacity": "容纳人数",
    "lon": "经度", "lat": "纬度", "version": "版本", "confirmed_at": "最后确认",
}
READ_ONLY = ("district", "street", "confirmed_at")
STATUS_ZH = {"open": "正常开放", "closed_temporarily": "临时关闭"}
AMENITY_BY_NAME = {**{a.zh: a.key for a in AMENITIES}, **{a.key: a.key for a in AMENITIES}}
MAX_ROWS = 20_000
MAX_PROBLEMS = 100
FORMATS = ("csv", "xlsx", "geojson", "gpkg")


class LedgerError(ValueError):
    """The file cannot be read as a ledger at all (not a row problem): ``field`` names what."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field, self.message = field, message


# -- out ------------------------------------------------------------------------------------------------

def ledger_table(stations: pd.DataFrame, account: Account, crs: str = "wgs84", adcode: int | None = None) -> pd.DataFrame:
    """The stations ``account`` keeps (in ``adcode`` when given) as the ledger: Chinese headers, coordinates in
    ``crs``, amenities by their Chinese names, times as local ``YYYY-MM-DD HH:MM``."""
    if crs not in INPUT_CRS:
        raise QuestionError("crs", f"expected one of {', '.join(INPUT_CRS)}")
    keep = editable_mask(account, stations) & stations["retired_at"].isna().to_numpy()
    if adcode is not None:
        keep &= stations["adcode"].to_numpy(dtype=np.int64) == int(adcode)
    st = stations[keep].sort_values("id")
    lon, lat = from_wgs84(st.geometry.x.to_numpy(), st.geometry.y.to_numpy(), crs)
    names = {a.key: a.zh for a in AMENITIES}

    def moment(v):
        return "" if v is None or pd.isna(v) else f"{as_local(v):%Y-%m-%d %H:%M}"

    table = pd.DataFrame({
        "id": st["id"].to_numpy(object), "name": st["name"].to_numpy(object), "district": st["district"].to_numpy(object),
        "street": st["street"].fillna("").to_numpy(object), "address": st["address"].to_numpy(object),
        "operator": st["operator"].to_numpy(object), "phone": st["phone"].fillna("").to_numpy(object),
        "amenities": ["、".join(names[k] for k in names if k in a) for a in st["amenities"]],
        "amenities_out": ["、".join(names[k] for k in names if k in a) for a in st["amenities_out"]],
        "opening_hours": st["opening_hours"].to_numpy(object),
        "status": [STATUS_ZH[s] for s in st["status"]], "status_note": st["status_note"].fillna("").to_numpy(object),
        "status_until": [moment(v) for v in st["status_until"]], "capacity": st["capacity"].to_numpy(np.int64),
        "lon": np.round(lon, 7), "lat": np.round(lat, 7), "version": st["version"].to_numpy(np.int64),
        "confirmed_at": [moment(v) for v in st["confirmed_at"]],
    })
    return table.rename(columns=COLUMNS)


# -- in: reading a file -----------------------------------------------------------------------------------

def kind_of(filename: str | None, content_type: str | None) -> str:
    """csv, xlsx, geojson or gpkg from a file name or a content type."""
    name = (filename or "").lower()
    ctype = (content_type or "").split(";")[0].strip().lower()
    for suffix, kind in ((".csv", "csv"), (".txt", "csv"), (".xlsx", "xlsx"), (".geojson", "geojson"),
                         (".json", "geojson"), (".gpkg", "gpkg")):
        if name.endswith(suffix):
            return kind
    by_type = {"text/csv": "csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
               "application/geo+json": "geojson", "application/json": "geojson",
               "application/geopackage+sqlite3": "gpkg"}
    if ctype in by_type:
        return by_type[ctype]
    raise LedgerError("file", "expected a ledger as .csv, .xlsx, .geojson or .gpkg")


def read_ledger(data: bytes, kind: str) -> pd.DataFrame:
    """The file's rows as text cells under English keys (Chinese headers mapped), with a 1-based ``_row``."""
    if not isinstance(data, (bytes, bytearray)) or not data.strip():
        raise LedgerError("file", "the file is empty")
    readers = {"csv": _read_csv, "xlsx": _read_xlsx, "geojson": _read_geojson, "gpkg": _read_gpkg}
    if kind not in readers:
        raise LedgerError("file", "expected a ledger as .csv, .xlsx, .geojson or .gpkg")
    frame = readers[kind](bytes(data))
    if len(frame) > MAX_ROWS:
        raise LedgerError("file", f"{len(frame):,} rows; a ledger has at most {MAX_ROWS:,}")
    by_header = {**{zh: key for key, zh in COLUMNS.items()}, **{key: key for key in COLUMNS},
                 **{f"{zh} {key}": key for key, zh in COLUMNS.items()}}
    renamed, seen = {}, set()
    for column in frame.columns:
        key = by_header.get(str(column).strip())
        if key is None:
            continue  # a column of the office's own (备注 …) is kept out of the import
        if key in seen:
            raise LedgerError(key, f"two columns for {COLUMNS[key]} {key}")
        seen.add(key)
        renamed[column] = key
    if "id" not in seen:
        raise LedgerError("id", "the ledger needs its 编号 id column to know which station each row is")
    out = frame[list(renamed)].rename(columns=renamed)
    out.insert(0, "_row", np.arange(1, len(out) + 1))
    return out


def _read_csv(data: bytes) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig",
                           nrows=MAX_ROWS + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise LedgerError("file", f"not a readable CSV file ({str(exc).splitlines()[0][:200]})") from None


def _read_xlsx(data: bytes) -> pd.DataFrame:
    from openpyxl import load_workbook

    try:
        # data_only: a formula's saved value, never the formula (nothing is evaluated)
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = wb.worksheets[0].iter_rows(values_only=True, max_row=MAX_ROWS + 2)
        header = [str(v).strip() if v is not None else "" for v in next(rows, ())]
        body = [list(r) for r in rows if any(v is not None and str(v).strip() for v in r)]
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise LedgerError("file", f"not a readable .xlsx workbook ({type(exc).__name__})") from None
    cells = [[_cell(v) for v in r[:len(header)]] + [""] * max(0, len(header) - len(r)) for r in body]
    return pd.DataFrame(cells, columns=header, dtype=object)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number")


def _read_geojson(data: bytes) -> pd.DataFrame:
    try:
        doc = json.loads(data.decode("utf-8-sig"), parse_constant=_refuse_constant)
    except RecursionError:
        raise LedgerError("file", "not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise LedgerError("file", f"not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise LedgerError("file", "expected a GeoJSON FeatureCollection")
    rows = []
    for feature in doc["features"][:MAX_ROWS + 1]:
        props = feature.get("properties") if isinstance(feature, dict) else None
        row = {str(k): _cell(v if not isinstance(v, list) else "、".join(map(str, v)))
               for k, v in (props or {}).items()} if isinstance(props, dict) else {}
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) and geom.get("type") == "Point" else None
        if isinstance(coords, list) and len(coords) >= 2:
            row.setdefault("lon", _cell(coords[0]))
            row.setdefault("lat", _cell(coords[1]))
        rows.append(row)
    return pd.DataFrame(rows, dtype=object).fillna("")


def _read_gpkg(data: bytes) -> pd.DataFrame:
    import pyogrio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.gpkg"
        path.write_bytes(data)
        try:
            frame = pyogrio.read_dataframe(path, max_features=MAX_ROWS + 1)
        except Exception as exc:  # GDAL's errors for a file that is not a GeoPackage
            raise LedgerError("file", f"not a readable GeoPackage ({type(exc).__name__})") from None
    geom = frame.geometry if hasattr(frame, "geometry") else None
    out = pd.DataFrame({c: frame[c].map(_cell) for c in frame.columns if c != getattr(geom, "name", None)})
    if geom is not None:
        out.setdefault("lon", geom.x.map(_cell))
        out.setdefault("lat", geom.y.map(_cell))
    return out


# -- in: what the rows would change ---------------------------------------------------------------------

@dataclass
class ImportPlan:
    """A dry run: every bad row (row, field, message), the changes by station, the rows that change nothing."""

    problems: list[dict] = field(default_factory=list)
    problem_count: int = 0
    changes: list[dict] = field(default_factory=list)
    unchanged: int = 0
    _edits: list[tuple[Change, list]] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


def _values(row: pd.Series, crs: str) -> dict:
    """The editable fields a row gives, as :func:`layers.staff.stations.plan_edit` takes them."""
    out = {}
    for key in ("name", "address", "operator", "opening_hours"):
        if key in row:
            out[key] = str(row[key]).strip()
    for key in ("phone", "status_note", "status_until"):
        if key in row:
            text = str(row[key]).strip()
            out[key] = text or None
    for key in ("amenities", "amenities_out"):
        if key in row:
            parts = [p.strip() for p in str(row[key]).replace("，", "、").replace(",", "、").replace(";", "、").split("、")]
            unknown = [p for p in parts if p and p not in AMENITY_BY_NAME]
            if unknown:
                raise QuestionError(key, f"unknown amenity {unknown[0][:40]!r}")
            out[key] = [AMENITY_BY_NAME[p] for p in parts if p]
    if "status" in row:
        text = str(row["status"]).strip()
        out["status"] = {v: k for k, v in STATUS_ZH.items()}.get(text, text)
    if "capacity" in row:
        text = str(row["capacity"]).strip()
        if not text.isdigit():
            raise QuestionError("capacity", "expected a whole number of places")
        out["capacity"] = int(text)
    if "lon" in row or "lat" in row:
        try:
            lon, lat = float(str(row.get("lon", "")).strip()), float(str(row.get("lat", "")).strip())
        except ValueError:
            raise QuestionError("position", "expected 经度 lon and 纬度 lat as decimal degrees") from None
        if not (np.isfinite(lon) and np.isfinite(lat)):
            raise QuestionError("position", "expected 经度 lon and 纬度 lat as decimal degrees")
        wlon, wlat = to_wgs84(lon, lat, crs)
        out["position"] = {"lon": float(wlon), "lat": float(wlat)}
    return out


def plan_import(store: Store, account: Account, table: pd.DataFrame, crs: str, districts) -> ImportPlan:
    """What importing ``table`` (from :func:`read_ledger`) would change, checked row by row for ``account``.

    A row that moves a station less than 0.5 m (a coordinate rounded on the way out and back) keeps its
    position.
    """
    if crs not in INPUT_CRS:
        raise QuestionError("crs", f"expected one of {', '.join(INPUT_CRS)}")
    stations = store.read("stations").set_index("id", drop=False)
    plan = ImportPlan()
    seen: set[str] = set()

    def problem(row_no, field_name, message):
        plan.problem_count += 1
        if len(plan.problems) < MAX_PROBLEMS:
            plan.problems.append({"row": int(row_no), "field": field_name, "message": str(message)[:300]})

    for _, row in table.iterrows():
        sid = str(row["id"]).strip()
        if sid in seen:
            problem(row["_row"], "id", f"{sid} is on more than one row")
            continue
        seen.add(sid)
        if sid not in stations.index:
            problem(row["_row"], "id", f"no station with id {sid[:40]!r}")
            continue
        current = stations.loc[sid]
        if "version" in row and str(row["version"]).strip() and str(row["version"]).strip() != str(current["version"]):
            problem(row["_row"], "version", f"the station changed since this ledger was made (now version "
                                            f"{current['version']}, the row says {str(row['version'])[:12]})")
            continue
        try:
            values = _values(row, crs)
            if "position" in values and float(haversine_m(current.geometry.y, current.geometry.x,
                                                                 values["position"]["lat"],
                                                                 values["position"]["lon"])) < 0.5:
                del values["position"]
            if not values:
                plan.unchanged += 1
                continue
            edit = edits.plan_edit(current, values, account, districts)
        except AccessDenied as exc:
            problem(row["_row"], exc.field, exc.message)
            continue
        except QuestionError as exc:
            problem(row["_row"], exc.field, exc.message)
            continue
        if not edit.changes:
            plan.unchanged += 1
            continue
        plan.changes.append({"row": int(row["_row"]), "id": sid, "name": str(current["name"]),
                             "changes": [vars(c) for c in edit.changes], "warnings": edit.warnings})
        plan._edits.append((Change(sid, edit.values, int(current["version"])), edit.changes))
    return plan


def apply_import(store: Store, account: Account, plan: ImportPlan) -> int:
    """Write a plan without problems in one transaction (all rows or none); the number of stations changed."""
    if not plan.ok:
        raise QuestionError("file", f"{plan.problem_count} rows have problems; nothing was written")
    if not plan._edits:
        return 0
    try:
        store.apply_changes("stations", [c for c, _ in plan._edits], user=account.name, action="import")
    except VersionConflict as exc:
        raise QuestionError("version", f"station {exc.row_id} changed while importing; nothing was written: "
                                       "export the ledger again") from None
    return len(plan._edits)
