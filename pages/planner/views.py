"""View builders of the planner page: the figures, the table, the map's colours, the week, the sites, the downloads.

Each function takes what the client sent (re-validated through :mod:`pages.planner.state`), asks
the planning domain in ``layers/planning`` and shapes what the page shows. The callbacks in
``callbacks/planner.py`` only route to them.
"""
from __future__ import annotations

import datetime as dt
import functools
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html, no_update
from plotly.subplots import make_subplots

from layers.common import geojson
from layers.common.calendar import holiday_name
from layers.common.errors import LimitError
from layers.planning.context import MAX_UPLOADS
from layers.planning.coverage import CoverageModel
from layers.planning.dates import default_holiday, known_holiday_day, ordinary_week_monday, today
from layers.planning.demand import (
    DemandUploadError,
    content_type_of,
    decode_data_url,
    parse_candidate_upload,
    parse_demand_upload,
)
from layers.planning.national_job import jobs_of
from layers.planning.questions import (
    check_hexagons,
    compare_in_district,
    coverage,
    recommend_sites,
    what_if,
    what_if_params,
)
from layers.planning.results import hexagon_rings
from layers.planning.siting import MAX_K
from mapdata.vocabulary import INPUT_CRS
from pages.context import services
from pages.i18n import TEXT, holiday, language, t
from pages.ids import PLANNER, PLANNER_DOWNLOADS
from pages.phrasing import number, pct, signed_pct
from pages.planner.state import (
    MAX_EXTRA_STATIONS,
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    PAGE_EXACT_MAX_CELLS,
    PAGE_EXACT_TIME_LIMIT_S,
    PlannerQuery,
    clean_what_if,
    clip_k,
    inside,
    k_asked,
    query_time,
    radius_asked,
    the_query,
)

#: Colours of uncovered demand (level 0 = nothing uncovered, drawn clear) and of district shares.
GAP_COLOURS = ["#fde7c8", "#fdba74", "#f97316", "#c2410c", "#7c2d12"]
SHARE_BREAKS = [0.2, 0.3, 0.4, 0.5, 0.6]
SHARE_COLOURS = ["#e7e5e4", "#ccfbf1", "#99f6e4", "#5eead4", "#2dd4bf", "#0d9488"]
#: Colour classes of uncovered demand per hexagon: quantiles of hexagon demand at that resolution,
#: so the legend means the same thing whatever the other controls say.
GAP_QUANTILES = (0.5, 0.75, 0.9, 0.97)
FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
CRS_LABEL = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}
#: Bad rows listed on the page (the message gives the total).
SHOWN_PROBLEMS = 50


def planning():
    return services().planning


def lang_of(state) -> str:
    return language(state.get("lang") if isinstance(state, dict) else None)


def demand_in_use(demand):
    """(model, upload or None, expired) for the demand store: the uploaded demand its token names,
    else the stored demand; ``expired`` when a token was given but the server no longer has it."""
    token = demand.get("token") if isinstance(demand, dict) else None
    if token is None:
        return planning().model(), None, False
    upload = planning().upload(token)
    if upload is None:
        return planning().model(), None, True
    return upload.model, upload, False


def demand_model(demand) -> CoverageModel:
    """The coverage model every view of the page uses: uploaded demand when the store names it."""
    return demand_in_use(demand)[0]


def candidates_in_use(cands):
    """(candidate sites, expired): the planner's uploaded list its token names, else the default set."""
    token = cands.get("token") if isinstance(cands, dict) else None
    if token is not None:
        frame = planning().candidates_for_token(token)
        if frame is not None:
            return frame, False
    return planning().candidates(), token is not None


