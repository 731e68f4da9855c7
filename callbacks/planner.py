"""Callbacks of the planner page: thin — validate every input, ask layers/, shape figures, tables and map styles."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, callback, ctx, html, no_update
from flask import current_app
from plotly.subplots import make_subplots

from layers.planning.demand import (
    DemandUploadError, content_type_of, decode_data_url, parse_candidate_upload, parse_demand_upload,
)
from layers.common.hours import holiday_name
from pages.i18n import language, t
from layers.planning.questions import (
    MAX_EXTRA_STATIONS, PlannerQuery, clean_what_if, clip_k, compare_in_district, default_holiday, gap_breaks,
    gap_hexagons, gap_levels, inside_districts, known_holiday_day, ordinary_week_monday, query_time,
    recommend_sites, today, week_tables, what_if,
)
from layers.planning.context import MAX_UPLOADS
from mapdata.vocabulary import INPUT_CRS
from pages.ids import PLANNER, PLANNER_DOWNLOADS

#: Colours of uncovered demand (level 0 = nothing uncovered, drawn clear) and of district shares.
GAP_COLOURS = ["#fde7c8", "#fdba74", "#f97316", "#c2410c", "#7c2d12"]
SHARE_BREAKS = [0.2, 0.3, 0.4, 0.5, 0.6]
SHARE_COLOURS = ["#e7e5e4", "#ccfbf1", "#99f6e4", "#5eead4", "#2dd4bf", "#0d9488"]
FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
CRS_LABEL = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}
#: Bad rows listed on the page (the message gives the total).
SHOWN_PROBLEMS = 50


def planning():
    return current_app.extensions["nuanxin.planning"]


def lang_of(state) -> str:
    return language((state or {}).get("lang"))


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


def demand_model(demand):
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


def the_query(data) -> PlannerQuery:
    """The page's question from the query store, re-validated: the store is client data."""
    return PlannerQuery.model_validate(data if isinstance(data, dict) else {})


def pct(share) -> str:
    return "—" if share is None or pd.isna(share) else f"{share * 100:.1f}%"


def signed_pct(delta) -> str:
    return "—" if delta is None or pd.isna(delta) else f"{delta * 100:+.2f}"


def number(x) -> str:
    return f"{x:,.0f}"


def district_label(row, lang: str) -> str:
    return row["name"] if lang == "zh" or not row.get("name_en") else row["name_en"]


def when_text(query: PlannerQuery, lang: str) -> str:
    """The question in words: the radius actually used (after clipping) and the moment."""
    reach = t("planner.when.radius", lang, m=f"{query.radius_m:,.0f}", mode=t(f"planner.mode.{query.mode}", lang))
    if query.at is None:
        return f"{reach} · {t('planner.when.any', lang)}"
    moment = dt.datetime.fromisoformat(query.at)
    day = moment.date()
    name = holiday_name(day, lang)
    when = f"{t(f'weekday.{day.weekday()}', lang)} {day.isoformat()} {moment:%H:%M}" + (f" · {name}" if name else "")
    return f"{reach} · {t('planner.when.at', lang, when=when)}"


# ---------------------------------------------------------------------------------------------
# the question

@callback(
    Output(PLANNER.query, "data"),
    Output(PLANNER.radius_custom, "disabled"),
    Output(PLANNER.weekday, "disabled"),
    Output(PLANNER.hour, "disabled"),
    Output(PLANNER.holiday, "disabled"),
    Input(PLANNER.radius, "value"),
    Input(PLANNER.radius_custom, "value"),
    Input(PLANNER.mode, "value"),
    Input(PLANNER.amenities, "value"),
    Input(PLANNER.time_kind, "value"),
    Input(PLANNER.weekday, "value"),
    Input(PLANNER.hour, "value"),
    Input(PLANNER.holiday, "value"),
    Input(PLANNER.h3_res, "value"),
)
def read_question(radius, custom, mode, amenities, time_kind, weekday, hour, holiday, h3_res):
    """The controls as one validated question (radius clipped, amenities known, a real date)."""
    radius_m = custom if radius == "custom" else radius
    at = query_time(time_kind, weekday, hour, holiday, today())
    query = PlannerQuery.model_validate({"radius_m": radius_m, "amenities": amenities, "at": at, "mode": mode,
                                         "h3_res": h3_res})
    return (query.model_dump(mode="json"), radius != "custom", time_kind != "week", time_kind == "any",
            time_kind != "holiday")


