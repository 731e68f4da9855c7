"""Routes of the report downloads: the planner's question answered as CSV, Excel, GeoJSON, GeoPackage or an offline map."""
from __future__ import annotations

import numpy as np
from flask import Response
from werkzeug.datastructures import Headers

from api import models as m
from api.coverage import question
from api.errors import ApiError, from_question, invalid
from api.params import parse_amenity_keys, parse_query, parse_time, services
from api.spec import ApiBlueprint
from api.stations import PREFIX
from exports.district_map import CONTENT_SECURITY_POLICY, district_map_html
from exports.geojson import gaps_geojson, sites_geojson
from exports.geopackage import gaps_gpkg
from exports.table_csv import coverage_table_csv, sites_table_csv
from exports.table_xlsx import coverage_table_xlsx
from layers.common.errors import QuestionError
from layers.planning.context import MAX_UPLOADS
from layers.planning.questions import coverage, parse_what_if, recommend_sites, what_if
from layers.planning.results import recommended_sites, stations_counted
from mapdata import clock

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GPKG = "application/geopackage+sqlite3"
GEOJSON = "application/geo+json"

bp = ApiBlueprint("api_reports", __name__)


def _download(data, mimetype: str, filename: str) -> Response:
    headers = Headers()
    headers.set("Content-Disposition", "attachment", filename=filename)
    # the map is HTML with inline scripts: never let a browser guess another type for it
    headers.set("X-Content-Type-Options", "nosniff")
    return Response(data, mimetype=mimetype, headers=headers)


def _unknown_upload(field: str) -> ApiError:
    return ApiError(404, "not_found", f"no upload with this {field} token on the server: it is unknown, or "
                    f"older than the last {MAX_UPLOADS} uploads; upload it again on the planner page", field)


class _Report:
    """One report question of the stored (or an uploaded) demand: the coverage result (with the page's what-if
    when ``added`` or ``removed`` are given), and the sites when ``k`` is given."""

    def __init__(self, query_model: type[m.ReportQuery] = m.ReportQuery):
        planning = services().planning
        self.q = q = parse_query(query_model)
        self.within = None if q.adcode is None else self._district(q.adcode)
        self.at = parse_time(q.at)
        self.question = question(q, parse_amenity_keys(q.amenities), self.at)
        self.model = planning.model() if q.demand is None else planning.model_for_token(q.demand)
        if self.model is None:
            raise _unknown_upload("demand")
        self.candidates = None if q.candidates is None else planning.candidates_for_token(q.candidates)
        if q.candidates is not None and self.candidates is None:
            raise _unknown_upload("candidates")
        try:
            self.added, self.removed = parse_what_if(q.added, q.removed, self.model.station_ids, planning.outline())
            self.whatif = what_if(self.model, self.question, self.added, self.removed)
            self.result = self.whatif.changed if self.whatif else coverage(self.model, self.question)
        except QuestionError as exc:
            raise from_question(exc) from None
        #: what a demand figure counts: the stored demand's orders a day, an upload's weights
        self.unit = "orders_per_day" if q.demand is None else "weight"
        stamp = "any" if self.at is None else self.at.strftime("%Y%m%dT%H%M")
        self.name = f"{q.radius_m:g}m-{stamp}"
        self.where = f"-{q.adcode}" if q.adcode else ""

    @staticmethod
    def _district(adcode: int):
        districts = services().planning.districts()
        row = districts[districts["adcode"].astype(np.int64) == adcode]
        if row.empty:
            raise invalid("adcode", f"no district with adcode {adcode}; adcodes: "
                                    f"{', '.join(str(a) for a in districts['adcode'])}")
        return row.geometry.iloc[0]

    def sites(self, in_district: bool = True):
        """(SitingResult, candidates) or (None, None) without ``k``: the same answer the page gives.

        ``in_district``: with ``adcode``, the k sites for that district's candidates; else (the district
        map) the page's own k sites over every candidate, wherever they lie."""
        if self.q.k is None:
            return None, None
        cands = services().planning.candidates() if self.candidates is None else self.candidates
        if in_district and self.q.adcode is not None:
            cands = cands[cands["adcode"].astype(np.int64) == self.q.adcode].reset_index(drop=True)
        try:
            return recommend_sites(self.model, cands, self.question, self.q.k), cands
        except QuestionError as exc:
            raise from_question(exc) from None