def known_adcode(value) -> int | None:
    """``value`` as the adcode of one of Chengdu's districts, or None."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        code = int(value)
    except ValueError:
        return None
    return code if code in planning().adcodes() else None


def district_label(row, lang: str) -> str:
    return row["name"] if lang == "zh" or not row.get("name_en") else row["name_en"]


def when_text(query: PlannerQuery, lang: str) -> str:
    """The question in words: the radius actually used (after clipping) and the moment."""
    reach = t("planner.when.radius", lang, m=f"{query.radius_m:,.0f}", mode=t(f"planner.mode.{query.mode}", lang))
    if query.at is None:
        return f"{reach} · {t('planner.when.any', lang)}"
    moment = dt.datetime.fromisoformat(query.at)
    day = moment.date()
    name = holiday(holiday_name(day), lang)
    when = f"{t(f'weekday.{day.weekday()}', lang)} {day.isoformat()} {moment:%H:%M}" + (f" · {name}" if name else "")
    return f"{reach} · {t('planner.when.at', lang, when=when)}"


# ---------------------------------------------------------------------------------------------
# the question

def radius_message(radius_m: float, problem: str | None, custom: bool, lang: str):
    """Beside the radius box: why its value is not used (with the range), or the radius a custom value gives."""
    values = {"lo": f"{MIN_RADIUS_M:,.0f}", "hi": f"{MAX_RADIUS_M:,.0f}", "m": f"{radius_m:,.0f}"}
    if problem is not None:
        return html.Span(t(f"planner.radius.{problem}", lang, **values), className="warning radius-refused",
                         role="alert")
    if custom:
        return html.Span(t("planner.radius.applied", lang, **values), className="radius-applied")
    return None


def question_view(radius, custom, mode, amenities, time_kind, weekday, hour, holiday_day, h3_res, state=None):
    """The controls as one validated question (a custom radius only in range, amenities known, a real date),
    which controls are disabled, and what the page says beside the radius box."""
    radius_m, problem = radius_asked(radius, custom)
    at = query_time(time_kind, weekday, hour, holiday_day, today())
    query = PlannerQuery.model_validate({"radius_m": radius_m, "amenities": amenities, "at": at, "mode": mode,
                                         "h3_res": h3_res})
    return (query.model_dump(mode="json"), radius != "custom", time_kind != "week", time_kind == "any",
            time_kind != "holiday", radius_message(query.radius_m, problem, radius == "custom", lang_of(state)))

# ---------------------------------------------------------------------------------------------
# the figures, the table and the map's colours

@functools.lru_cache(maxsize=6)
def hexagon_collection(cells: tuple[str, ...], res: int) -> dict:
    """GeoJSON of the H3 cells, in the given order: property ``i`` is the position, ``r`` the resolution.

    The geometry depends only on the resolution; the colours come from :func:`gap_levels` in the
    same order, so a control change sends a short list of levels, not the polygons again.
    """
    # 5 decimals (about 1 m) are plenty for a hexagon on screen and keep the map's data small
    rings = hexagon_rings(cells, digits=5)
    return geojson.collection(geojson.feature({"type": "Polygon", "coordinates": [ring.tolist()]}, {"i": i, "r": res})
                              for i, ring in enumerate(rings))


def gap_hexagons(model: CoverageModel, res: int) -> dict:
    """The hexagons holding demand at resolution ``res``, in the order of every coverage result's ``hexagons``."""
    try:
        check_hexagons(model, res)
    except LimitError:  # the coverage answers with a refusal that says why; draw nothing either
        return geojson.collection([])
    cells = model.coverage(100.0, h3_res=res).hexagons["h3"]
    return hexagon_collection(tuple(cells), res)


def gap_breaks(hexagons: pd.DataFrame) -> list[float]:
    """Class limits of uncovered demand for one resolution (from the demand per hexagon)."""
    demand = hexagons["demand"].to_numpy(float)
    if len(demand) == 0:
        return []
    return [float(x) for x in np.unique(np.round(np.quantile(demand, GAP_QUANTILES), 1))]


def gap_levels(hexagons: pd.DataFrame, breaks: list[float]) -> list[int]:
    """Per hexagon: 0 when nothing is left uncovered, else 1 … len(breaks) + 1 by uncovered demand."""
    unc = hexagons["uncovered"].to_numpy(float)
    levels = np.searchsorted(np.asarray(breaks, float), unc, side="right") + 1
    levels[unc <= 1e-9] = 0
    return levels.astype(int).tolist()


def district_rows(result, deltas, lang: str) -> list[dict]:
    rows = []
    for row in result.districts.to_dict("records"):
        rows.append({
            "adcode": int(row["adcode"]), "label": district_label(row, lang),
            "demand": round(float(row["demand"]), 1),
            "share": None if pd.isna(row["share"]) else float(row["share"]),
            "point_share": None if pd.isna(row["point_share"]) else float(row["point_share"]),
            "points_covered": int(row["points_covered"]), "points": int(row["points"]),
            "delta": None if deltas is None or pd.isna(deltas.get(row["adcode"])) else float(deltas[row["adcode"]]),
        })
    return rows


def legend(breaks: list[float], lang: str):
    labels = [f"≤ {number(breaks[0])}" if breaks else ""] + \
        [f"{number(a)}–{number(b)}" for a, b in zip(breaks, breaks[1:])] + ([f"> {number(breaks[-1])}"] if breaks else [])
    gap = [html.Li([html.Span(className="swatch swatch-clear"), t("planner.legend.none", lang)])]
    gap += [html.Li([html.Span(className="swatch", style={"background": c}), label])
            for c, label in zip(GAP_COLOURS, labels)]
    share_labels = [f"< {SHARE_BREAKS[0]:.0%}"] + [f"{a:.0%}–{b:.0%}" for a, b in zip(SHARE_BREAKS, SHARE_BREAKS[1:])] \
        + [f"≥ {SHARE_BREAKS[-1]:.0%}"]
    share = [html.Li([html.Span(className="swatch", style={"background": c}), label])
             for c, label in zip(SHARE_COLOURS, share_labels)]
    return [html.Div([html.B(t("planner.legend.gap", lang)), html.Ul(gap)]),
            html.Div([html.B(t("planner.legend.district", lang)), html.Ul(share)])]


