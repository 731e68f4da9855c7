"""WGS-84 / GCJ-02 / BD-09 conversion against published reference pairs, round trips and shapes."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from mapdata import crs

# googollee/eviltransform, python/test.py and go/transform_test.go (the same vectors in every port):
# (wgs lat, wgs lng, gcj lat, gcj lng). Shanghai, at 31.18 N, is the one at Chengdu's latitude.
EVILTRANSFORM_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # beijing
]
# wandergis/coordtransform, test/app.js (also hutool's CoordinateUtilTest): inputs (116.404, 39.915)
# as (lng, lat) for each function.
COORDTRANSFORM_INPUT = (116.404, 39.915)
COORDTRANSFORM_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
COORDTRANSFORM_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
COORDTRANSFORM_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)

CHENGDU_BOX = (103.3, 30.2, 104.8, 31.3)


def haversine_m(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(a))


@pytest.fixture(scope="module")
def chengdu_points():
    rng = np.random.default_rng(20250401)
    x0, y0, x1, y1 = CHENGDU_BOX
    return rng.uniform(x0, x1, 5000), rng.uniform(y0, y1, 5000)


@pytest.mark.parametrize("wgs_lat, wgs_lng, gcj_lat, gcj_lng", EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    lon, lat = crs.wgs84_to_gcj02(wgs_lng, wgs_lat)
    assert lon == pytest.approx(gcj_lng, abs=1e-9)
    assert lat == pytest.approx(gcj_lat, abs=1e-9)


@pytest.mark.parametrize("wgs_lat, wgs_lng, gcj_lat, gcj_lng", EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_recovers_the_reference_point(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    lon, lat = crs.gcj02_to_wgs84(gcj_lng, gcj_lat)
    assert abs(lon - wgs_lng) < 1e-7 and abs(lat - wgs_lat) < 1e-7
    # eviltransform's own bound for its exact inverse is 0.5 m; the iterative inverse is far better
    assert haversine_m(lon, lat, wgs_lng, wgs_lat) < 0.01


def test_coordtransform_reference_pairs():
    lon, lat = crs.wgs84_to_gcj02(*COORDTRANSFORM_INPUT)
    assert (lon, lat) == pytest.approx(COORDTRANSFORM_WGS84_TO_GCJ02, abs=1e-9)
    lon, lat = crs.gcj02_to_bd09(*COORDTRANSFORM_INPUT)
    assert (lon, lat) == pytest.approx(COORDTRANSFORM_GCJ02_TO_BD09, abs=1e-9)
    # the refined inverse may differ from the published one-step formula by < 1e-6 deg (0.1 m)
    lon, lat = crs.bd09_to_gcj02(*COORDTRANSFORM_INPUT)
    assert (lon, lat) == pytest.approx(COORDTRANSFORM_BD09_TO_GCJ02, abs=1e-6)
    assert haversine_m(lon, lat, *COORDTRANSFORM_BD09_TO_GCJ02) < 0.1


def test_bd09_reference_pairs_invert_exactly():
    lon, lat = crs.bd09_to_gcj02(*COORDTRANSFORM_GCJ02_TO_BD09)
    assert (lon, lat) == pytest.approx(COORDTRANSFORM_INPUT, abs=1e-9)
    lon, lat = crs.gcj02_to_bd09(*crs.bd09_to_gcj02(*COORDTRANSFORM_INPUT))
    assert (lon, lat) == pytest.approx(COORDTRANSFORM_INPUT, abs=1e-9)


def test_gcj02_offset_in_chengdu_is_a_few_hundred_metres(chengdu_points):
    lon, lat = chengdu_points
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    shift = haversine_m(lon, lat, glon, glat)
    assert shift.min() > 250 and shift.max() < 650
    # Amap's data lies east and south of the truth in Chengdu
    assert np.all(glon > lon) and np.all(glat < lat)


@pytest.mark.parametrize("forward, inverse", [
    (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
    (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
    (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
])
def test_round_trips_over_chengdu_are_exact(chengdu_points, forward, inverse):
    lon, lat = chengdu_points
    back = inverse(*forward(lon, lat))
    assert haversine_m(lon, lat, *back).max() < 0.01
    back = forward(*inverse(lon, lat))
    assert haversine_m(lon, lat, *back).max() < 0.01


def test_iterative_inverse_beats_the_one_step_inverse(chengdu_points):
    lon, lat = chengdu_points
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    # the crude inverse: subtract the offset computed at the GCJ-02 point
    one_step_lon, one_step_lat = crs.wgs84_to_gcj02(glon, glat)
    crude = haversine_m(lon, lat, glon - (one_step_lon - glon), glat - (one_step_lat - glat))
    exact = haversine_m(lon, lat, *crs.gcj02_to_wgs84(glon, glat))
    assert crude.max() > 0.1 and exact.max() < 1e-3


def test_scalars_give_floats_and_arrays_keep_their_shape():
    lon, lat = crs.wgs84_to_gcj02(104.0665, 30.5723)
    assert type(lon) is float and type(lat) is float
    lons = np.full((2, 3), 104.0665)
    out_lon, out_lat = crs.gcj02_to_wgs84(lons, 30.5723)
    assert out_lon.shape == (2, 3) and out_lat.shape == (2, 3)
    listed = crs.bd09_to_wgs84([104.07, 104.08], [30.57, 30.58])
    assert isinstance(listed[0], np.ndarray) and listed[0].shape == (2,)
    one = crs.bd09_to_wgs84(104.07, 30.57)
    assert listed[0][0] == pytest.approx(one[0], abs=1e-12) and listed[1][0] == pytest.approx(one[1], abs=1e-12)
    empty = crs.gcj02_to_wgs84(np.array([]), np.array([]))
    assert empty[0].shape == (0,)


def test_outside_china_is_identity():
    paris = (2.3522, 48.8566)
    for func in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, crs.gcj02_to_bd09, crs.bd09_to_gcj02,
                 crs.wgs84_to_bd09, crs.bd09_to_wgs84):
        assert func(*paris) == paris
    lon, lat = crs.wgs84_to_gcj02([2.3522, 104.0665], [48.8566, 30.5723])
    assert lon[0] == 2.3522 and lon[1] != 104.0665


def test_dispatcher():
    point = (104.0665, 30.5723)
    assert crs.to_wgs84(*point, "wgs84") == point
    assert crs.to_wgs84(*point, "gcj02") == crs.gcj02_to_wgs84(*point)
    assert crs.to_wgs84(*point, "bd09") == crs.bd09_to_wgs84(*point)
    assert crs.from_wgs84(*point, "gcj02") == crs.wgs84_to_gcj02(*point)
    assert crs.from_wgs84(*point, "bd09") == crs.wgs84_to_bd09(*point)
    for name in crs.SUPPORTED_CRS:
        back = crs.to_wgs84(*crs.from_wgs84(*point, name), name)
        assert haversine_m(*point, *back) < 0.01


@pytest.mark.parametrize("bad", ["epsg:4490", "GCJ02", "", None])
def test_dispatcher_names_an_unknown_crs(bad):
    with pytest.raises(ValueError, match=repr(bad).replace("(", r"\(")):
        crs.to_wgs84(104.0, 30.6, bad)
    with pytest.raises(ValueError, match="wgs84, gcj02, bd09"):
        crs.from_wgs84(104.0, 30.6, bad)


def test_transform_geometry_moves_every_vertex():
    poly = shapely.Polygon([(104.06, 30.65), (104.07, 30.65), (104.07, 30.66), (104.06, 30.65)])
    moved = crs.transform_geometry(poly, crs.gcj02_to_wgs84)
    expected = np.column_stack(crs.gcj02_to_wgs84(*shapely.get_coordinates(poly).T))
    np.testing.assert_allclose(shapely.get_coordinates(moved), expected, atol=1e-12)
    series = gpd.GeoSeries([poly, shapely.Point(104.0, 30.6)], index=[7, 9], crs=4326)
    out = crs.transform_geometry(series, crs.wgs84_to_gcj02)
    assert list(out.index) == [7, 9] and out.crs == series.crs
    assert out.iloc[1].equals_exact(shapely.Point(*crs.wgs84_to_gcj02(104.0, 30.6)), 1e-12)


def test_gdf_to_wgs84():
    gdf = gpd.GeoDataFrame({"name": ["天府广场"]}, geometry=[shapely.Point(104.0717, 30.6573)], crs="OGC:CRS84")
    out = crs.gdf_to_wgs84(gdf, "gcj02")
    assert out.crs.to_epsg() == 4326 and out["name"].tolist() == ["天府广场"]
    assert (out.geometry.x.iloc[0], out.geometry.y.iloc[0]) == pytest.approx(crs.gcj02_to_wgs84(104.0717, 30.6573))
    assert gdf.geometry.x.iloc[0] == 104.0717  # the input is left alone
    with pytest.raises(ValueError, match="projected"):
        crs.gdf_to_wgs84(gdf.to_crs(32648), "gcj02")
    with pytest.raises(ValueError, match="'mars'"):
        crs.gdf_to_wgs84(gdf, "mars")
