"""Gap hexagons and recommended sites as RFC 7946 GeoJSON downloads."""
from __future__ import annotations

import geopandas as gpd

from layers.common import geojson
from layers.planning.coverage import CoverageResult
from layers.planning.results import gap_hexagons, hexagon_rings, recommended_sites
from layers.planning.siting import SitingResult


def gaps_collection(gaps: gpd.GeoDataFrame) -> bytes:
    """Gap hexagons (as :func:`layers.planning.results.gap_hexagons` gives them) with their exact H3 rings."""
    geometries = [{"type": "Polygon", "coordinates": [ring.tolist()]} for ring in hexagon_rings(gaps["h3"])]
    return geojson.records_collection(gaps.drop(columns=gaps.geometry.name), geometries, id_column="h3")


def gaps_geojson(result: CoverageResult, min_uncovered: float = 0, within=None,
                 districts: gpd.GeoDataFrame | None = None) -> bytes:
    """The gap hexagons of :func:`layers.planning.results.gap_hexagons` as an RFC 7946 GeoJSON FeatureCollection.

    Parameters
    ----------
    result : CoverageResult
    min_uncovered, within, districts
        See :func:`layers.planning.results.gap_hexagons`.

    Returns
    -------
    bytes
        UTF-8 GeoJSON; each feature's ``id`` is its H3 cell, its properties ``h3``, ``demand``,
        ``covered``, ``uncovered``, ``share``, ``points``, ``points_covered`` and, with ``districts``,
        the district: ``adcode``, ``district``, ``district_en``.
    """
    return gaps_collection(gap_hexagons(result, min_uncovered, within, districts))


def sites_geojson(siting_result: SitingResult, candidates: gpd.GeoDataFrame | None = None) -> bytes:
    """The recommended sites of :func:`layers.planning.results.recommended_sites` as an RFC 7946 GeoJSON FeatureCollection.

    Parameters
    ----------
    siting_result : SitingResult
    candidates : GeoDataFrame, optional
        See :func:`layers.planning.results.recommended_sites`.

    Returns
    -------
    bytes
        UTF-8 GeoJSON of points in pick order, with the marginal ``gain`` of each pick and its name
        (``name``, ``name_en``: district and nearest named place, street or compound) and ``coords``.
    """
    sites = recommended_sites(siting_result, candidates)
    geometries = [geojson.point(x, y) for x, y in zip(sites["lon"], sites["lat"])]
    return geojson.records_collection(sites.drop(columns=sites.geometry.name), geometries)