def whatif_features(whatif: dict, lang: str) -> dict:
    stations = planning().catalogue.stations.set_index("id")
    features = [geojson.feature(geojson.point(*p), {"kind": "added", "index": i,
                                                    "name": t("planner.whatif.added", lang, n=i + 1)})
                for i, p in enumerate(whatif["added"])]
    for sid in whatif["removed"]:
        row = stations.loc[sid]
        features.append(geojson.feature(geojson.point(row.geometry.x, row.geometry.y), {
            "kind": "removed", "id": sid, "name": t("planner.whatif.removed", lang, name=row["name"])}))
    return geojson.collection(features)


def demand_label(model, upload, expired, lang: str):
    """Which demand the figures describe."""
    if upload is not None:
        s = upload.summary
        text = t("planner.demand.uploaded", lang, name=s["name"], n=number(s["rows"]), crs=CRS_LABEL[s["crs"]],
                 w=number(s["weight"]))
        return [html.B(t("planner.demand.in_use", lang)), html.Span(text, className="demand-uploaded")]
    out = [html.B(t("planner.demand.in_use", lang)),
           html.Span(t("planner.demand.stored", lang, n=number(len(model.lon))), className="demand-stored")]
    if expired:
        out.append(html.Span(" " + t("planner.demand.expired", lang, n=MAX_UPLOADS), className="warning"))
    return out


def too_costly(exc: LimitError, lang: str):
    """The domain's refusal of a question beyond what one request may compute, as the page shows it."""
    return html.P(too_costly_text(exc, lang), className="warning too-costly")


def too_costly_text(exc: LimitError, lang: str) -> str:
    key = f"planner.too_costly.{exc.field}"
    if key in TEXT:
        return t(key, lang, asked=number(exc.asked), limit=number(exc.limit))
    return t("planner.too_costly", lang, reason=exc.message)


def coverage_view(query_data, whatif_data, state, demand=None):
    """Everything that follows from the question, the demand and the what-if, in one pass over the model."""
    lang = lang_of(state)
    query = the_query(query_data)
    model, upload, expired = demand_in_use(demand)
    whatif = clean_what_if(whatif_data, model.station_ids, planning().outline())
    try:
        change = what_if(model, query.question(), whatif["added"], whatif["removed"])
        result = change.changed if change else coverage(model, query.question())
    except LimitError as exc:  # an upload too large for this question: say so, show no stale figures
        return ("—", "—", f"— / {len(model.station_ids)}", when_text(query, lang), too_costly(exc, lang), [],
                {"res": query.h3_res, "levels": [], "colours": GAP_COLOURS},
                {"shares": {}, "breaks": SHARE_BREAKS, "colours": SHARE_COLOURS}, legend([], lang), None,
                whatif_features(whatif, lang), {"removed": whatif["removed"]}, demand_label(model, upload, expired, lang))
    o = result.overall
    breaks = gap_breaks(result.hexagons)
    summary = None
    deltas = None
    features = whatif_features(whatif, lang)
    if change:
        deltas = change.district_deltas()
        summary = [html.P(t("planner.whatif.summary", lang, added=len(whatif["added"]), removed=len(whatif["removed"]),
                            before=pct(change.base.overall["share"]), after=pct(o["share"]),
                            delta=signed_pct(change.delta_share), points=change.delta_points)),
                   html.Ul([html.Li(f"{t('planner.whatif.added', lang, n=i + 1)}: {lat:.6f}, {lon:.6f}",
                                    className="added-station") for i, (lon, lat) in enumerate(whatif["added"])]
                           + [html.Li(f["properties"]["name"], className="removed-station")
                              for f in features["features"] if f["properties"]["kind"] == "removed"],
                           className="whatif-list")]
    network = t("planner.network_note", lang, n=number(result.network_points), f=number(result.fallback_points)) \
        if query.mode == "network" else None
    return (
        pct(o["share"]),
        [pct(o["point_share"]), html.Small(" " + t("planner.of", lang, a=number(o["points_covered"]),
                                                   b=number(o["points"])))],
        f"{result.open_stations} / {len(model.station_ids)}",
        when_text(query, lang),
        network,
        district_rows(result, deltas, lang),
        {"res": query.h3_res, "levels": gap_levels(result.hexagons, breaks), "colours": GAP_COLOURS},
        {"shares": {str(int(c)): (None if pd.isna(s) else float(s))
                    for c, s in zip(result.districts["adcode"], result.districts["share"])},
         "breaks": SHARE_BREAKS, "colours": SHARE_COLOURS},
        legend(breaks, lang),
        summary,
        features,
        {"removed": whatif["removed"]},
        demand_label(model, upload, expired, lang),
    )


