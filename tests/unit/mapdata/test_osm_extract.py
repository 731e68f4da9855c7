"""`python -m mapdata.build --osm FILE`: the roads and the riding network from an extract of one's own, checked
first (all or nothing), on a small clip of the bundled extract (tests/data/chengdu_clip.osm and its .osm.pbf)."""
from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from mapdata.build import main
from mapdata.demo.osm import load_roads
from mapdata.osm_extract import read_roads
from mapdata.store import GeoPackageStore
from tests.helpers import TEST_SEED

DATA = Path(__file__).resolve().parents[2] / "data"
CLIP = DATA / "chengdu_clip.osm"
CLIP_PBF = DATA / "chengdu_clip.osm.pbf"
#: A station of the test build inside the clip (皇城清真寺), and a point 2.5 km away, outside it (inside the bundled
#: extract).
INSIDE = (30.6591784, 104.0603803)
OUTSIDE = (30.6700, 104.0800)
#: Three roads meeting in Beijing: real OSM, wrong city.
BEIJING_NODES = """ <node id="9000000001" lat="39.9087" lon="116.3975"/><node id="9000000002" lat="39.9087" lon="116.4010"/>
 <node id="9000000003" lat="39.9110" lon="116.4010"/><node id="9000000004" lat="39.9110" lon="116.3975"/>
"""
BEIJING_WAYS = """ <way id="9000000100"><nd ref="9000000001"/><nd ref="9000000002"/><tag k="highway" v="primary"/></way>
 <way id="9000000101"><nd ref="9000000002"/><nd ref="9000000003"/><tag k="highway" v="primary"/></way>
 <way id="9000000102"><nd ref="9000000003"/><nd ref="9000000004"/><nd ref="9000000001"/><tag k="highway" v="secondary"/></way>
"""
BEIJING = f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{BEIJING_NODES}{BEIJING_WAYS}</osm>\n'


@pytest.fixture(scope="module")
def clip_store(tmp_path_factory):
    out = tmp_path_factory.mktemp("osm") / "nuanxin.gpkg"
    assert main(["--osm", str(CLIP), "--out", str(out), "--seed", str(TEST_SEED)]) == 0
    return GeoPackageStore(out)


def test_the_roads_of_an_extract_are_made_as_the_bundled_ones():
    roads = read_roads(CLIP)
    assert len(roads) == 15 and roads["id"].tolist()[:2] == ["rd-00001", "rd-00002"]
    bundled = load_roads().drop_duplicates("osm_id").set_index("osm_id")
    same = bundled.loc[roads["osm_id"]]
    # the same ways with the same classes, names and one-way rule; their geometry cut at the clip's edge
    assert roads["highway"].tolist() == same["highway"].tolist()
    assert roads["name"].tolist() == same["name"].tolist()
    assert roads["oneway"].tolist() == same["oneway"].tolist()
    assert shapely.covers(shapely.buffer(same.geometry.values, 1e-9), roads.geometry.values).all()


def test_osm_pbf_reads_as_its_xml():
    xml, pbf = read_roads(CLIP), read_roads(CLIP_PBF)
    assert xml.drop(columns="geometry").equals(pbf.drop(columns="geometry"))
    assert xml.geometry.geom_equals_exact(pbf.geometry, tolerance=0).all()


def test_the_build_takes_its_roads_and_network_from_the_extract(clip_store, store):
    from layers.rider.catalogue import StationCatalogue

    roads = clip_store.read("roads")
    assert sorted(roads["osm_id"]) == sorted(read_roads(CLIP)["osm_id"])
    assert clip_store.info().extra == {"roads_source": "chengdu_clip.osm"}
    # everything else comes from the bundled sources, as in the ordinary build
    assert len(clip_store.read("stations")) == len(store.read("stations"))
    assert len(clip_store.read("compounds")) == len(store.read("compounds"))
    catalogue = StationCatalogue(clip_store)
    network = catalogue.network()
    minx, miny, maxx, maxy = shapely.bounds(network.extent)
    assert 104.057 < minx < maxx < 104.063 and 30.658 < miny < maxy < 30.662
    assert network.covers(*INSIDE) and not network.covers(*OUTSIDE)
    finder = catalogue.finder
    # on the clip's streets a riding time; everywhere else the straight-line estimate, marked as one
    here = finder.nearest(*INSIDE, k=5, sort="eta")
    assert here[0]["name"] == "皇城清真寺暖新驿站" and here[0]["eta_source"] == "network"
    assert {r["eta_source"] for r in here[1:]} == {"estimate"}
    assert {r["eta_source"] for r in finder.nearest(*OUTSIDE, k=5, sort="eta")} == {"estimate"}
    full = StationCatalogue(store).finder.nearest(*OUTSIDE, k=5, sort="eta")
    assert "network" in {r["eta_source"] for r in full}  # the bundled roads do cover it


