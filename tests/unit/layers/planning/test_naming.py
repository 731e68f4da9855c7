"""Naming a site by its district and the nearest named place, street or compound: hand-made layers with
distances known by construction (metres in UTM 48N), then the demo's candidate sites and recommendations."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from layers.planning import naming
from layers.planning.naming import SiteNamer, coords_text
from mapdata.crs import METRIC_EPSG

#: A point in 锦江区, in UTM 48N metres: every hand-made feature is placed relative to it.
X0, Y0 = 412140.0, 3391505.0


def wgs(geoms):
    return gpd.GeoSeries(geoms, crs=METRIC_EPSG).to_crs(4326)


def lonlat(dx: float, dy: float) -> tuple[float, float]:
    p = wgs([shapely.Point(X0 + dx, Y0 + dy)]).iloc[0]
    return p.x, p.y


def layer(rows):
    """A layer of (name, metric geometry) rows, as the store keeps it (EPSG:4326, a ``name`` column)."""
    names, geoms = zip(*rows)
    return gpd.GeoDataFrame({"id": [f"x-{i}" for i in range(len(rows))], "name": list(names)},
                            geometry=wgs(list(geoms)).values, crs=4326)


@pytest.fixture(scope="module")
def namer(districts):
    # 东风路 runs north–south through X0; a compound 2 km east of it; a shop 2 km west; an unnamed street
    roads = layer([("东风路", shapely.LineString([(X0, Y0 - 3000), (X0, Y0 + 3000)])),
                   (None, shapely.LineString([(X0 - 50, Y0 - 3000), (X0 - 50, Y0 + 3000)]))])
    compounds = layer([("测试小区", shapely.box(X0 + 1900, Y0 - 100, X0 + 2100, Y0 + 100))])
    places = layer([("红旗连锁", shapely.Point(X0 - 2000, Y0)), ("  ", shapely.Point(X0 - 1990, Y0))])
    return SiteNamer(districts, places=places, roads=roads, compounds=compounds)


def one(namer, dx, dy, **kwargs):
    lon, lat = lonlat(dx, dy)
    return namer.name([lon], [lat], **kwargs)[0]


def test_a_site_near_a_street_is_named_near_it(namer):
    site = one(namer, 120, 0)
    assert (site.adcode, site.district, site.district_en) == (510104, "锦江区", "Jinjiang")
    assert (site.anchor, site.kind, site.relation) == ("东风路", "road", "near")
    assert site.distance_m == pytest.approx(120, abs=0.5)
    assert site.zh == "锦江区 · 东风路 附近" and site.en == "Jinjiang · near 东风路"
    assert site.label("en") == site.en and site.label("zh") == site.zh


def test_unnamed_features_never_name_a_site(namer):
    # the unnamed street 50 m west and the blank-named shop are nearer than what names these points
    assert one(namer, -60, 0).anchor == "东风路"
    assert one(namer, -1995, 0).anchor == "红旗连锁"


def test_a_site_inside_a_compound_is_named_by_it(namer):
    site = one(namer, 2000, 50)
    assert (site.anchor, site.kind, site.relation, site.distance_m) == ("测试小区", "compound", "at", 0.0)
    assert site.zh == "成华区 · 测试小区" and site.en == "Chenghua · 测试小区"  # across the district line


def test_the_nearest_named_feature_wins(namer):
    # 700 m from 东风路, 1.3 km from the shop
    assert one(namer, -700, 0).anchor == "东风路"
    # 1,200 m from 东风路 but 800 m from the shop
    site = one(namer, -1200, 0)
    assert (site.anchor, site.kind) == ("红旗连锁", "place")
    assert site.relation == "from" and site.distance_m == pytest.approx(800, abs=0.5)
    assert site.zh == "锦江区 · 距红旗连锁 0.8 公里" and site.en == "Jinjiang · 0.8 km from 红旗连锁"


def test_within_reach_by_distance_beyond_by_district_only(namer):
    far = one(namer, 1000, 2000)  # 1,000 m from 东风路, 1.9 km from the compound
    assert far.relation == "from" and far.zh == "成华区 · 距东风路 1.0 公里"
    assert one(namer, 0, 0).relation == "at"
    alone = one(namer, 0, 6500)  # 3.5 km beyond the street's end and beyond everything else
    assert alone.relation == "none" and alone.anchor is None and alone.distance_m is None
    assert alone.zh.startswith(alone.district + " · ") and alone.zh.endswith("附近无地名")
    assert alone.en.endswith("no named place nearby")


def test_thresholds_are_the_modules(namer):
    assert one(namer, naming.NEAR_M - 1, 0).relation == "near"
    assert one(namer, naming.NEAR_M + 1, 0).relation == "from"
    assert one(namer, naming.AT_M - 1, 0).relation == "at"


def test_a_sites_own_name_is_kept_with_its_district(namer):
    lon, lat = lonlat(120, 0)
    site = namer.name([lon], [lat], own_names=["春熙路候选点"])[0]
    assert (site.relation, site.anchor) == ("own", "春熙路候选点")
    assert site.zh == "锦江区 · 春熙路候选点" and site.en == "Jinjiang · 春熙路候选点"
    # a blank own name is none: the site is named by what is near it
    assert namer.name([lon], [lat], own_names=["  "])[0].relation == "near"


def test_coordinates_to_copy_are_lat_then_lon_to_six_places(namer):
    lon, lat = lonlat(120, 0)
    site = namer.name([lon], [lat])[0]
    assert site.coords == f"{lat:.6f}, {lon:.6f}" == coords_text(lat, lon)
    assert coords_text(30.5, 104.25) == "30.500000, 104.250000"


def test_many_points_at_once_agree_with_one_at_a_time(namer):
    offsets = [(120, 0), (2000, 50), (-1200, 0), (0, 6500), (-60, 0)]
    points = [lonlat(dx, dy) for dx, dy in offsets]
    together = namer.name([p[0] for p in points], [p[1] for p in points])
    assert together == [one(namer, dx, dy) for dx, dy in offsets]
    with pytest.raises(ValueError, match="latitudes"):
        namer.name([1.0, 2.0], [3.0])


def test_an_empty_namer_names_by_district(districts):
    empty = SiteNamer(districts)
    assert len(empty) == 0
    lon, lat = lonlat(0, 0)
    assert empty.name([lon], [lat])[0].zh == "锦江区 · 附近无地名"


# ---------------------------------------------------------------------------------------------
# the demo's candidate sites and the recommendations every report shows

def test_every_default_candidate_is_named_by_its_district(planning):
    cands = planning.candidates()
    names = dict(zip(planning.districts()["adcode"], planning.districts()["name"]))
    names_en = dict(zip(planning.districts()["adcode"], planning.districts()["name_en"]))
    assert cands["label"].notna().all() and cands["label_en"].notna().all()
    assert all(label.startswith(names[a] + " · ") for label, a in zip(cands["label"], cands["adcode"]))
    assert all(label.startswith(names_en[a] + " · ") for label, a in zip(cands["label_en"], cands["adcode"]))
    assert not cands["label"].str.contains("cs-").any()
    # a compound or place is called by its own name; central grid points by what is near them
    own = cands[cands["name"].notna()]
    assert own["label"].tolist() == [f"{names[a]} · {n.strip()}" for a, n in zip(own["adcode"], own["name"])]
    assert cands["label"].str.endswith("附近").any()


def test_recommended_sites_carry_names_and_coordinates(planning, sites):
    from layers.planning.results import recommended_sites

    siting, cands = sites
    picks = siting.picks
    assert len(picks) == 12
    assert picks["name"].tolist() == cands["label"].to_numpy()[picks["candidate"]].tolist()
    assert picks["name_en"].tolist() == cands["label_en"].to_numpy()[picks["candidate"]].tolist()
    assert (picks["adcode"].to_numpy() == cands["adcode"].to_numpy()[picks["candidate"]]).all()
    assert picks["coords"].tolist() == [f"{a:.6f}, {o:.6f}" for a, o in zip(picks["lat"], picks["lon"])]
    table = recommended_sites(siting, cands)
    assert table["name"].tolist() == picks["name"].tolist()
    own = [v if isinstance(v, str) else None for v in cands["name"].to_numpy()[picks["candidate"]]]
    assert [v if isinstance(v, str) else None for v in table["candidate_name"]] == own


def test_a_result_solved_without_names_is_named_from_its_candidates(planning):
    from layers.planning.results import recommended_sites
    from layers.planning.siting import greedy_mclp

    model, cands = planning.model(), planning.candidates()
    raw = greedy_mclp(model.lon, model.lat, model.weight, cands.geometry.x.to_numpy(), cands.geometry.y.to_numpy(),
                      model.covered_mask(500), 500, 3, candidate_ids=cands["id"].to_numpy())
    assert "name" not in raw.picks
    table = recommended_sites(raw, cands)
    assert table["name"].tolist() == cands["label"].to_numpy()[raw.picks["candidate"]].tolist()
    assert np.all(table["coords"].str.match(r"^\d+\.\d{6}, \d+\.\d{6}$"))