def hexagon_view(h3_res, demand=None) -> dict:
    return gap_hexagons(demand_model(demand), PlannerQuery.model_validate({"h3_res": h3_res}).h3_res)


# ---------------------------------------------------------------------------------------------
# clicks on the map: figures of a hexagon or district, or the what-if

def feature_props(click) -> dict:
    props = (click or {}).get("properties") if isinstance(click, dict) else None
    return props if isinstance(props, dict) else {}


def figures_list(demand, covered, points, points_covered, lang):
    return html.Dl([
        html.Dt(t("planner.panel.demand", lang)), html.Dd(number(demand)),
        html.Dt(t("planner.panel.covered", lang)),
        html.Dd(f"{number(covered)} ({pct(covered / demand if demand > 0 else None)})"),
        html.Dt(t("planner.panel.uncovered", lang)), html.Dd(number(demand - covered)),
        html.Dt(t("planner.panel.points", lang)), html.Dd(f"{points_covered} / {points}"),
    ], className="figures")


def inspect_view(trigger, hex_click, district_click, query_data, whatif_data, state, demand=None):
    lang = lang_of(state)
    query = the_query(query_data)
    model = demand_model(demand)
    whatif = clean_what_if(whatif_data, model.station_ids, planning().outline())
    try:
        result = coverage(model, query.question(), whatif["added"], whatif["removed"])
    except LimitError as exc:
        return too_costly(exc, lang)
    if trigger == PLANNER.hexagons:
        props = feature_props(hex_click)
        i, res = props.get("i"), props.get("r")
        if not isinstance(i, int) or res != query.h3_res or not 0 <= i < len(result.hexagons):
            return no_update
        row = result.hexagons.iloc[i]
        return [html.H3(t("planner.panel.hexagon", lang, h3=row["h3"])),
                figures_list(float(row["demand"]), float(row["covered"]), int(row["points"]),
                             int(row["points_covered"]), lang)]
    props = feature_props(district_click)
    try:
        adcode = int(props.get("adcode"))
    except (TypeError, ValueError):
        return no_update
    rows = result.districts[result.districts["adcode"] == adcode]
    if rows.empty:
        return no_update
    row = rows.iloc[0]
    if row["points"] == 0:
        return [html.H3(district_label(row, lang)), html.P(t("planner.panel.none", lang))]
    return [html.H3(t("planner.panel.district", lang, name=district_label(row, lang))),
            figures_list(float(row["demand"]), float(row["covered"]), int(row["points"]),
                         int(row["points_covered"]), lang)]


def what_if_edit(trigger, map_click, station_click, whatif_click, click_mode, whatif_data, state):
    """The what-if after one click: every point and id checked against Chengdu and the stations."""
    lang = lang_of(state)
    model = planning().model()  # only its stations and districts, the same whichever demand is in use
    whatif = clean_what_if(whatif_data, model.station_ids, planning().outline())
    if trigger == PLANNER.whatif_reset:
        return {"added": [], "removed": []}, None
    if click_mode != "whatif":
        return no_update, no_update
    if trigger == PLANNER.map:
        ll = (map_click or {}).get("latlng") if isinstance(map_click, dict) else None
        if not isinstance(ll, dict):
            return no_update, no_update
        lon, lat = ll.get("lng"), ll.get("lat")
        if not inside(planning().outline(), lon, lat):
            return no_update, t("planner.whatif.outside", lang)
        if len(whatif["added"]) >= MAX_EXTRA_STATIONS:
            return no_update, t("planner.whatif.full", lang, n=MAX_EXTRA_STATIONS)
        whatif["added"].append([round(float(lon), 6), round(float(lat), 6)])
        return whatif, no_update
    if trigger == PLANNER.stations:
        sid = feature_props(station_click).get("id")
        if not isinstance(sid, str) or sid not in set(model.station_ids):
            return no_update, no_update
        removed = set(whatif["removed"]) ^ {sid}
        return {**whatif, "removed": sorted(removed)}, no_update
    if trigger == PLANNER.whatif_layer:
        props = feature_props(whatif_click)
        if props.get("kind") == "added" and isinstance(props.get("index"), int) \
                and 0 <= props["index"] < len(whatif["added"]):
            whatif["added"].pop(props["index"])
            return whatif, no_update
        if props.get("kind") == "removed" and props.get("id") in whatif["removed"]:
            return {**whatif, "removed": [s for s in whatif["removed"] if s != props["id"]]}, no_update
    return no_update, no_update