# ---------------------------------------------------------------------------------------------
# the figures, the table and the map's colours

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
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": p},
                 "properties": {"kind": "added", "index": i, "name": t("planner.whatif.added", lang, n=i + 1)}}
                for i, p in enumerate(whatif["added"])]
    for sid in whatif["removed"]:
        row = stations.loc[sid]
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [row.geometry.x, row.geometry.y]},
                         "properties": {"kind": "removed", "id": sid,
                                        "name": t("planner.whatif.removed", lang, name=row["name"])}})
    return {"type": "FeatureCollection", "features": features}


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


def coverage_view(query_data, whatif_data, state, demand=None):
    """Everything that follows from the question, the demand and the what-if, in one pass over the model."""
    lang = lang_of(state)
    query = the_query(query_data)
    model, upload, expired = demand_in_use(demand)
    whatif = clean_what_if(whatif_data, model.station_ids, model.districts)
    change = what_if(model, query, whatif["added"], whatif["removed"])
    result = change.changed if change else model.coverage(**query.coverage_args())
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


@callback(
    Output(PLANNER.overall_share, "children"),
    Output(PLANNER.overall_points, "children"),
    Output(PLANNER.overall_stations, "children"),
    Output(PLANNER.when, "children"),
    Output(PLANNER.network_note, "children"),
    Output(PLANNER.districts_table, "data"),
    Output(PLANNER.hexagons, "hideout"),
    Output(PLANNER.base_districts, "hideout"),
    Output(PLANNER.legend, "children"),
    Output(PLANNER.whatif_summary, "children"),
    Output(PLANNER.whatif_layer, "data"),
    Output(PLANNER.stations, "hideout"),
    Output(PLANNER.demand_label, "children"),
    Input(PLANNER.query, "data"),
    Input(PLANNER.whatif, "data"),
    Input(PLANNER.demand, "data"),
    State(PLANNER.state, "data"),
)
def show_coverage(query_data, whatif_data, demand, state):
    if query_data is None:
        return (no_update,) * 13
    return coverage_view(query_data, whatif_data, state, demand)


@callback(
    Output(PLANNER.hexagons, "data"),
    Input(PLANNER.h3_res, "value"),
    Input(PLANNER.demand, "data"),
    prevent_initial_call=True,
)
def hexagon_shapes(h3_res, demand):
    """New hexagon polygons only when the resolution or the demand changes (the colours come with the coverage)."""
    return hexagon_view(h3_res, demand)


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


@callback(
    Output(PLANNER.panel, "children"),
    # n_clicks, not clickData: a second click on the same spot repeats clickData, which Dash does not report
    Input(PLANNER.hexagons, "n_clicks"),
    Input(PLANNER.base_districts, "n_clicks"),
    State(PLANNER.hexagons, "clickData"),
    State(PLANNER.base_districts, "clickData"),
    State(PLANNER.click_mode, "value"),
    State(PLANNER.query, "data"),
    State(PLANNER.whatif, "data"),
    State(PLANNER.state, "data"),
    State(PLANNER.demand, "data"),
    prevent_initial_call=True,
)
def inspect(_hex_clicks, _district_clicks, hex_click, district_click, click_mode, query_data, whatif_data, state,
            demand):
    if click_mode != "inspect":
        return no_update
    return inspect_view(ctx.triggered_id, hex_click, district_click, query_data, whatif_data, state, demand)


def inspect_view(trigger, hex_click, district_click, query_data, whatif_data, state, demand=None):
    lang = lang_of(state)
    query = the_query(query_data)
    model = demand_model(demand)
    whatif = clean_what_if(whatif_data, model.station_ids, model.districts)
    result = model.coverage(**query.coverage_args(), extra_stations=whatif["added"] or None,
                            removed_station_ids=whatif["removed"] or None)
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


