"""National coverage streamed in chunks: the in-process model's tables exactly, bad files refused by row and field,
one chunk at a time, and the command line."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from exports.national import main as national_main
from layers.common.geodesy import haversine_m
from layers.planning.coverage import CoverageModel, StationReach
from layers.planning.national import DemandFile, NationalInputError, chunks_of, national_coverage

RADIUS = 1000.0
AT = "2026-03-04T12:00"  # a Wednesday noon


@pytest.fixture(scope="module")
def demo(store):
    stations, demand, districts = store.read("stations"), store.read("demand"), store.read("districts")
    return stations, demand, districts


def edge_points(stations, radius: float, how_many: int = 12):
    """For stations far from every other one, a point due east exactly on the radius and its next float east:
    (inside lon, outside lon, lat), the inside at most ``radius`` from its station, the outside farther."""
    lon, lat = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    d = haversine_m(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    np.fill_diagonal(d, np.inf)
    lonely = np.flatnonzero(d.min(axis=1) > 2.5 * radius)[:how_many]
    assert len(lonely) >= 4
    inside, outside, at_lat = [], [], []
    for j in lonely:
        lo, hi = lon[j], lon[j] + 2 * radius / (111_000 * np.cos(np.radians(lat[j])))
        while np.nextafter(lo, np.inf) < hi:
            mid = (lo + hi) / 2
            if mid in (lo, hi):
                break
            if haversine_m(lat[j], mid, lat[j], lon[j]) <= radius:
                lo = mid
            else:
                hi = mid
        assert haversine_m(lat[j], lo, lat[j], lon[j]) <= radius < haversine_m(lat[j], hi, lat[j], lon[j])
        inside.append(lo)
        outside.append(hi)
        at_lat.append(lat[j])
    return np.array(inside), np.array(outside), np.array(at_lat)


def with_edges(demo):
    stations, demand, _ = demo
    inside, outside, lat = edge_points(stations, RADIUS)
    lon = np.concatenate([demand.geometry.x.to_numpy(), inside, outside])
    lat = np.concatenate([demand.geometry.y.to_numpy(), lat, lat])
    weight = np.concatenate([demand["weight"].to_numpy(), np.full(2 * len(inside), 3.0)])
    return lon, lat, weight, len(inside)


def assert_same_tables(got, ref):
    pd.testing.assert_frame_equal(got.districts, ref.districts, check_exact=True)
    pd.testing.assert_frame_equal(got.hexagons, ref.hexagons, check_exact=True)
    for key in ("points", "points_covered"):
        assert got.overall[key] == ref.overall[key]
    for key in ("demand", "covered", "share", "point_share"):
        # sums of chunk sums against one pairwise sum: equal to rounding
        assert got.overall[key] == pytest.approx(ref.overall[key], rel=1e-12)
    assert (got.radius_m, got.mode, got.at, got.amenities, got.h3_res, got.open_stations) == \
        (ref.radius_m, ref.mode, ref.at, ref.amenities, ref.h3_res, ref.open_stations)


@pytest.mark.parametrize("chunk_rows", [997, 6_000, 1_000_000])
@pytest.mark.parametrize("question", [dict(), dict(at=AT, amenities=["toilet"]), dict(at="2026-03-04T23:30")])
def test_chunked_equals_the_in_process_model(demo, chunk_rows, question):
    stations, _, districts = demo
    lon, lat, weight, _ = with_edges(demo)
    model = CoverageModel(stations, lon, lat, weight, districts=districts)
    ref = model.coverage(RADIUS, **question)
    got = national_coverage(chunks_of(lon, lat, weight, chunk_rows), stations, RADIUS, districts=districts,
                            hours=model.hours, **question)
    assert_same_tables(got, ref)
    assert got.overall["points"] == len(lon)


def test_points_on_the_radius_edge_are_covered_and_the_next_float_out_is_not(demo):
    stations, _, districts = demo
    inside, outside, lat = edge_points(stations, RADIUS)
    n = len(inside)
    model = CoverageModel(stations, np.concatenate([inside, outside]), np.concatenate([lat, lat]),
                          districts=districts)
    mask = model.covered_mask(RADIUS)
    assert mask[:n].all() and not mask[n:].any()  # the pair table's answer
    for points, expected in ((inside, n), (outside, 0)):
        got = national_coverage(chunks_of(points, lat, chunk_rows=5), stations, RADIUS, districts=districts,
                                hours=model.hours)
        assert got.overall["points_covered"] == expected
    reach = StationReach(stations.geometry.y.to_numpy(), stations.geometry.x.to_numpy())
    assert reach.covered(lat, inside, RADIUS).all() and not reach.covered(lat, outside, RADIUS).any()
    # each radius set to its point's own distance, to the bit: "within r" counts the point at r
    slat, slon = stations.geometry.y.to_numpy(), stations.geometry.x.to_numpy()
    for i in range(4):
        exact = float(haversine_m(lat[i], inside[i], slat, slon).min())
        assert model.covered_mask(exact)[i] and not model.covered_mask(np.nextafter(exact, 0))[i]
        for radius, expected in ((exact, 1), (np.nextafter(exact, 0), 0)):
            got = national_coverage(chunks_of(inside[i:i + 1], lat[i:i + 1]), stations, radius,
                                    districts=districts, hours=model.hours)
            assert got.overall["points_covered"] == expected


def test_points_elsewhere_in_the_country_count_outside_the_districts_not_in_the_nearest(demo):
    stations, demand, districts = demo
    lon, lat = demand.geometry.x.to_numpy()[:500], demand.geometry.y.to_numpy()[:500]
    inner = national_coverage(chunks_of(lon, lat, chunk_rows=97), stations, RADIUS, districts=districts)
    assert len(inner.districts) == len(districts)  # no row for points outside when there are none
    far_lon, far_lat = np.array([116.40, 121.47, 113.26]), np.array([39.90, 31.23, 23.13])  # Beijing, Shanghai, Canton
    got = national_coverage(chunks_of(np.concatenate([lon, far_lon]), np.concatenate([lat, far_lat]), chunk_rows=97),
                            stations, RADIUS, districts=districts)
    outside = got.districts.iloc[-1]
    assert (outside["adcode"], outside["name"], outside["name_en"]) == (0, "区划外", "outside the districts")
    assert (outside["points"], outside["demand"], outside["covered"]) == (3, 3.0, 0.0)
    pd.testing.assert_frame_equal(got.districts.iloc[:-1], inner.districts, check_exact=True)
    assert got.overall["points"] == 503 and got.overall["points_covered"] == inner.overall["points_covered"]


def test_the_file_path_gives_the_same_tables(demo, tmp_path):
    stations, _, districts = demo
    lon, lat, weight, _ = with_edges(demo)
    path = tmp_path / "trips.csv"
    pd.DataFrame({"Longitude": lon, "lat": lat, "weight": weight}).to_csv(path, index=False)
    model = CoverageModel(stations, lon, lat, weight, districts=districts)
    got = national_coverage(DemandFile(path, chunk_rows=4_321), stations, RADIUS, districts=districts,
                            hours=model.hours, at=AT)
    assert_same_tables(got, model.coverage(RADIUS, at=AT))


def test_the_reader_yields_one_bounded_chunk_at_a_time(tmp_path):
    path = tmp_path / "trips.csv"
    rng = np.random.default_rng(3)
    pd.DataFrame({"lon": 104 + rng.random(1_003) * 0.1, "lat": 30.6 + rng.random(1_003) * 0.1}).to_csv(path, index=False)
    source = DemandFile(path, chunk_rows=100)
    chunks = iter(source)
    first = next(chunks)
    # the file is read as far as one chunk, not to its end
    assert (len(first), first.first_row, source.rows_read) == (100, 1, 100)
    assert (first.weight == 1.0).all()
    rest = list(chunks)
    assert [len(c) for c in rest] == [100] * 9 + [3]
    assert [c.first_row for c in rest] == list(range(101, 1_003, 100))
    assert source.rows_read == 1_003 and source.bytes_read == source.total_bytes


def _refused(path, row, field, words) -> NationalInputError:
    """Reading ``path`` in chunks of two is refused naming that row and field, with ``words`` and the path."""
    with pytest.raises(NationalInputError) as caught:
        for _ in DemandFile(path, chunk_rows=2):
            pass
    err = caught.value
    assert (err.row, err.field) == (row, field)
    assert words in str(err) and str(path) in str(err)
    return err


@pytest.mark.parametrize("text, row, field, words", [
    ("lon,weight\n104.0,1\n", None, "lat", "lon and lat"),
    ("lon,lat,weight\n104.0,30.6,1\n104.1,30.7,lots\n", 2, "weight", "not a number: 'lots'"),
    ("lon,lat\n104.0,30.6\n104.1,95.0\n", 2, "lat", "[-90, 90]"),
    ("lon,lat\n104.0,30.6\n181.5,30.6\n", 2, "lon", "[-180, 180]"),
    ("lon,lat,weight\n104.0,30.6,-2\n", 1, "weight", "must not be negative"),
    ("lon,lat,weight\n104.0,30.6,1\n104.0,30.6,1\n,30.6,1\n", 3, "lon", "missing value"),
    ("lon,lat\n104.0,30.6\n104.0,inf\n", 2, "lat", "finite"),
    ("lon,lat\n104.0,True\n", 1, "lat", "not a number"),
])
def test_bad_files_are_refused_naming_file_row_and_field(tmp_path, text, row, field, words):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    err = _refused(path, row, field, words)
    if row is not None:
        assert f"row {row}, field {field}" in str(err)


def test_a_bad_row_in_a_later_chunk_is_numbered_in_the_file(tmp_path):
    path = tmp_path / "late.csv"
    lines = ["lon,lat"] + ["104.0,30.6"] * 250 + ["104.0,north"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(NationalInputError, match=r"row 251, field lat: not a number: 'north'"):
        list(DemandFile(path, chunk_rows=100))


def test_files_it_cannot_read_are_refused(tmp_path):
    with pytest.raises(NationalInputError, match="no such file"):
        DemandFile(tmp_path / "trips.parquet")
    with pytest.raises(NationalInputError, match=r"expected a CSV file .* or a Parquet file"):
        (tmp_path / "trips.xlsx").write_bytes(b"PK")
        DemandFile(tmp_path / "trips.xlsx")
    (tmp_path / "text.parquet").write_text("lon,lat\n104,30\n")
    with pytest.raises(NationalInputError, match="not a readable Parquet file"):
        DemandFile(tmp_path / "text.parquet")
    with pytest.raises(NationalInputError, match="no such file"):
        DemandFile(tmp_path / "absent.csv")
    with pytest.raises(ValueError, match="chunk_rows"):
        DemandFile(tmp_path / "absent.csv", chunk_rows=0)


def test_the_command_line_writes_the_tables_with_progress(demo, demo_db, tmp_path, capsys):
    stations, demand, districts = demo
    path = tmp_path / "trips.csv"
    pd.DataFrame({"lon": demand.geometry.x, "lat": demand.geometry.y, "weight": demand["weight"]}).to_csv(
        path, index=False)
    out = tmp_path / "tables.xlsx"
    code = national_main([str(path), "--radius", "1000", "--at", AT, "--chunk-rows", "5000", "--db", str(demo_db),
                          "--out", str(out), "--lang", "en"])
    captured = capsys.readouterr()
    assert code == 0
    assert "20,000 rows" in captured.err and "(100%)" in captured.err
    sheet = pd.read_excel(out, sheet_name="districts")
    model = CoverageModel.from_layers(stations, demand, districts=districts)
    ref = model.coverage(RADIUS, at=AT).districts
    assert sheet["Points covered"].tolist()[:-1] == ref["points_covered"].tolist()
    assert sheet["Points covered"].tolist()[-1] == ref["points_covered"].sum()

    csv_out = tmp_path / "tables.csv"
    assert national_main([str(path), "--db", str(demo_db), "--out", str(csv_out), "--quiet"]) == 0
    hexes = pd.read_csv(tmp_path / "tables.hexagons.csv", encoding="utf-8-sig")
    assert len(hexes) == len(model.coverage(RADIUS).hexagons)


@pytest.mark.parametrize("args, words", [
    (["--radius", "-5"], "radius_m"),
    (["--at", "noon"], "at: --at must be a local time"),
    (["--out", "tables.pdf"], "out: --out must end in .csv or .xlsx"),
])
def test_the_command_line_refuses_bad_options_with_exit_code_2(demo_db, tmp_path, capsys, args, words):
    path = tmp_path / "trips.csv"
    path.write_text("lon,lat\n104.06,30.66\n", encoding="utf-8")
    argv = [str(path), "--db", str(demo_db), "--out", str(tmp_path / "t.csv"), *args]
    assert national_main(argv) == 2
    assert words in capsys.readouterr().err


def test_the_command_line_names_the_bad_row(demo_db, tmp_path, capsys):
    path = tmp_path / "trips.csv"
    path.write_text("lon,lat,weight\n104.06,30.66,1\n104.06,30.66,x\n", encoding="utf-8")
    assert national_main([str(path), "--db", str(demo_db), "--out", str(tmp_path / "t.xlsx")]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}, row 2, field weight: not a number: 'x'" in err
    assert not (tmp_path / "t.xlsx").exists()


def test_a_gzipped_file_gives_the_same_tables_as_the_plain_one(demo, tmp_path):
    stations, demand, districts = demo
    frame = pd.DataFrame({"lon": demand.geometry.x, "lat": demand.geometry.y, "weight": demand["weight"]})
    frame.to_csv(tmp_path / "trips.csv", index=False)
    frame.to_csv(tmp_path / "trips.csv.gz", index=False, compression="gzip")
    plain = national_coverage(DemandFile(tmp_path / "trips.csv", 3_000), stations, RADIUS, districts=districts)
    packed = DemandFile(tmp_path / "trips.csv.gz", 3_000)
    got = national_coverage(packed, stations, RADIUS, districts=districts)
    assert_same_tables(got, plain)
    assert packed.bytes_read == packed.total_bytes < (tmp_path / "trips.csv").stat().st_size


def test_geoparquet_and_plain_parquet_give_the_tables_a_csv_gives(demo, tmp_path):
    """The same points (radius edges included) as CSV, as GeoParquet points and as a Parquet of lon/lat, read in
    many small chunks: the three tables are the same, and the in-process model's."""
    stations, _, districts = demo
    lon, lat, weight, _ = with_edges(demo)
    csv = tmp_path / "trips.csv"
    pd.DataFrame({"lon": lon, "lat": lat, "weight": weight}).to_csv(csv, index=False)
    geo = tmp_path / "trips.geoparquet"
    gpd.GeoDataFrame({"weight": weight}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_parquet(
        geo, row_group_size=1_000)
    plain = tmp_path / "trips.parquet"
    pd.DataFrame({"Longitude": lon, "LAT": lat, "weight": weight}).to_parquet(plain, row_group_size=700)
    model = CoverageModel(stations, lon, lat, weight, districts=districts)
    expected = model.coverage(RADIUS, at=AT)
    for path in (csv, geo, plain):
        source = DemandFile(path, chunk_rows=333)
        got = national_coverage(source, stations, RADIUS, districts=districts, hours=model.hours, at=AT)
        assert_same_tables(got, expected)
        assert source.rows_read == len(lon) and source.bytes_read == source.total_bytes


def test_a_parquet_file_is_read_one_batch_at_a_time(tmp_path):
    path = tmp_path / "trips.parquet"
    rng = np.random.default_rng(3)
    pd.DataFrame({"lon": 104 + rng.random(1_003) * 0.1, "lat": 30.6 + rng.random(1_003) * 0.1}).to_parquet(
        path, row_group_size=250)
    source = DemandFile(path, chunk_rows=100)
    chunks = iter(source)
    first = next(chunks)
    assert (len(first), first.first_row, source.rows_read) == (100, 1, 100)
    assert 0 < source.bytes_read < source.total_bytes and (first.weight == 1.0).all()
    rest = list(chunks)
    assert sum(len(c) for c in rest) == 903 and max(len(c) for c in rest) <= 100
    assert [c.first_row for c in rest] == list(np.cumsum([101] + [len(c) for c in rest[:-1]]))


def _geoparquet(path, geometries, weight=None, crs="EPSG:4326"):
    frame = gpd.GeoDataFrame({} if weight is None else {"weight": weight}, geometry=geometries, crs=crs)
    frame.to_parquet(path)
    return path


@pytest.mark.parametrize("make, row, field, words", [
    (lambda p: _geoparquet(p, [Point(104, 30.6), LineString([(104, 30.6), (104.1, 30.7)])]), 2, "geometry",
     "expected a point, got a LineString"),
    (lambda p: _geoparquet(p, [Point(104, 30.6), None]), 2, "geometry", "missing value"),
    (lambda p: _geoparquet(p, [Point(104, 30.6), Point(104.1, 95)]), 2, "lat", "[-90, 90]"),
    (lambda p: _geoparquet(p, [Point(104, 30.6)] * 3, weight=[1.0, 2.0, -1.0]), 3, "weight", "must not be negative"),
    (lambda p: _geoparquet(p, [Point(11_580_000, 3_590_000)], crs="EPSG:3857"), None, "geometry",
     "expected WGS-84 longitude/latitude"),
    (lambda p: pd.DataFrame({"lon": [104.0, np.nan], "lat": [30.6, 30.7]}).to_parquet(p) or p, 2, "lon",
     "missing value"),
    (lambda p: pd.DataFrame({"lon": ["104.0", "east"], "lat": [30.6, 30.7]}).to_parquet(p) or p, 2, "lon",
     "not a number: 'east'"),
    (lambda p: pd.DataFrame({"x_m": [1.0], "y_m": [2.0]}).to_parquet(p) or p, None, "lon", "lon and lat"),
])
def test_bad_parquet_files_are_refused_naming_file_row_and_field(tmp_path, make, row, field, words):
    _refused(make(tmp_path / "bad.parquet"), row, field, words)


def test_points_in_any_wkb_form_read_alike(tmp_path):
    """Little-endian 2-D points are read from the file's bytes; big-endian or 3-D ones through GEOS: the same."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq
    import shapely

    rng = np.random.default_rng(5)
    lon, lat = 104 + rng.random(50) * 0.1, 30.6 + rng.random(50) * 0.1
    geo = {"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": {"encoding": "WKB"}}}
    read = []
    for name, wkb in (("little", shapely.to_wkb(shapely.points(lon, lat))),
                      ("big", shapely.to_wkb(shapely.points(lon, lat), byte_order=0)),
                      ("z", shapely.to_wkb(shapely.points(lon, lat, np.ones(50)), output_dimension=3))):
        path = tmp_path / f"{name}.parquet"
        table = pa.table({"geometry": pa.array(wkb, pa.binary())})
        pq.write_table(table.replace_schema_metadata({"geo": json.dumps(geo)}), path)
        chunks = list(DemandFile(path, chunk_rows=16))
        read.append((np.concatenate([c.lon for c in chunks]), np.concatenate([c.lat for c in chunks])))
    for got_lon, got_lat in read:
        assert np.array_equal(got_lon, lon) and np.array_equal(got_lat, lat)


def test_geoarrow_point_columns_read_like_wkb_and_other_shapes_are_refused(tmp_path):
    """GeoParquet 1.1's native encoding "point" (a struct of x and y) gives the same points as WKB; a column that
    says "point" but is not that struct is refused naming the geometry field."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    lon, lat = 104 + rng.random(40) * 0.1, 30.6 + rng.random(40) * 0.1
    geo = {"version": "1.1.0", "primary_column": "geometry",
           "columns": {"geometry": {"encoding": "point", "geometry_types": ["Point"]}}}
    path = tmp_path / "native.parquet"
    points = pa.StructArray.from_arrays([pa.array(lon), pa.array(lat)], names=["x", "y"])
    pq.write_table(pa.table({"geometry": points}).replace_schema_metadata({"geo": json.dumps(geo)}), path,
                   row_group_size=16)
    chunks = list(DemandFile(path, chunk_rows=10))
    assert np.array_equal(np.concatenate([c.lon for c in chunks]), lon)
    assert np.array_equal(np.concatenate([c.lat for c in chunks]), lat)
    assert [c.first_row for c in chunks] == [1, 11, 21, 31]

    bad = tmp_path / "not_points.parquet"
    pq.write_table(pa.table({"geometry": pa.array(["POINT (104 30.6)"])}).replace_schema_metadata(
        {"geo": json.dumps(geo)}), bad)
    with pytest.raises(NationalInputError) as caught:
        list(DemandFile(bad))
    assert caught.value.field == "geometry" and "struct of x and y" in str(caught.value)
