"""Gap hexagons and recommended sites as one GeoPackage download."""
from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import pyogrio

from layers.planning.coverage import CoverageResult
from layers.planning.results import gap_hexagons, recommended_sites
from layers.planning.siting import SitingResult


def gaps_gpkg(result: CoverageResult, sites: SitingResult | None = None, min_uncovered: float = 0,
              candidates: gpd.GeoDataFrame | None = None, within=None,
              districts: gpd.GeoDataFrame | None = None) -> bytes:
    """Gap hexagons, and recommended sites when given, as one GeoPackage.

    Parameters
    ----------
    result : CoverageResult
    sites : SitingResult, optional
        Written as the layer ``recommended_sites``.
    min_uncovered, within, districts
        See :func:`layers.planning.results.gap_hexagons` (with ``districts`` each gap carries its
        ``adcode``, ``district`` and ``district_en``).
    candidates : GeoDataFrame, optional
        See :func:`layers.planning.results.recommended_sites`.

    Returns
    -------
    bytes
        A GeoPackage (EPSG:4326) with the layer ``gaps`` (polygons) and, with ``sites``,
        ``recommended_sites`` (points).
    """
    with tempfile.TemporaryDirectory(prefix="nuanxin-gpkg-") as tmp:
        path = Path(tmp) / "gaps.gpkg"
        pyogrio.write_dataframe(gap_hexagons(result, min_uncovered, within, districts), path, layer="gaps", driver="GPKG",
                                geometry_type="Polygon")
        if sites is not None:
            pyogrio.write_dataframe(recommended_sites(sites, candidates), path, layer="recommended_sites",
                                    driver="GPKG", geometry_type="Point", append=False)
        return path.read_bytes()