@callback(
    Output(PLANNER.whatif, "data"),
    Output(PLANNER.whatif_summary, "children", allow_duplicate=True),
    Input(PLANNER.map, "n_clicks"),
    Input(PLANNER.stations, "n_clicks"),
    Input(PLANNER.whatif_layer, "n_clicks"),
    Input(PLANNER.whatif_reset, "n_clicks"),
    State(PLANNER.map, "clickData"),
    State(PLANNER.stations, "clickData"),
    State(PLANNER.whatif_layer, "clickData"),
    State(PLANNER.click_mode, "value"),
    State(PLANNER.whatif, "data"),
    State(PLANNER.state, "data"),
    prevent_initial_call=True,
)
def edit_what_if(_map_clicks, _station_clicks, _whatif_clicks, _reset, map_click, station_click, whatif_click,
                 click_mode, whatif_data, state):
    return what_if_edit(ctx.triggered_id, map_click, station_click, whatif_click, click_mode, whatif_data, state)


def what_if_edit(trigger, map_click, station_click, whatif_click, click_mode, whatif_data, state):
    """The what-if after one click: every point and id checked against Chengdu and the stations."""
    lang = lang_of(state)
    model = planning().model()  # only its stations and districts, the same whichever demand is in use
    whatif = clean_what_if(whatif_data, model.station_ids, model.districts)
    if trigger == PLANNER.whatif_reset:
        return {"added": [], "removed": []}, None
    if click_mode != "whatif":
        return no_update, no_update
    if trigger == PLANNER.map:
        ll = (map_click or {}).get("latlng") if isinstance(map_click, dict) else None
        if not isinstance(ll, dict):
            return no_update, no_update
        lon, lat = ll.get("lng"), ll.get("lat")
        if not inside_districts(lon, lat, model.districts):
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
                                   colorbar={"title": {"text": "Δ"}}))
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
                                     colorbar={"title": {"text": "%"}}), row=1, col=col)
            fig.update_yaxes(autorange="reversed", row=1, col=col)
        marked = frames
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title_text=t("planner.week.hour", lang), dtick=3)
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


@callback(
    Output(PLANNER.week_graph, "figure"),
    Input(PLANNER.query, "data"),
    Input(PLANNER.week_view, "value"),
    Input(PLANNER.holiday, "value"),
    Input(PLANNER.demand, "data"),
    State(PLANNER.state, "data"),
)
def show_week(query_data, view, holiday_value, demand, state):
    if query_data is None:
        return no_update
    return week_view(query_data, view, holiday_value, state, demand)


def week_view(query_data, view, holiday_value, state, demand=None):
    lang = lang_of(state)
    query = the_query(query_data)
    day = today()
    holiday = known_holiday_day(holiday_value, day)
    if holiday is None:
        block = default_holiday(day)
        holiday = block.first if block else None
    normal, hol = week_tables(demand_model(demand), query, ordinary_week_monday(day), holiday)
    return week_figure(normal, hol, view if view in ("side", "diff") else "side", query.at, lang)


# ---------------------------------------------------------------------------------------------
# where to add stations

def site_name(candidate, lang: str) -> str:
    name = candidate.get("name")
    if isinstance(name, str) and name:
        return name
    key = "planner.sites.own" if candidate.get("source") == "planner" else "planner.sites.grid"
    return t(key, lang, id=candidate["id"])