# ---------------------------------------------------------------------------------------------
# the week

def week_figure(normal: pd.DataFrame, holiday: pd.DataFrame | None, view: str, at: str | None, lang: str):
    days = [t(f"weekday.{i}", lang) for i in range(7)]
    hours = list(range(24))

    def labels(frame):
        return [f"{d} {x:%m-%d}" + (" ★" if frame.attrs["day_kind"][i] == "holiday" else "")
                for i, (d, x) in enumerate(zip(days, frame.attrs["dates"]))]

    hover = "%{y} %{x}:00 · %{z:.1f}%<extra></extra>"
    fig = None
    if view == "diff" and holiday is not None:
        diff = holiday.to_numpy() - normal.to_numpy()
        top = float(np.nanmax(np.abs(diff))) if np.isfinite(diff).any() else 1.0
        fig = go.Figure(go.Heatmap(z=diff, x=hours, y=labels(holiday), colorscale="RdBu", zmid=0,
                                   zmin=-max(top, 0.1), zmax=max(top, 0.1),
                                   hovertemplate="%{y} %{x}:00 · %{z:+.1f}<extra></extra>",
                                   colorbar={"title": {"text": t("planner.axis.diff", lang), "side": "right"}}))
        fig.update_layout(title={"text": t("planner.week.difference", lang), "font": {"size": 14}})
        marked = None
    else:
        frames = [normal] + ([holiday] if holiday is not None else [])
        titles = [t("planner.week.normal", lang, start=normal.attrs["dates"][0].isoformat())]
        if holiday is not None:
            titles.append(t("planner.week.holiday", lang, start=holiday.attrs["dates"][0].isoformat()))
        fig = make_subplots(rows=1, cols=len(frames), subplot_titles=titles, horizontal_spacing=0.08)
        top = max(float(np.nanmax(f.to_numpy())) for f in frames)
        for col, frame in enumerate(frames, start=1):
            fig.add_trace(go.Heatmap(z=frame.to_numpy(), x=hours, y=labels(frame), colorscale="YlOrRd_r",
                                     zmin=0, zmax=top, hovertemplate=hover, showscale=col == len(frames),
                                     colorbar={"title": {"text": t("planner.axis.share", lang), "side": "right"}}),
                          row=1, col=col)
            fig.update_yaxes(autorange="reversed", row=1, col=col)
        marked = frames
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.layout.yaxis.title.text = t("planner.axis.day", lang)  # the first panel's: the days are the same rows
    fig.update_xaxes(title_text=t("planner.axis.hour", lang), dtick=3, automargin=True)
    if at and marked:
        moment = dt.datetime.fromisoformat(at)
        for col, frame in enumerate(marked, start=1):
            if moment.date() in frame.attrs["dates"]:
                row = frame.attrs["dates"].index(moment.date())  # a category's position on the y axis
                fig.add_shape(type="rect", x0=moment.hour - 0.5, x1=moment.hour + 0.5, y0=row - 0.5, y1=row + 0.5,
                              xref=f"x{col if col > 1 else ''}", yref=f"y{col if col > 1 else ''}",
                              line={"color": "#1d4ed8", "width": 3}, layer="above")
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 30}, font={"family": FONT, "size": 12},
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="#fff", template="plotly_white")
    return fig


def refused_figure(text: str):
    """An empty chart that says why it is empty."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font={"family": FONT, "size": 13, "color": "#9a3412"})
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, template="plotly_white",
                      paper_bgcolor="rgba(0,0,0,0)", margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def week_view(query_data, view, holiday_value, state, demand=None):
    lang = lang_of(state)
    query = the_query(query_data)
    day = today()
    holiday_day = known_holiday_day(holiday_value, day)
    if holiday_day is None:
        block = default_holiday(day)
        holiday_day = block.first if block else None
    model = demand_model(demand)

    def percent(week_of):
        frame = model.week(query.radius_m, query.amenities, week_of, query.mode)
        out = frame * 100.0
        out.attrs = frame.attrs
        return out

    try:
        normal = percent(ordinary_week_monday(day))
        hol = percent(holiday_day) if holiday_day else None
    except LimitError as exc:
        return refused_figure(too_costly_text(exc, lang))
    return week_figure(normal, hol, view if view in ("side", "diff") else "side", query.at, lang)


# ---------------------------------------------------------------------------------------------
# where to add stations

def site_name(candidate, lang: str) -> str:
    name = candidate.get("name")
    if isinstance(name, str) and name:
        return name
    key = "planner.sites.own" if candidate.get("source") == "planner" else "planner.sites.grid"
    return t(key, lang, id=candidate["id"])


def pick_names(picks: pd.DataFrame, candidates, lang: str) -> list[str]:
    """Each pick's name: the result row's own (``name_en`` on the English page, else ``name``) when it carries
    one, else the candidate's label (its name, or 网格点 and its id)."""
    by_id = candidates.set_index("id")

    def own(column):
        return picks[column].tolist() if column in picks else [None] * len(picks)

    names = []
    for i, zh, en in zip(picks["id"], own("name"), own("name_en")):
        name = next((n.strip() for n in ((en, zh) if lang == "en" else (zh,)) if isinstance(n, str) and n.strip()),
                    None)
        names.append(name or site_name({"id": i, "name": by_id.at[i, "name"], "source": by_id.at[i, "source"]}, lang))
    return names


