"""Roads from an OpenStreetMap extract of one's own (``python -m mapdata.build --osm FILE``), checked before use.

GDAL's OSM driver (in the pinned pyogrio) reads both OSM XML (``.osm``) and OSM PBF (``.osm.pbf``); the roads are
made from its ``lines`` layer exactly as from the bundled extract (:func:`roads_from_lines`). A
wider extract than the bundled one gives the roads layer, the base map's roads and the riding network more city;
everything else (compounds, places, stations) still comes from the bundled sources. Whatever the extract leaves
out stays as before: a place off the network gets a straight-line estimate, marked as one.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path
from xml.etree import ElementTree

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

#: What ``--osm`` takes: OSM XML or OSM PBF.
SUFFIXES = (".osm", ".osm.pbf", ".pbf")
EXPECTED = "an OpenStreetMap extract in OSM XML (.osm) or OSM PBF (.osm.pbf) with highway ways in Chengdu"
_COLUMNS = ["osm_id", "name", "highway", "other_tags"]
#: The riding network's extent is the hull of its junctions: fewer than three make no area.
MIN_JUNCTIONS = 3

#: ``oneway`` values that mean "one way in the direction of the way" / "against it".
_ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSE = frozenset({"-1", "reverse"})
#: Highway kinds that are one way without a ``oneway`` tag (OSM wiki, Key:oneway).
_IMPLIED_ONEWAY = frozenset({"motorway", "motorway_link", "trunk_link"})

_TAG_RE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
_UNESCAPE_RE = re.compile(r"\\(.)")


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


def roads_from_lines(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The ``roads`` layer from GDAL's OSM ``lines`` layer of an extract: every ``highway`` line.

    Parameters
    ----------
    lines : GeoDataFrame
        GDAL's ``lines`` layer (``osm_id``, ``name``, ``highway``, ``other_tags``), EPSG:4326.

    Returns
    -------
    GeoDataFrame
        Columns ``id`` (``rd-00001`` …), ``osm_id`` (the way id as text), ``name`` (None when the
        way has none), ``highway``, ``oneway`` and a LineString geometry in EPSG:4326, sorted by
        way id (then by part) so that ids are stable between builds. Ways tagged
        ``oneway=-1`` are reversed, so that for every one-way road the direction of travel is
        the direction of its geometry.
    """
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


class OsmExtractError(ValueError):
    """An extract that cannot give the roads layer; the message names the file and what was expected."""

    def __init__(self, path: Path, problem: str):
        self.path = Path(path)
        super().__init__(f"{path}: {problem}; expected {EXPECTED}")


def _kind(path: Path) -> str:
    """``"xml"`` or ``"pbf"`` by the file's name, checked against its first bytes."""
    name = path.name.lower()
    if not any(name.endswith(s) for s in SUFFIXES):
        raise OsmExtractError(path, f"the name ends in {''.join(path.suffixes) or 'no suffix'!r}, not .osm or .osm.pbf")
    with path.open("rb") as f:
        head = f.read(64)
    if not head:
        raise OsmExtractError(path, "the file is empty")
    if name.endswith(".pbf"):
        # a PBF file opens with a BlobHeader whose type is "OSMHeader" (after a 4-byte length and a tag byte)
        if b"OSMHeader" not in head:
            raise OsmExtractError(path, "this is not an OSM PBF file (no OSMHeader block at its start)")
        return "pbf"
    try:
        for _, element in ElementTree.iterparse(path, events=("start",)):
            if element.tag != "osm":
                raise OsmExtractError(path, f"the XML's root element is <{element.tag}>, not <osm>")
            break
    except ElementTree.ParseError as exc:
        raise OsmExtractError(path, f"this is not well-formed XML ({exc})") from None
    return "xml"


def _read_lines(path: Path, bbox: tuple[float, float, float, float] | None) -> gpd.GeoDataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's notes on layers read out of order
            lines = pyogrio.read_dataframe(path, layer="lines", columns=_COLUMNS, where="highway IS NOT NULL",
                                           bbox=bbox)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
            pyogrio.errors.FeatureError) as exc:
        if "increasing node id" in str(exc).lower():
            raise OsmExtractError(path, "its nodes are not sorted by id (nodes first, by id, then ways, as "
                                        "`osmium sort` and osmconvert write them)") from None
        raise OsmExtractError(path, f"GDAL's OSM driver cannot read it ({exc})") from None
    if lines.crs is None or lines.crs.to_epsg() != 4326:
        raise OsmExtractError(path, f"its lines are in {lines.crs}, not WGS-84")
    return lines


def read_roads(path, outline=None) -> gpd.GeoDataFrame:
    """The ``roads`` layer from the extract at ``path``, for the store and the riding network.

    Parameters
    ----------
    path : str or Path
        An ``.osm`` or ``.osm.pbf`` file.
    outline : shapely geometry, optional
        Chengdu (WGS-84): only roads that touch it are kept (the rest of a regional extract is left out); without
        it every road is kept.

    Returns
    -------
    GeoDataFrame
        As :func:`roads_from_lines`: ``id``, ``osm_id``, ``name``, ``highway``, ``oneway``,
        LineStrings in EPSG:4326.

    Raises
    ------
    OsmExtractError
        For a missing, unreadable, empty, damaged or foreign file, one with no highway way (in Chengdu), or one
        whose roads meet at fewer than :data:`MIN_JUNCTIONS` junctions; the message names the file and what was
        expected.
    """
    path = Path(path)
    if not path.is_file():
        raise OsmExtractError(path, "no such file" if not path.exists() else "this is not a file")
    _kind(path)
    bbox = tuple(shapely.bounds(outline)) if outline is not None else None
    lines = _read_lines(path, bbox)
    if outline is not None and len(lines):
        shapely.prepare(outline)
        lines = lines[shapely.intersects(outline, lines.geometry.values)]
    if not len(lines):
        where = " in Chengdu" if outline is not None else ""
        raise OsmExtractError(path, f"it holds no highway way{where}")
    roads = roads_from_lines(lines)
    junctions = junction_count(roads)
    if junctions < MIN_JUNCTIONS:
        raise OsmExtractError(path, f"its {len(roads)} roads meet at {junctions} junction(s), fewer than "
                                    f"{MIN_JUNCTIONS}: no riding network can be made of them")
    return roads


def junction_count(roads: gpd.GeoDataFrame) -> int:
    """How many points two or more roads share (OSM ways joined at a node share its exact coordinate)."""
    coords, line = shapely.get_coordinates(roads.geometry.values, return_index=True)
    pairs = np.unique(np.column_stack([coords, line]), axis=0)  # each road counted once at a point
    _, roads_at = np.unique(pairs[:, :2], axis=0, return_counts=True)
    return int((roads_at >= 2).sum())
