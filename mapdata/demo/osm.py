"""Reading the OpenStreetMap extract of central Chengdu: raw layers, extra tags and the roads layer.

The extract (``mapdata/sources/osm/chengdu_center_2018.osm``, © OpenStreetMap contributors,
ODbL 1.0) is OSM XML in WGS-84. GDAL's OSM driver exposes it as the layers ``points``,
``lines``, ``multilinestrings``, ``multipolygons`` and ``other_relations``; tags without a
column of their own sit in ``other_tags`` as an hstore-like string ``"k"=>"v","k2"=>"v2"``.
"""
from __future__ import annotations

import functools

import geopandas as gpd

from mapdata import SOURCES
from mapdata.osm_extract import parse_other_tags, roads_from_lines  # noqa: F401  (parse_other_tags: used from here)

OSM_PATH = SOURCES / "osm" / "chengdu_center_2018.osm"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"


@functools.lru_cache(maxsize=None)
def _read_layer_cached(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(OSM_PATH, layer=name)


def read_layer(name: str) -> gpd.GeoDataFrame:
    """Read one layer of the OSM extract.

    Parameters
    ----------
    name : str
        ``"points"``, ``"lines"``, ``"multilinestrings"``, ``"multipolygons"`` or
        ``"other_relations"``.

    Returns
    -------
    GeoDataFrame
        A fresh copy (the file is parsed once per process), CRS EPSG:4326.
    """
    return _read_layer_cached(name).copy()


def load_roads() -> gpd.GeoDataFrame:
    """The ``roads`` layer: every OSM ``highway`` line of the bundled extract (see :func:`roads_from_lines`)."""
    return roads_from_lines(read_layer("lines"))