def site_item(row: dict, name: str, lang: str):
    """One pick in the list: its name and gain, and its coordinates (``lat, lon``) as plain text to select and copy."""
    coords = row.get("coords")
    coords = coords if isinstance(coords, str) and coords else f"{row['lat']:.6f}, {row['lon']:.6f}"
    return html.Li([
        html.Span(t("planner.sites.item", lang, rank=int(row["rank"]), name=name, gain=number(row["gain"]),
                    share=pct(row["share"])), className="site-text"),
        html.Span(coords, className="site-coords", title=t("planner.sites.coords", lang),
                  **{"aria-label": f"{t('planner.sites.coords', lang)}: {coords}"}),
    ], className="site-pick", **{"data-gain": f"{row['gain']:.6f}"})


def gain_figure(picks: pd.DataFrame, names: list[str], lang: str, unit: str = "orders_per_day"):
    """The marginal gain of each pick, in the order picked: both axes titled with their units (the stored
    demand counts orders a day, an upload its own weights)."""
    fig = go.Figure(go.Bar(x=picks["rank"].tolist(), y=picks["gain"].round(1).tolist(), marker_color="#c2410c",
                           customdata=names, hovertemplate="%{x}. %{customdata}<br>+%{y:,.0f}<extra></extra>"))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 30}, font={"family": FONT, "size": 12},
                      template="plotly_white", paper_bgcolor="rgba(0,0,0,0)", bargap=0.2,
                      title={"text": t("planner.sites.gain", lang), "font": {"size": 14}},
                      xaxis={"title": {"text": t("planner.axis.pick", lang)}, "dtick": 1 if len(picks) <= 20 else 5,
                             "automargin": True},
                      yaxis={"title": {"text": t(f"planner.axis.gain.{unit}", lang)}, "automargin": True})
    return fig


def gain_chart(picks: pd.DataFrame, names: list[str], lang: str, unit: str):
    """The chart's place: the gain chart, or none when nothing was picked (the message says why)."""
    if picks.empty:
        return None
    return dcc.Graph(id=PLANNER.sites_graph, figure=gain_figure(picks, names, lang, unit), className="sites-graph",
                     config={"displaylogo": False, "responsive": True}, style={"height": "280px"})


def sites_view(k_value, query_data, state, demand=None, cands=None):
    """(message, list, the chart's place, map layer): no chart without picks."""
    lang = lang_of(state)
    query = the_query(query_data)
    k, k_changed = k_asked(k_value)
    candidates, cands_expired = candidates_in_use(cands)
    model, upload, _ = demand_in_use(demand)
    try:
        result = recommend_sites(model, candidates, query.question(), k)
    except LimitError as exc:
        return too_costly(exc, lang), [], None, geojson.collection([])
    picks = result.picks
    names = pick_names(picks, candidates, lang)
    base = result.baseline / result.total_demand if result.total_demand > 0 else None
    msg = [html.P(t("planner.sites.summary", lang, n=len(picks), before=pct(base), after=pct(result.share)))]
    if cands_expired:
        msg.insert(0, html.P(t("planner.cands.expired", lang), className="warning"))
    if k_changed:
        msg.insert(0, html.P(t("planner.k.not_used", lang, max=MAX_K, k=k), className="warning k-refused"))
    if len(picks) < k:
        msg.append(html.P(t("planner.sites.fewer", lang, n=len(picks)), className="warning"))
    rows = picks.to_dict("records")
    items = [site_item(r, n, lang) for r, n in zip(rows, names)]
    features = [geojson.feature(geojson.point(r["lon"], r["lat"]), {"rank": int(r["rank"]), "name": n})
                for r, n in zip(rows, names)]
    unit = "orders_per_day" if upload is None else "weight"
    return msg, items, gain_chart(picks, names, lang, unit), geojson.collection(features)


