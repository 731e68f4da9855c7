"""Reading the OpenStreetMap extract of central Chengdu: raw layers, extra tags and the roads layer.

The extract (``mapdata/sources/osm/chengdu_center_2018.osm``, © OpenStreetMap contributors,
ODbL 1.0) is OSM XML in WGS-84. GDAL's OSM driver exposes it as the layers ``points``,
``lines``, ``multilinestrings``, ``multipolygons`` and ``other_relations``; tags without a
column of their own sit in ``other_tags`` as an hstore-like string ``"k"=>"v","k2"=>"v2"``.
"""
from __future__ import annotations

import functools
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapdata import SOURCES

OSM_PATH = SOURCES / "osm" / "chengdu_center_2018.osm"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"

#: ``oneway`` values that mean "one way in the direction of the way" / "against it".
_ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSE = frozenset({"-1", "reverse"})
#: Highway kinds that are one way without a ``oneway`` tag (OSM wiki, Key:oneway).
_IMPLIED_ONEWAY = frozenset({"motorway", "motorway_link", "trunk_link"})

_TAG_RE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
_UNESCAPE_RE = re.compile(r"\\(.)")


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


def parse_other_tags(series: pd.Series) -> list[dict[str, str]]:
    """Parse GDAL's ``other_tags`` strings into one dict per row.

    Parameters
    ----------
    series : Series of str or missing values
        Values like ``'"oneway"=>"yes","lanes"=>"2"'``.

    Returns
    -------
    list of dict
        One dict per row, in order; a missing value gives an empty dict. Escaped quotes and
        backslashes inside keys and values are unescaped.
    """
    out: list[dict[str, str]] = []
    for value in series.tolist():
        if not isinstance(value, str) or not value:
            out.append({})
            continue
        out.append({_UNESCAPE_RE.sub(r"\1", k): _UNESCAPE_RE.sub(r"\1", v) for k, v in _TAG_RE.findall(value)})
    return out


def load_roads() -> gpd.GeoDataFrame:
    """The ``roads`` layer: every OSM ``highway`` line of the extract.

    Returns
    -------
    GeoDataFrame
        Columns ``id`` (``rd-00001`` …), ``osm_id`` (the way id as text), ``name`` (None when the
        way has none), ``highway``, ``oneway`` and a LineString geometry in EPSG:4326, sorted by
        way id (then by part) so that ids are stable between builds. Ways tagged
        ``oneway=-1`` are reversed, so that for every one-way road the direction of travel is
        the direction of its geometry.
    """
    lines = read_layer("lines")
    lines = lines[lines["highway"].notna() & lines.geometry.notna()].copy()
    tags = parse_other_tags(lines["other_tags"])
    oneway_tag = pd.Series([t.get("oneway", "").strip().lower() for t in tags], index=lines.index)
    roundabout = pd.Series([t.get("junction") == "roundabout" for t in tags], index=lines.index)
    reverse = oneway_tag.isin(_ONEWAY_REVERSE)
    # an explicit oneway=no overrides the implied one-way of motorways and roundabouts
    implied = (lines["highway"].isin(_IMPLIED_ONEWAY) | roundabout) & (oneway_tag != "no")
    lines["oneway"] = (oneway_tag.isin(_ONEWAY_FORWARD) | reverse | implied).astype(bool)
    geoms = lines.geometry.values
    geoms[reverse.to_numpy()] = shapely.reverse(geoms[reverse.to_numpy()])
    lines = lines.set_geometry(geoms)

    lines = lines.explode(index_parts=True)
    lines["_part"] = lines.index.get_level_values(-1)
    lines["_way"] = lines["osm_id"].astype(np.int64)
    lines = lines.sort_values(["_way", "_part"], kind="stable").reset_index(drop=True)
    roads = gpd.GeoDataFrame({
        "id": [f"rd-{i:05d}" for i in range(1, len(lines) + 1)],
        "osm_id": lines["_way"].astype(str).to_numpy(dtype=object),
        "name": lines["name"].astype(object).where(lines["name"].notna(), None).to_numpy(),
        "highway": lines["highway"].astype(str).to_numpy(dtype=object),
        "oneway": lines["oneway"].to_numpy(dtype=bool),
    }, geometry=lines.geometry.values, crs="EPSG:4326")
    return roads
