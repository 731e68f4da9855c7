"""StationFinder.answer_states: a station answers exactly when the brute-force list would hold it, and says why not."""
from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from bench.bench_nearest import SHANGHAI, synthetic_stations
from layers.common.geodesy import haversine_m
from layers.common.hours import HoursTable
from layers.rider.nearest import StationFinder
from mapdata import clock
from tests.helpers import brute_force_nearest

CENTRE = (30.690, 104.085)


@pytest.fixture(scope="module")
def stations() -> gpd.GeoDataFrame:
    st = synthetic_stations(300, seed=20261204)
    # a broken microwave until the end of 2025 at a few stations that have one
    with_microwave = np.flatnonzero(st["amenities"].map(lambda a: "microwave" in a).to_numpy())[:5]
    st["amenities_out"] = [frozenset({"microwave"}) if i in set(with_microwave) else frozenset() for i in range(len(st))]
    st.loc[with_microwave, "status_until"] = pd.Timestamp("2025-12-31 18:00", tz=SHANGHAI)
    return st


def in_service(stations, at):
    """The stations with what is out of service at ``at`` (None: now) taken from their amenities."""
    moment = pd.Timestamp(at if at is not None else clock.now())
    return stations.assign(amenities=[a - o if pd.isna(u) or u > moment else a for a, o, u in zip(
        stations["amenities"], stations["amenities_out"], stations["status_until"])])


@pytest.mark.parametrize("amenities", [(), ("microwave",), ("microwave", "toilet")])
@pytest.mark.parametrize("at", [None, datetime(2025, 6, 4, 3, 0, tzinfo=SHANGHAI),
                                datetime(2025, 6, 4, 15, 0, tzinfo=SHANGHAI)])
def test_a_station_answers_exactly_when_the_full_scan_lists_it(stations, amenities, at):
    finder = StationFinder(stations)
    states = finder.answer_states(*CENTRE, amenities=amenities, at=at, k=len(stations))
    assert len(states) == len(stations)
    listed = set(brute_force_nearest(in_service(stations, at), *CENTRE, amenities=amenities, at=at,
                                     k=len(stations)))
    assert {s["id"] for s in states if s["answers"]} == listed
    d = [s["distance_m"] for s in states]
    assert d == sorted(d), "nearest first"


def test_why_a_station_does_not_answer(stations):
    at = datetime(2025, 6, 4, 3, 0, tzinfo=SHANGHAI)
    finder = StationFinder(stations)
    hours = HoursTable(stations["opening_hours"], stations["status"], stations["status_until"])
    is_open = dict(zip(stations["id"], hours.open_at(at)))
    row = stations.set_index("id")
    until = row["status_until"]
    for s in finder.answer_states(*CENTRE, amenities=("microwave",), at=at, k=len(stations)):
        station = row.loc[s["id"]]
        paused = station["status"] == "closed_temporarily" and (pd.isna(until[s["id"]]) or until[s["id"]] > at)
        assert s["paused"] == bool(paused)
        assert s["closed"] == (not is_open[s["id"]] and not paused)
        assert s["lacking"] == ([] if "microwave" in station["amenities"] else ["microwave"])
        assert s["out"] == (["microwave"] if "microwave" in station["amenities_out"] else [])
        assert s["answers"] == (not s["paused"] and not s["closed"] and not s["lacking"] and not s["out"])


def test_only_the_k_nearest_are_judged(stations):
    finder = StationFinder(stations)
    states = finder.answer_states(*CENTRE, k=7)
    d = haversine_m(CENTRE[0], CENTRE[1], stations.geometry.y.to_numpy(), stations.geometry.x.to_numpy())
    assert [s["distance_m"] for s in states] == [round(float(x), 1) for x in np.sort(d)[:7]]
    with pytest.raises(ValueError, match="k must be"):
        finder.answer_states(*CENTRE, k=0)


@pytest.mark.parametrize("amenities", [(), ("microwave",)])
@pytest.mark.parametrize("at", [None, datetime(2025, 6, 4, 3, 0, tzinfo=SHANGHAI)])
@pytest.mark.parametrize("k", [7, 2000])
def test_the_muted_ones_are_the_states_that_do_not_answer(stations, amenities, at, k):
    finder = StationFinder(stations)
    states = finder.answer_states(*CENTRE, amenities=amenities, at=at, k=k)
    muted, reach = finder.muted_states(*CENTRE, amenities=amenities, at=at, k=k)
    assert muted == [s for s in states if not s["answers"]]
    assert reach == (states[-1]["distance_m"] if k < len(stations) else None)
    assert (len(muted) > 0) == (at is not None or bool(amenities))  # at 03:00 many are shut; any time: none