def exact_view(adcode, k_value, query_data, state, demand=None, cands=None):
    lang = lang_of(state)
    query = the_query(query_data)
    districts = planning().districts()
    code = known_adcode(adcode)
    if code is None:
        return html.P(t("planner.exact.unknown", lang), className="warning")
    cmp = compare_in_district(demand_model(demand), candidates_in_use(cands)[0], query.question(), clip_k(k_value),
                              code, PAGE_EXACT_MAX_CELLS, PAGE_EXACT_TIME_LIMIT_S)
    row = districts[districts["adcode"] == code].iloc[0]
    size = html.P(t("planner.exact.size", lang, name=district_label(row, lang), points=cmp.points,
                    cands=cmp.candidates, k=clip_k(k_value)))
    if cmp.exact is None:
        return [size, html.P(t("planner.exact.too_large", lang, reason=cmp.refused), className="warning too-large")]

    def line(key, r):
        return html.Tr([html.Th(t(key, lang)), html.Td(number(r.objective)), html.Td(pct(r.share)),
                        html.Td(f"{r.seconds:.2f}")], className=r.method)

    ratio = cmp.ratio
    return [size, html.Table([
        html.Thead(html.Tr([html.Th(t("planner.exact.method", lang)), html.Th(t("planner.exact.objective", lang)),
                            html.Th(t("planner.share", lang)), html.Th(t("planner.exact.seconds", lang))])),
        html.Tbody([line("planner.exact.greedy", cmp.greedy), line("planner.exact.exact", cmp.exact)]),
    ], className="exact-table"), html.P(t("planner.exact.ratio", lang, pct=f"{ratio:.2%}"), className="ratio")]


# ---------------------------------------------------------------------------------------------
# downloads

def report_links(query_data, k_value, adcode, demand=None, cands=None, whatif=None, lang=None) -> list[str]:
    """The download links of the page's question, of the demand, candidate sites and what-if the page uses,
    with its language (the reports' headings)."""
    query = the_query(query_data)
    params = query.report_params()
    whatif = clean_what_if(whatif, planning().model().station_ids, planning().outline())
    params.update(what_if_params(whatif["added"], whatif["removed"]))
    params["lang"] = language(lang)
    _, upload, _ = demand_in_use(demand)
    if upload is not None:
        params["demand"] = demand["token"]
    if isinstance(cands, dict) and planning().candidates_for_token(cands.get("token")) is not None:
        params["candidates"] = cands["token"]
    code = known_adcode(adcode) or min(planning().adcodes())
    hrefs = []
    for key, url in PLANNER_DOWNLOADS.items():
        extra = {}
        if key in ("dl_sites_geojson", "dl_sites_csv"):
            extra = {"k": str(clip_k(k_value))}
        if key == "dl_district_map":
            extra = {"adcode": str(code), "k": str(clip_k(k_value))}
        hrefs.append(f"{url}?{urlencode({**extra, **params})}")
    return hrefs


def downloads_note(demand, state):
    _, upload, _ = demand_in_use(demand)
    if upload is None:
        return None
    return t("planner.downloads.uploaded", lang_of(state), name=upload.summary["name"], n=MAX_UPLOADS)


# ---------------------------------------------------------------------------------------------
# uploads: the planner's own demand and candidate sites, kept on the server under a token

def file_label(filename) -> str:
    """The uploaded file's name as the page shows it (client data: only a short plain string)."""
    name = filename if isinstance(filename, str) else ""
    name = "".join(c for c in name if c.isprintable()).strip()
    return (name[:60] + "…") if len(name) > 61 else (name or "?")


def problems_table(problems: list[dict], lang: str):
    """The first bad rows of a refused upload: row number, field, what is wrong."""
    def row_cell(p):
        return str(p["row"]) if p.get("row") is not None else t("planner.upload.file", lang)

    head = html.Thead(html.Tr([html.Th(t("planner.upload.row", lang)), html.Th(t("planner.upload.field", lang)),
                               html.Th(t("planner.upload.problem", lang))]))
    body = html.Tbody([html.Tr([html.Td(row_cell(p), className="problem-row"), html.Td(p.get("field") or ""),
                                html.Td(p.get("message") or "")], className="upload-problem")
                       for p in problems[:SHOWN_PROBLEMS]])
    return html.Table([head, body], className="problems-table")


def read_upload(parse, contents, filename, crs):
    """The parsed upload, or the DemandUploadError saying why not; every value from the client re-checked."""
    crs = crs if crs in INPUT_CRS else "wgs84"
    content_type = content_type_of(filename)
    data = decode_data_url(contents)
    return parse(data, content_type, crs, planning().outline())


def refusal(exc: DemandUploadError, filename, lang: str):
    msg = html.P(t("planner.upload.refused", lang, name=file_label(filename), message=exc.message),
                 className="warning upload-refused")
    return msg, problems_table(exc.problems, lang) if exc.problems else None


