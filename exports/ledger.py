"""The service ledger (服务工作台账) as files: CSV (UTF-8 with BOM), Excel, GeoJSON and GeoPackage.

Text that a spreadsheet would run as a formula is written inert in the CSV and the workbook.
"""
from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from exports.labels import inert, inert_frame
from layers.staff.ledger import COLUMNS

MIMETYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "geojson": "application/geo+json", "gpkg": "application/geopackage+sqlite3"}
_LON, _LAT = COLUMNS["lon"], COLUMNS["lat"]


def ledger_csv(table: pd.DataFrame) -> bytes:
    return inert_frame(table).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def ledger_xlsx(table: pd.DataFrame) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "驿站台账"
    ws.append(list(table.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in table.itertuples(index=False):
        ws.append([inert(v.item() if hasattr(v, "item") else v) for v in row])
    ws.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJKLMNOPQR", (10, 24, 10, 14, 30, 16, 16, 30, 16, 36, 10, 16, 18, 10, 12, 12, 6, 18)):
        ws.column_dimensions[column].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _frame(table: pd.DataFrame) -> gpd.GeoDataFrame:
    props = table.drop(columns=[_LON, _LAT])
    return gpd.GeoDataFrame(props, geometry=gpd.points_from_xy(table[_LON], table[_LAT]), crs=4326)


def ledger_geojson(table: pd.DataFrame) -> bytes:
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(r[_LON]), float(r[_LAT])]},
                 "properties": {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items() if k not in (_LON, _LAT)}}
                for r in table.to_dict("records")]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode("utf-8")


def ledger_gpkg(table: pd.DataFrame) -> bytes:
    import pyogrio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.gpkg"
        pyogrio.write_dataframe(_frame(table), path, layer="stations", driver="GPKG")
        return path.read_bytes()


WRITERS = {"csv": ledger_csv, "xlsx": ledger_xlsx, "geojson": ledger_geojson, "gpkg": ledger_gpkg}
