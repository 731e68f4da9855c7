"""Open311 GeoReport v2 as a client speaks it: services, a service's attributes, sending a report (form or
multipart with the photo), listing with filters, one request; and what the store kept of it."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from layers.common import rider_codes
from mapdata import clock
from mapdata.store import open_store

V2 = "/api/open311/v2"


@pytest.fixture()
def http(private_app):
    return private_app.server.test_client()


@pytest.fixture()
def store(private_app, writable_db):
    return open_store(writable_db)


@pytest.fixture()
def station(store):
    stations = store.read("stations")
    return stations[stations["amenities"].map(lambda a: "microwave" in a)].iloc[0]


def _jpeg_with_gps(size=(2400, 1800)) -> bytes:
    img = Image.new("RGB", size, (200, 60, 40))
    exif = Image.Exif()
    exif[0x010F] = "RiderPhone"          # Make
    exif[0x0110] = "Model X"             # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (30.0, 39.0, 36.0)
    gps[3], gps[4] = "E", (104.0, 4.0, 12.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the upload does carry a position
    return data


def test_services_and_a_definition_follow_the_standard(http):
    services = http.get(f"{V2}/services.json").get_json()
    codes = [s["service_code"] for s in services]
    assert codes == ["facility_broken", "closed_in_hours", "wrong_info", "gate_refuses", "sign_missing", "hazard",
                     "suggestion"]
    assert {s["type"] for s in services} == {"realtime"} and all(s["metadata"] for s in services)
    assert services[0]["service_name"] == "设施损坏"
    definition = http.get(f"{V2}/services/facility_broken.json").get_json()
    attrs = {a["code"]: a for a in definition["attributes"]}
    assert attrs["station_id"]["required"] and attrs["amenity"]["datatype"] == "singlevaluelist"
    assert "microwave" in [v["key"] for v in attrs["amenity"]["values"]]
    missing = http.get(f"{V2}/services/nothing.json")
    assert missing.status_code in (400, 404) and isinstance(missing.get_json(), list)


def test_a_report_with_a_photo_is_kept_without_its_metadata_and_answers_with_its_due_date(http, store, station):
    code = rider_codes.new_code()
    r = http.post(f"{V2}/requests.json", content_type="multipart/form-data", data={
        "service_code": "facility_broken", "attribute[station_id]": station["id"], "attribute[amenity]": "microwave",
        "attribute[rider_code]": rider_codes.shown(code), "description": "微波炉不加热",
        "email": "rider@example.com", "first_name": "张", "phone": "13800000000",
        "media": (io.BytesIO(_jpeg_with_gps()), "photo.jpg")})
    assert r.status_code == 201, r.get_json()
    created = r.get_json()[0]
    ref = created["service_request_id"]
    assert ref.startswith("NX") and ref in created["service_notice"]
    assert r.headers["Location"].endswith(f"/requests/{ref}.json")
    one = http.get(f"{V2}/requests/{ref}.json").get_json()[0]
    assert one["status"] == "open" and one["state"] == "new" and one["service_code"] == "facility_broken"
    assert one["address"] == station["name"] and one["address_id"] == station["id"]
    assert one["description"] == "微波炉不加热" and one["media_url"] is None
    now = clock.now()
    assert one["expected_datetime"] == "2026-" + one["expected_datetime"][5:]
    assert dt.datetime.fromisoformat(one["expected_datetime"]) > now
    report_id = int(ref[2:])
    photos = store.reports.photos_of(report_id)
    assert len(photos) == 1
    kept = Image.open(io.BytesIO(store.reports.photo(photos[0]["id"])["image"]))
    assert kept.format == "JPEG" and max(kept.size) <= 1600
    assert not kept.getexif() and "exif" not in kept.info and "icc_profile" not in kept.info
    # nothing personal is stored: no email, name or phone anywhere in the report's rows
    row = store.reports.get(report_id)
    assert "13800000000" not in str(row) and "example.com" not in str(row)
    assert store.reports.codes_of(report_id) == [rider_codes.code_hash(code)]


def test_the_same_problem_within_a_day_is_counted_on_the_open_report(http, store, station):
    form = {"service_code": "facility_broken", "attribute[station_id]": station["id"],
            "attribute[amenity]": "microwave"}
    first = http.post(f"{V2}/requests.json", data={**form, "attribute[rider_code]": rider_codes.new_code()})
    second = http.post(f"{V2}/requests.json", data={**form, "attribute[rider_code]": rider_codes.new_code()})
    again = http.post(f"{V2}/requests.json", data=form, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    ids = {r.get_json()[0]["service_request_id"] for r in (first, second, again)}
    assert len(ids) == 1
    assert "3 位骑手" in again.get_json()[0]["service_notice"]
    assert http.get(f"{V2}/requests/{ids.pop()}.json").get_json()[0]["riders"] == 3
    other = http.post(f"{V2}/requests.json", data={**form, "attribute[amenity]": sorted(station["amenities"] -
                                                                                      {"microwave"})[0]})
    assert other.get_json()[0]["service_request_id"] not in {first.get_json()[0]["service_request_id"]}
    # a day later the same problem is a new report
    with clock.frozen(clock.now() + dt.timedelta(days=1, minutes=1)):
        later = http.post(f"{V2}/requests.json", data=form)
    assert later.get_json()[0]["service_request_id"] != first.get_json()[0]["service_request_id"]


def test_a_flood_is_refused_with_retry_after_and_nothing_more_is_kept(http, store):
    code = rider_codes.new_code()
    answers = [http.post(f"{V2}/requests.json", data={"service_code": "hazard", "lat": f"{30.60 + i * 0.002:.4f}",
                                                      "long": "104.06", "attribute[rider_code]": code})
               for i in range(8)]
    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [201] * 5 and set(statuses[5:]) == {429}
    refused = answers[5]
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()[0]["field"] == "rider_code" and "5" in refused.get_json()[0]["description"]
    assert store.reports.count("kind = 'hazard'") == 5
    # from one address without a code, the address limit holds too
    flood = [http.post(f"{V2}/requests.json", data={"service_code": "suggestion", "lat": "30.65",
                                                    "long": f"{104.00 + i * 0.003:.4f}"},
                       environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code for i in range(22)]
    assert flood.count(201) == 20 and flood[-1] == 429


@pytest.mark.parametrize("form, field", [
    ({"service_code": "facility_broken", "lat": "30.66", "long": "104.07"}, "attribute[station_id]"),
    ({"service_code": "facility_broken", "attribute[station_id]": "st-0001"}, "attribute[amenity]"),
    ({"service_code": "hazard", "lat": "10", "long": "104.07"}, "lat"),
    ({"service_code": "hazard", "lat": "30.66", "long": "east"}, "long"),
    ({"service_code": "hazard", "lat": "30.66"}, "long"),
    ({"service_code": "teleport", "lat": "30.66", "long": "104.07"}, "service_code"),
    ({"service_code": "hazard", "attribute[compound_id]": "nope"}, "attribute[compound_id]"),
    ({"service_code": "hazard", "lat": "30.66", "long": "104.07", "attribute[rider_code]": "short"},
     "attribute[rider_code]"),
    ({"service_code": "hazard", "lat": "30.66", "long": "104.07", "description": "x" * 501}, "description"),
    ({"service_code": "hazard", "lat": "30.66", "long": "104.07", "media_url": "http://example.com/a.jpg"},
     "media_url"),
])
def test_a_bad_request_is_a_400_naming_the_field_and_keeps_nothing(http, store, form, field):
    before = store.reports.count()
    r = http.post(f"{V2}/requests.json", data=form)
    assert r.status_code == 400
    error = r.get_json()[0]
    assert error["code"] == 400 and error["field"] == field and field in error["description"]
    assert store.reports.count() == before


def test_a_field_given_twice_is_refused_but_fields_this_server_ignores_may_repeat(http, store):
    before = store.reports.count()
    twice = http.post(f"{V2}/requests.json", data={"service_code": "hazard", "lat": ["30.66", "30.67"],
                                                    "long": "104.07"})
    assert twice.status_code == 400 and twice.get_json()[0]["field"] == "lat"
    assert store.reports.count() == before
    ignored = http.post(f"{V2}/requests.json", data={"service_code": "hazard", "lat": "30.66", "long": "104.07",
                                                      "jurisdiction_id": ["chengdu", "cd"]})
    assert ignored.status_code == 201 and store.reports.count() == before + 1


def test_photos_that_are_not_photos_or_too_big_are_refused(http, store):
    before = store.reports.count()
    base = {"service_code": "hazard", "lat": "30.66", "long": "104.07"}
    text = http.post(f"{V2}/requests.json", content_type="multipart/form-data",
                     data={**base, "media": (io.BytesIO(b"%PDF-1.4 not a photo"), "a.jpg")})
    assert text.status_code == 400 and text.get_json()[0]["field"] == "media"
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    other = http.post(f"{V2}/requests.json", content_type="multipart/form-data",
                      data={**base, "media": (io.BytesIO(gif.getvalue()), "a.gif")})
    assert other.status_code == 400 and "JPEG or PNG" in other.get_json()[0]["description"]
    # a picture whose pixels would take gigabytes is refused from its header, before decoding
    huge = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(huge, "PNG")
    bomb = http.post(f"{V2}/requests.json", content_type="multipart/form-data",
                     data={**base, "media": (io.BytesIO(huge.getvalue()), "a.png")})
    assert bomb.status_code == 400 and "megapixels" in bomb.get_json()[0]["description"]
    big = http.post(f"{V2}/requests.json", content_type="multipart/form-data",
                    data={**base, "media": (io.BytesIO(b"\xff\xd8" + b"0" * (9 * 2**20)), "a.jpg")})
    assert big.status_code == 413 and big.get_json()[0]["field"] == "media"
    assert store.reports.count() == before


def test_the_list_filters_by_status_service_and_dates(http, store, station):
    from layers.rider.reports import submit_report
    old = submit_report(store, {"kind": "hazard", "lon": 104.07, "lat": 30.66},
                        now=dt.datetime(2026, 9, 30, 17, 0))
    ancient = submit_report(store, {"kind": "hazard", "lon": 104.08, "lat": 30.67},
                            now=dt.datetime(2026, 6, 1, 9, 0))
    new = submit_report(store, {"kind": "facility_broken", "station_id": station["id"], "amenity": "microwave"})
    everything = http.get(f"{V2}/requests.json?start_date=2026-01-01").get_json()
    assert [r["service_request_id"] for r in everything] == [new.ref, old.ref, ancient.ref]
    recent = http.get(f"{V2}/requests.json").get_json()   # the last 90 days by default
    assert [r["service_request_id"] for r in recent] == [new.ref, old.ref]
    assert [r["service_request_id"] for r in http.get(f"{V2}/requests.json?service_code=hazard&start_date="
                                                      "2026-09-01").get_json()] == [old.ref]
    assert http.get(f"{V2}/requests.json?status=closed&start_date=2026-01-01").get_json() == []
    window = http.get(f"{V2}/requests.json?start_date=2026-09-30T00:00:00%2B08:00&end_date=2026-10-01").get_json()
    assert [r["service_request_id"] for r in window] == [old.ref]
    # National Day: received 2026-09-30 17:00, due to be resolved 2026-10-09 17:00
    assert window[0]["expected_datetime"] == "2026-10-09T17:00:00+08:00"
    by_id = http.get(f"{V2}/requests.json?service_request_id={old.ref},{new.ref}").get_json()
    assert {r["service_request_id"] for r in by_id} == {old.ref, new.ref}
    # a Friday before the make-up Saturday: received 2026-10-09 17:00, due Monday 2026-10-12 17:00
    friday = submit_report(store, {"kind": "hazard", "lon": 104.09, "lat": 30.65}, now=dt.datetime(2026, 10, 9, 17))
    assert http.get(f"{V2}/requests/{friday.ref}.json").get_json()[0]["expected_datetime"] == \
        "2026-10-12T17:00:00+08:00"
    bad = http.get(f"{V2}/requests.json?start_date=yesterday")
    assert bad.status_code == 400 and bad.get_json()[0]["field"] == "start_date"
    assert http.get(f"{V2}/requests/NX999999.json").status_code == 404


def test_a_rider_code_is_taken_as_the_document_says_and_refused_otherwise(http, store, station):
    """The API's rider codes are what its OpenAPI pattern says (16 letters and digits, dashes between the groups
    of four): anything else is refused naming the field, not read leniently into some other code."""
    code = rider_codes.shown(rider_codes.new_code())  # 7K3M-Q9XA-2HFD-T8WB
    form = {"service_code": "closed_in_hours", "attribute[station_id]": station["id"]}
    for wrong in ("catalogue_message", code.replace("-", " "), code + "-"):
        r = http.post(f"{V2}/requests.json", data={**form, "attribute[rider_code]": wrong})
        assert r.status_code == 400 and r.get_json()[0]["field"] == "attribute[rider_code]", (wrong, r.data)
        points = http.get(f"/api/v1/riders/{wrong}/points")
        assert points.status_code == 400 and points.get_json()["error"]["field"] == "code", points.data
    assert store.reports.reports_of_code(rider_codes.code_hash(rider_codes.normalise("catalogue_message")), 10) == []
    for right in (code, code.replace("-", ""), code.lower()):
        assert http.get(f"/api/v1/riders/{right}/points").status_code == 200
    assert http.post(f"{V2}/requests.json", data={**form, "attribute[rider_code]": code.lower()}).status_code == 201