def test_roads_outside_chengdu_in_a_wider_extract_are_left_out(tmp_path):
    from mapdata.build import osm_roads

    wider = tmp_path / "wider.osm"
    text = CLIP.read_text(encoding="utf-8")
    first_way = text.index("\t<way ")
    text = text[:first_way] + BEIJING_NODES + text[first_way:].replace("</osm>", BEIJING_WAYS + "</osm>")
    wider.write_text(text, encoding="utf-8")
    assert len(read_roads(wider)) == 18  # all of it, without the outline
    roads = osm_roads(wider)
    assert len(roads) == 15 and not {"9000000100", "9000000101", "9000000102"} & set(roads["osm_id"])


def _write(path: Path, content) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


BAD_EXTRACTS = {
    "missing.osm": (None, "no such file"),
    "roads.geojson": ('{"type": "FeatureCollection", "features": []}', "not .osm or .osm.pbf"),
    "empty.osm": ("", "the file is empty"),
    "page.osm": ("<html><body>404</body></html>", "root element is <html>, not <osm>"),
    "json.osm": ('{"type": "FeatureCollection"}', "not well-formed XML"),
    "cut.osm": (CLIP.read_text(encoding="utf-8")[:3000], "cannot read it"),
    "xml.osm.pbf": (CLIP.read_text(encoding="utf-8"), "not an OSM PBF file"),
    "nothing.osm": ('<?xml version="1.0"?>\n<osm version="0.6"></osm>\n', "no highway way in Chengdu"),
    "beijing.osm": (BEIJING, "no highway way in Chengdu"),
    "one_road.osm": (BEIJING.replace("39.9", "30.66").replace("116.", "104.").split(' <way id="9000000101"')[0]
                     + "</osm>\n", "meet at 0 junction(s), fewer than 3"),
    "unsorted.osm": (BEIJING.replace('id="9000000001" lat="39.9087"', 'id="9000000009" lat="39.9087"'),
                     "its nodes are not sorted by id"),
}


@pytest.mark.parametrize("name", list(BAD_EXTRACTS))
def test_an_unusable_extract_is_refused_by_name_and_nothing_is_written(name, tmp_path, writable_db, capsys):
    content, problem = BAD_EXTRACTS[name]
    extract = tmp_path / name if content is None else _write(tmp_path / name, content)
    new = tmp_path / "new" / "nuanxin.gpkg"
    assert main(["--osm", str(extract), "--out", str(new)]) == 2
    error = capsys.readouterr().err
    assert str(extract) in error and problem in error, error
    assert "expected an OpenStreetMap extract in OSM XML (.osm) or OSM PBF (.osm.pbf)" in error
    assert not new.exists() and not new.parent.exists()
    # an existing store stays exactly as it was, and no half-written file is left beside it
    assert writable_db.parent == tmp_path
    before = writable_db.read_bytes()
    assert main(["--osm", str(extract), "--out", str(writable_db)]) == 2
    assert writable_db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({writable_db.name, *([name] if content is not None else [])})


def test_the_junction_check_counts_points_shared_by_two_roads_not_vertices():
    from mapdata.osm_extract import junction_count

    roads = read_roads(CLIP)
    coords, line = shapely.get_coordinates(roads.geometry.values, return_index=True)
    roads_at: dict[tuple, set] = {}
    for xy, i in zip(map(tuple, coords), line.tolist()):
        roads_at.setdefault(xy, set()).add(i)
    assert junction_count(roads) == sum(len(r) > 1 for r in roads_at.values()) >= 3
    closed = roads.iloc[[0]].copy()
    closed.geometry = [shapely.LineString([(104.06, 30.66), (104.061, 30.66), (104.061, 30.661), (104.06, 30.66)])]
    assert junction_count(closed) == 0  # a way that comes back to its start meets no other road
