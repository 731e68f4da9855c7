"""The rider map's base: the tile layer configured, and the extent of the store's own roads on our own base map."""
from __future__ import annotations

import contextlib
from pathlib import Path

import dash_leaflet as dl
import pytest
import shapely
from dash import html

from layers.common.network import RoadNetwork
from layers.services import EXTENSION
from mapdata.config import Settings

CLIP = Path(__file__).resolve().parents[2] / "data" / "chengdu_clip.osm"


@contextlib.contextmanager
def serving(dash_app, settings):
    import app as app_module

    saved = dash_app.server.extensions[EXTENSION]
    dash_app.server.extensions[EXTENSION] = app_module.create_services(settings)
    try:
        with dash_app.server.test_request_context("/"):
            yield
    finally:
        dash_app.server.extensions[EXTENSION] = saved


def parts(children) -> tuple[list, list]:
    panes = [c for c in children if isinstance(c, dl.Pane)]
    notes = [n for c in children if isinstance(c, html.Div) for n in c.children]
    return panes, notes


@pytest.fixture(scope="module")
def clip_db(tmp_path_factory):
    from mapdata.build import main
    from tests.helpers import TEST_SEED

    out = tmp_path_factory.mktemp("clip") / "nuanxin.gpkg"
    assert main(["--osm", str(CLIP), "--out", str(out), "--seed", str(TEST_SEED)]) == 0
    return out


def test_the_road_extent_is_that_of_the_stores_roads(dash_app, app_db, clip_db):
    from mapdata.store import open_store
    from pages.base_map import road_extent_geojson

    sizes = []
    for db in (app_db, clip_db):
        with serving(dash_app, Settings(db_path=db, secret_key="t")):
            extent = road_extent_geojson()
        drawn = shapely.geometry.shape(extent["features"][0]["geometry"])
        assert drawn.equals(RoadNetwork.from_roads(open_store(db).read("roads")).extent.boundary)
        minx, miny, maxx, maxy = drawn.bounds
        sizes.append(max(maxx - minx, maxy - miny))
    # the bundled extract's outline is some kilometres wide, the clip's a few hundred metres
    assert sizes[0] > 0.05 > 0.01 > sizes[1]


def test_own_base_map_extent_and_notes_by_tile_setting(dash_app, app_db):
    from pages.base_map import EXTENT_PANE, own_base_map

    for source, pane_hidden, notes_expected in (("none", False, [("road-extent-note", False)]),
                                                ("auto", True, [("tiles-failed-note", True),
                                                                ("road-extent-note", True)])):
        settings = Settings(db_path=app_db, secret_key="t", tile_source=source)
        with serving(dash_app, settings):
            panes, notes = parts(own_base_map(settings.tiles, "zh", {}))
        assert [p.name for p in panes] == [EXTENT_PANE]
        assert ("display" in panes[0].style) is pane_hidden
        assert [(n.className.split()[-1], bool(getattr(n, "hidden", False))) for n in notes] == notes_expected
    # tiles always drawn (osm, amap): they have roads everywhere, so no extent and no note
    for source in ("osm", "amap"):
        settings = Settings(db_path=app_db, secret_key="t", tile_source=source)
        with serving(dash_app, settings):
            assert own_base_map(settings.tiles, "zh", {}) == []