def _report(path: str, summary: str, mimetype: str, query=m.ReportQuery):
    return bp.operation("GET", f"{PREFIX}/reports/{path}", summary=summary, query=query, response_type=mimetype,
                        response_description="an attachment (Content-Disposition carries its name)", errors=(400, 404, 422))


@_report("coverage.csv", "District coverage table, UTF-8 CSV with BOM", "text/csv")
def report_csv():
    r = _Report()
    return _download(coverage_table_csv(r.result, r.q.lang, r.unit, r.whatif), "text/csv",
                     f"nuanxin-coverage-{r.name}.csv")


@_report("sites.csv", "Recommended sites for k new stations, UTF-8 CSV with BOM: name, coordinates, what each adds",
         "text/csv", query=m.ReportWithSitesQuery)
def report_sites_csv():
    r = _Report(m.ReportWithSitesQuery)
    sites, cands = r.sites()
    return _download(sites_table_csv(recommended_sites(sites, cands), r.q.lang, r.unit), "text/csv",
                     f"nuanxin-sites-k{r.q.k}{r.where}-{r.name}.csv")


@_report("coverage.xlsx", "Excel workbook: overall, districts, hexagons, week, and the sites when k is given", XLSX)
def report_xlsx():
    r = _Report()
    week_start = r.q.week_start or (r.at or clock.now()).date()
    # the page's week: the stations as they are (the what-if changes the figures of the moment asked)
    week = r.model.week(r.question.radius_m, r.question.amenities, week_start, r.question.mode)
    sites, cands = r.sites()
    table = recommended_sites(sites, cands) if sites is not None else None
    return _download(coverage_table_xlsx(r.result, week, r.q.lang, r.unit, r.whatif, table), XLSX,
                     f"nuanxin-coverage-{r.name}.xlsx")


@_report("gaps.geojson", "Hexagons with uncovered demand (RFC 7946)", GEOJSON)
def report_gaps_geojson():
    r = _Report()
    return _download(gaps_geojson(r.result, r.q.min_uncovered, r.within, services().planning.districts()), GEOJSON,
                     f"nuanxin-gaps{r.where}-{r.name}.geojson")


@_report("gaps.gpkg", "GeoPackage: layer gaps, and recommended_sites when k is given", GPKG)
def report_gaps_gpkg():
    r = _Report()
    sites, cands = r.sites()
    return _download(gaps_gpkg(r.result, sites, r.q.min_uncovered, cands, r.within, services().planning.districts()),
                     GPKG,
                     f"nuanxin-gaps{r.where}-{r.name}.gpkg")


@_report("sites.geojson", "Recommended sites for k new stations", GEOJSON, query=m.ReportWithSitesQuery)
def report_sites():
    r = _Report(m.ReportWithSitesQuery)
    sites, cands = r.sites()
    return _download(sites_geojson(sites, cands), GEOJSON, f"nuanxin-sites-k{r.q.k}{r.where}-{r.name}.geojson")


@_report("district_map.html", "A standalone map of one district that opens offline", "text/html",
         query=m.DistrictMapQuery)
def report_district_map():
    r = _Report(m.DistrictMapQuery)
    sites, cands = r.sites(in_district=False)
    model = r.model
    counted = stations_counted(model.stations, r.question.amenities, r.at, model.hours)
    if r.removed:
        counted &= ~model.stations["id"].astype(str).isin(r.removed).to_numpy()
    page = district_map_html(r.q.adcode, model.stations, r.result, sites, districts=services().planning.districts(),
                             counted=counted, candidates=cands, generated=clock.now(), hypothetical=r.added,
                             unit=r.unit, lang=r.q.lang)
    response = _download(page.encode("utf-8"), "text/html", f"nuanxin-map-{r.q.adcode}-{r.name}.html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