def demand_upload_view(trigger, contents, filename, crs, state):
    """(demand store, message, bad rows, upload contents) after an upload or a reset."""
    lang = lang_of(state)
    if trigger == PLANNER.demand_reset:
        return None, None, None, None
    if not contents:
        return no_update, no_update, no_update, no_update
    try:
        points = read_upload(parse_demand_upload, contents, filename, crs)
    except DemandUploadError as exc:
        # nothing half-loaded: the store keeps the previous demand
        return (no_update, *refusal(exc, filename, lang), None)
    name = file_label(filename)
    token = planning().add_upload(points, name)
    summary = {"token": token, "name": name, "rows": len(points), "weight": float(points.weight.sum()),
               "crs": points.crs}
    msg = html.P(t("planner.demand.loaded", lang, name=name, n=number(len(points))), className="upload-ok")
    return summary, msg, None, None


def candidates_label(cands, lang: str):
    upload = planning().candidate_uploads.get(cands.get("token")) if isinstance(cands, dict) else None
    if upload is None:
        return t("planner.cands.default", lang, n=number(len(planning().candidates())))
    s = upload.summary
    return t("planner.cands.uploaded", lang, name=s["name"], n=number(s["rows"]), crs=CRS_LABEL[s["crs"]])


def candidates_upload_view(trigger, contents, filename, crs, cands, state):
    """(candidates store, label, message, bad rows, upload contents) after an upload or a reset."""
    lang = lang_of(state)
    if trigger == PLANNER.cands_reset or trigger is None:
        return None, candidates_label(None, lang), None, None, None
    if not contents:
        return no_update, no_update, no_update, no_update, no_update
    try:
        sites = read_upload(parse_candidate_upload, contents, filename, crs)
    except DemandUploadError as exc:
        return (no_update, no_update, *refusal(exc, filename, lang), None)
    name = file_label(filename)
    crs = crs if crs in INPUT_CRS else "wgs84"
    token = planning().add_candidates(sites, name, crs)
    store = {"token": token, "name": name, "rows": len(sites), "crs": crs}
    msg = html.P(t("planner.cands.loaded", lang, name=name, n=number(len(sites))), className="upload-ok")
    return store, candidates_label(store, lang), msg, None, None



# --- the national coverage job -----------------------------------------------------------------------

#: The jobs API (api/national_jobs.py) the page posts its file to and links the tables of.
NATIONAL_JOBS = "/api/v1/planner/national-jobs"
_GONE = {"display": "none"}

def national_post_url(query_data) -> str:
    """Where the page posts a national demand file: the jobs API with the page's reach, amenities and time."""
    params = the_query(query_data).report_params()
    params.pop("mode", None)  # a national job measures straight-line distance
    return f"{NATIONAL_JOBS}?{urlencode(params)}"


def national_job_id(job_data) -> int | None:
    """The job id the page's store holds (client data: checked)."""
    job_id = job_data.get("id") if isinstance(job_data, dict) else None
    return job_id if isinstance(job_id, int) and not isinstance(job_id, bool) and job_id > 0 else None


def national_cancel(job_data) -> dict | None:
    """Ask the page's job to stop; what the cancel store records."""
    job_id = national_job_id(job_data)
    if job_id is None:
        return no_update
    job = jobs_of(services().store).cancel(job_id)
    return {"id": job_id, "state": None if job is None else job.state}


def national_job_view(job_data, state):
    """The job's line, bar, cancel button, result link and whether to keep polling:
    (status, bar value, bar style, cancel style, link href, link style, poll disabled, message)."""
    lang = lang_of(state)
    hidden = ("", 0, _GONE, _GONE, None, _GONE, True)
    if not isinstance(job_data, dict):
        return (*hidden, no_update)
    if job_data.get("error") is not None:
        return (*hidden, t("planner.national.refused", lang, error=str(job_data["error"])[:300]))
    job_id = national_job_id(job_data)
    if job_id is None:
        return (*hidden, no_update)
    job = jobs_of(services().store).get(job_id)
    if job is None:
        return (*hidden[:-1], True, t("planner.national.gone", lang))
    rows = number(job.rows_done)
    key = "cancelling" if job.state == "running" and job.cancel_requested else job.state
    status = t(f"planner.national.state.{key}", lang, id=job.id, rows=rows, pct=pct(job.fraction),
               error=job.error or "")
    value = round(100 * (job.fraction or 0))
    href = f"{NATIONAL_JOBS}/{job.id}/tables.xlsx" if job.state == "done" else None
    return (status, value, {}, _GONE if job.ended else {}, href, _GONE if href is None else {}, job.ended, "")
