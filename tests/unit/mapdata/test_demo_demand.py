"""The demo demand layer: orders where people live and riders pick up, in the right districts."""
from __future__ import annotations

import numpy as np
import pytest
import shapely

from mapdata.demo.demand import ORDERS_PER_PERSON_DAY, generate_demand, osm_pickup_places, places_layer
from mapdata.demo.stations import OSM_EXTENT
from mapdata.schemas import validate


def test_demo_demand_lies_in_chengdu_where_people_and_places_are(districts, outline):
    a = generate_demand(districts, np.random.default_rng(42), n=5000)
    validate(a, "demand", within=outline)
    assert len(a) == 5000 and a["id"].iloc[0] == "dm-000001" and a["id"].iloc[-1] == "dm-005000"
    assert set(a["kind"]) == {"residential", "pickup", "dropoff"}
    # the weights are the districts' orders: population × rate, all of them
    assert a["weight"].sum() == pytest.approx(districts["population"].sum() * ORDERS_PER_PERSON_DAY, rel=1e-9)
    assert (a["weight"] > 0).all()
    # each point carries the adcode of the district containing it
    for adcode, geom in zip(districts["adcode"], districts.geometry.values):
        mine = a[a["adcode"] == adcode]
        assert shapely.contains_xy(geom, mine.geometry.x, mine.geometry.y).all()
    # pickups and dropoffs are in the centre, pickups near real OSM places
    centre = a[a["kind"] != "residential"]
    x0, y0, x1, y1 = OSM_EXTENT
    # (compounds cut by the extract's edge are kept whole, so dropoffs may lie a little outside it)
    assert centre.geometry.x.between(x0 - 0.01, x1 + 0.01).all()
    assert centre.geometry.y.between(y0 - 0.01, y1 + 0.01).all()
    places = osm_pickup_places()
    pickups = a[a["kind"] == "pickup"]
    dist = np.hypot((pickups.geometry.x.to_numpy()[:, None] - places.geometry.x.to_numpy()[None, :]) * 95_800,
                    (pickups.geometry.y.to_numpy()[:, None] - places.geometry.y.to_numpy()[None, :]) * 111_200)
    assert np.median(dist.min(axis=1)) < 60
    # more demand per km² in the core districts than in the outer counties
    per_km2 = a.groupby("adcode")["weight"].sum() / districts.set_index("adcode")["area_km2"]
    assert per_km2.loc[510104] > 20 * per_km2.loc[510131]


def test_places_are_the_osm_pickup_places_inside_chengdu(districts, outline):
    places = places_layer(districts)
    validate(places, "places", within=outline)
    raw = osm_pickup_places()
    assert 0 < len(places) <= len(raw)
    assert places["id"].is_unique and set(places["osm_id"]) <= set(raw["osm_id"])
    assert set(places["kind"]) <= {"mall", "marketplace", "supermarket", "food", "shop"}