def sites_view(k_value, query_data, state, demand=None, cands=None):
    lang = lang_of(state)
    query = the_query(query_data)
    k = clip_k(k_value)
    candidates, cands_expired = candidates_in_use(cands)
    result = recommend_sites(demand_model(demand), candidates, query, k)
    by_id = candidates.set_index("id")
    picks = result.picks
    names = [site_name({"id": i, "name": by_id.at[i, "name"], "source": by_id.at[i, "source"]}, lang)
             for i in picks["id"]]
    base = result.baseline / result.total_demand if result.total_demand > 0 else None
    msg = [html.P(t("planner.sites.summary", lang, n=len(picks), before=pct(base), after=pct(result.share)))]
    if cands_expired:
        msg.insert(0, html.P(t("planner.cands.expired", lang), className="warning"))
    if len(picks) < k:
        msg.append(html.P(t("planner.sites.fewer", lang, n=len(picks)), className="warning"))
    items = [html.Li(t("planner.sites.item", lang, rank=int(r["rank"]), name=n, gain=number(r["gain"]),
                       share=pct(r["share"])), className="site-pick", **{"data-gain": f"{r['gain']:.6f}"})
             for r, n in zip(picks.to_dict("records"), names)]
    fig = go.Figure(go.Bar(x=picks["rank"].tolist(), y=picks["gain"].round(1).tolist(), marker_color="#c2410c",
                           customdata=names, hovertemplate="%{x}. %{customdata}<br>+%{y:,.0f}<extra></extra>"))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 30}, font={"family": FONT, "size": 12},
                      template="plotly_white", paper_bgcolor="rgba(0,0,0,0)", bargap=0.2,
                      title={"text": t("planner.sites.gain", lang), "font": {"size": 14}},
                      xaxis={"title": {"text": t("planner.sites.rank", lang)}, "dtick": 1 if len(picks) <= 20 else 5})
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                 "properties": {"rank": int(r["rank"]), "name": n}}
                for r, n in zip(picks.to_dict("records"), names)]
    return msg, items, fig, {"type": "FeatureCollection", "features": features}


@callback(
    Output(PLANNER.sites_msg, "children"),
    Output(PLANNER.sites_list, "children"),
    Output(PLANNER.sites_graph, "figure"),
    Output(PLANNER.sites_layer, "data"),
    Input(PLANNER.recommend, "n_clicks"),
    Input(PLANNER.k, "n_submit"),
    Input(PLANNER.query, "data"),
    Input(PLANNER.demand, "data"),
    Input(PLANNER.cands, "data"),
    State(PLANNER.k, "value"),
    State(PLANNER.state, "data"),
    prevent_initial_call=True,
)
def recommend(n_clicks, n_submit, query_data, demand, cands, k_value, state):
    if not (n_clicks or n_submit) or query_data is None:
        return no_update, no_update, no_update, no_update
    return sites_view(k_value, query_data, state, demand, cands)


def exact_view(adcode, k_value, query_data, state, demand=None, cands=None):
    lang = lang_of(state)
    query = the_query(query_data)
    ctx_ = planning()
    districts = ctx_.districts()
    try:
        code = int(adcode)
    except (TypeError, ValueError):
        code = None
    if code not in set(districts["adcode"].astype(int).tolist()):
        return html.P(t("planner.exact.unknown", lang), className="warning")
    cmp = compare_in_district(demand_model(demand), candidates_in_use(cands)[0], query, clip_k(k_value), code)
    row = districts[districts["adcode"] == code].iloc[0]
    size = html.P(t("planner.exact.size", lang, name=district_label(row, lang), points=cmp.points,
                    cands=cmp.candidates, k=clip_k(k_value)))
    if cmp.exact is None:
        return [size, html.P(t("planner.exact.too_large", lang, reason=cmp.refused), className="warning too-large")]

    def line(key, r):
        return html.Tr([html.Th(t(key, lang)), html.Td(number(r.objective)), html.Td(pct(r.share)),
                        html.Td(f"{r.seconds:.2f}")], className=r.method)

    ratio = cmp.greedy.objective / cmp.exact.objective if cmp.exact.objective > 0 else 1.0
    return [size, html.Table([
        html.Thead(html.Tr([html.Th(t("planner.exact.method", lang)), html.Th(t("planner.exact.objective", lang)),
                            html.Th(t("planner.share", lang)), html.Th(t("planner.exact.seconds", lang))])),
        html.Tbody([line("planner.exact.greedy", cmp.greedy), line("planner.exact.exact", cmp.exact)]),
    ], className="exact-table"), html.P(t("planner.exact.ratio", lang, pct=f"{ratio:.2%}"), className="ratio")]


