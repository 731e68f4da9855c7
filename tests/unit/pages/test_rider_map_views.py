"""The rider map's hideout and fitting take the client's word for nothing, and agree with the list."""
from __future__ import annotations

import pytest
from dash import no_update

from pages.rider.views import fit_view, map_answer, results_view

STATE = {"lang": "zh", "reach_m": 5000, "station": None}
HERE = {"lat": 30.6586, "lon": 104.0648, "where": "gps"}


@pytest.fixture()
def request_context(dash_app):
    with dash_app.server.test_request_context("/"):
        yield


@pytest.mark.parametrize("where", [None, "30.6,104.0", {"lat": "north", "lon": 104.06}, {"lat": 95, "lon": 104.06}])
def test_a_bad_location_mutes_nothing(request_context, where):
    assert map_answer(where, ["microwave"], ["now"], None, STATE) == {"muted": {}, "notes": {}, "here": None,
                                                                      "judged_m": None, "ask": None}


def test_no_listed_station_is_muted_and_every_muted_one_says_why(request_context):
    chips, at = ["microwave"], "2026-12-03T03:00"
    answer = map_answer(HERE, chips, [], at, STATE)
    _, highlight, _, _ = results_view(HERE, chips, [], at, STATE)
    listed = {f["properties"]["id"] for f in highlight["features"] if f["properties"]["kind"] == "result"}
    assert listed and not listed & set(answer["muted"])
    assert answer["muted"] and set(answer["muted"].values()) == set(answer["notes"])
    assert all(answer["notes"][code] for code in answer["muted"].values())
    assert "那时已打烊" in answer["notes"].values() and "没有微波炉" in " ".join(answer["notes"].values())
    english = map_answer(HERE, ["<script>", 7], ["now"], None, {**STATE, "lang": "en"})
    assert not any("No" in n for n in english["notes"].values()), "an unknown chip asks for no amenity"
    # the question the map sends with its view, for the server's clusters to count who answers it
    assert answer["ask"] == {"amenities": "microwave", "at": at}
    assert english["ask"] == {"amenities": "", "at": "now"}
    assert map_answer(HERE, ["microwave", "toilet"], [], "soon", STATE)["ask"] == {"amenities": "microwave,toilet",
                                                                                  "at": "any"}


@pytest.mark.parametrize("shown", [None, "x", {"features": "x"}, {"features": [{"geometry": 1}]}])
def test_the_map_fits_a_new_answer_whatever_the_client_had(request_context, shown):
    _, highlight, _, _ = results_view(HERE, [], ["now"], None, STATE)
    view = fit_view(highlight, shown, HERE)
    (south, west), (north, east) = view["bounds"]
    for f in highlight["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert south <= lat <= north and west <= lon <= east
    assert fit_view(highlight, highlight, HERE) is no_update, "the same answer leaves the map where the rider put it"
    assert fit_view({"features": [{"properties": "?"}]}, None, HERE) is no_update