@callback(
    Output(PLANNER.exact_result, "children"),
    Input(PLANNER.exact_go, "n_clicks"),
    State(PLANNER.exact_district, "value"),
    State(PLANNER.k, "value"),
    State(PLANNER.query, "data"),
    State(PLANNER.state, "data"),
    State(PLANNER.demand, "data"),
    State(PLANNER.cands, "data"),
    prevent_initial_call=True,
)
def run_exact(n_clicks, adcode, k_value, query_data, state, demand, cands):
    if not n_clicks:
        return no_update
    return exact_view(adcode, k_value, query_data, state, demand, cands)


# ---------------------------------------------------------------------------------------------
# downloads

def report_links(query_data, k_value, adcode, demand=None, cands=None) -> list[str]:
    """The download links of the page's question, of the demand and candidate sites the page uses."""
    query = the_query(query_data)
    params = query.report_params()
    _, upload, _ = demand_in_use(demand)
    if upload is not None:
        params["demand"] = demand["token"]
    if isinstance(cands, dict) and planning().candidates_for_token(cands.get("token")) is not None:
        params["candidates"] = cands["token"]
    try:
        code = int(adcode)
    except (TypeError, ValueError):
        code = None
    known = set(planning().districts()["adcode"].astype(int).tolist())
    hrefs = []
    for key, url in PLANNER_DOWNLOADS.items():
        extra = {}
        if key == "dl_sites_geojson":
            extra = {"k": str(clip_k(k_value))}
        if key == "dl_district_map":
            extra = {"adcode": str(code if code in known else min(known))}
        hrefs.append(f"{url}?{urlencode({**extra, **params})}")
    return hrefs


def downloads_note(demand, state):
    _, upload, _ = demand_in_use(demand)
    if upload is None:
        return None
    return t("planner.downloads.uploaded", lang_of(state), name=upload.summary["name"], n=MAX_UPLOADS)


@callback(
    [Output(getattr(PLANNER, key), "href") for key in PLANNER_DOWNLOADS],
    Output(PLANNER.downloads_note, "children"),
    Input(PLANNER.query, "data"),
    Input(PLANNER.k, "value"),
    Input(PLANNER.map_district, "value"),
    Input(PLANNER.demand, "data"),
    Input(PLANNER.cands, "data"),
    State(PLANNER.state, "data"),
)
def download_links(query_data, k_value, adcode, demand, cands, state):
    if query_data is None:
        return [no_update] * len(PLANNER_DOWNLOADS) + [no_update]
    return report_links(query_data, k_value, adcode, demand, cands) + [downloads_note(demand, state)]


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


@callback(
    Output(PLANNER.demand, "data"),
    Output(PLANNER.demand_msg, "children"),
    Output(PLANNER.demand_errors, "children"),
    Output(PLANNER.demand_upload, "contents"),
    Input(PLANNER.demand_upload, "contents"),
    Input(PLANNER.demand_reset, "n_clicks"),
    State(PLANNER.demand_upload, "filename"),
    State(PLANNER.demand_crs, "value"),
    State(PLANNER.state, "data"),
    prevent_initial_call=True,
)
def load_demand(contents, _reset, filename, crs, state):
    return demand_upload_view(ctx.triggered_id, contents, filename, crs, state)


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


@callback(
    Output(PLANNER.cands, "data"),
    Output(PLANNER.cands_label, "children"),
    Output(PLANNER.cands_msg, "children"),
    Output(PLANNER.cands_errors, "children"),
    Output(PLANNER.cands_upload, "contents"),
    Input(PLANNER.cands_upload, "contents"),
    Input(PLANNER.cands_reset, "n_clicks"),
    State(PLANNER.cands_upload, "filename"),
    State(PLANNER.cands_crs, "value"),
    State(PLANNER.cands, "data"),
    State(PLANNER.state, "data"),
)
def load_candidates(contents, _reset, filename, crs, cands, state):
    return candidates_upload_view(ctx.triggered_id, contents, filename, crs, cands, state)
