"""A what-if as a district's report shows it: hypothetical stations are never counted as stations, a district
the what-if leaves untouched has no change, and a report's what-if parameters are checked naming the field."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from layers.common.districts import chengdu_outline
from layers.common.errors import QuestionError
from layers.planning.coverage import CoverageModel
from layers.planning.questions import MAX_HYPOTHETICAL, CoverageQuestion, parse_what_if, what_if, what_if_params
from tests.unit.layers.planning.test_coverage import TIANFU, make_stations

#: Demand in two far-apart places: central Chengdu and 简阳 (Jianyang), 50 km east.
JIANYANG = (104.55, 30.39)


@pytest.fixture(scope="module")
def model(districts):
    rng = np.random.default_rng(5)
    centre = np.array(TIANFU) + rng.uniform(-0.02, 0.02, (300, 2))
    east = np.array(JIANYANG) + rng.uniform(-0.01, 0.01, (100, 2))
    points = np.concatenate([centre, east])
    stations = make_stations(TIANFU[0] + rng.uniform(-0.02, 0.02, 12), TIANFU[1] + rng.uniform(-0.02, 0.02, 12))
    return CoverageModel(stations, points[:, 0], points[:, 1], np.ones(len(points)), districts=districts, h3_res=None)


def test_a_hypothetical_station_is_not_counted_as_a_station(model):
    plain = model.coverage(500)
    added = model.coverage(500, extra_stations=[JIANYANG, (JIANYANG[0] + 0.01, JIANYANG[1])])
    assert plain.open_stations == added.open_stations == 12
    assert (plain.hypothetical_stations, added.hypothetical_stations) == (0, 2)
    assert added.overall["points_covered"] > plain.overall["points_covered"]
    removed = model.coverage(500, extra_stations=[JIANYANG], removed_station_ids=["st-0000"])
    assert (removed.open_stations, removed.hypothetical_stations) == (11, 1)
    assert added.to_dict()["query"]["hypothetical_stations"] == 2


def test_untouched_districts_have_no_change(model, districts):
    change = what_if(model, CoverageQuestion(500), [JIANYANG], [])
    deltas = change.district_deltas()
    jianyang = int(districts.loc[districts["name"] == "简阳市", "adcode"].iloc[0])
    base = change.base.districts.set_index("adcode")
    after = change.changed.districts.set_index("adcode")
    assert deltas[jianyang] == pytest.approx(after.at[jianyang, "share"] - base.at[jianyang, "share"])
    assert deltas[jianyang] > 0
    # every other district: the same demand covered, so no change at all (not +0.0)
    others = deltas.drop(jianyang)
    assert others.isna().all()
    assert (after.drop(jianyang)["covered"] == base.drop(jianyang)["covered"]).all()


def test_a_change_elsewhere_in_a_district_is_shown(model):
    change = what_if(model, CoverageQuestion(500), [], ["st-0000", "st-0001", "st-0002"])
    deltas = change.district_deltas()
    assert (deltas.dropna() <= 0).all() and deltas.notna().sum() >= 1


def test_a_reports_what_if_is_parsed_and_checked(districts):
    outline = chengdu_outline(districts)
    ids = ["st-0001", "st-0002"]
    assert parse_what_if(None, None, ids, outline) == ([], [])
    assert parse_what_if("", "", ids, outline) == ([], [])
    added, removed = parse_what_if("104.0648001,30.6586;104.1,30.7", "st-0002,st-0001,st-0002", ids, outline)
    assert added == [[104.0648, 30.6586], [104.1, 30.7]] and removed == ["st-0001", "st-0002"]
    for text in ("116.4,39.9", "104.06", "east,north", "104.06,30.66,1", "nan,30.6"):
        with pytest.raises(QuestionError) as err:
            parse_what_if(text, None, ids, outline)
        assert err.value.field == "added"
    with pytest.raises(QuestionError) as err:
        parse_what_if(";".join(["104.06,30.66"] * (MAX_HYPOTHETICAL + 1)), None, ids, outline)
    assert err.value.field == "added" and str(MAX_HYPOTHETICAL) in err.value.message
    with pytest.raises(QuestionError) as err:
        parse_what_if(None, "st-0001,st-9999", ids, outline)
    assert err.value.field == "removed" and "st-9999" in err.value.message


def test_a_what_if_goes_into_a_reports_query_and_back(districts):
    outline = chengdu_outline(districts)
    added, removed = [[104.0648, 30.6586], [104.1, 30.7]], ["st-0002", "st-0001"]
    params = what_if_params(added, removed)
    assert params == {"added": "104.064800,30.658600;104.100000,30.700000", "removed": "st-0001,st-0002"}
    assert parse_what_if(params["added"], params["removed"], removed, outline) == (added, sorted(removed))
    assert what_if_params([], []) == {}


def test_deltas_are_nan_without_demand(model):
    change = what_if(model, CoverageQuestion(500), [TIANFU], [])
    deltas = change.district_deltas()
    empty = change.base.districts.loc[change.base.districts["demand"] == 0, "adcode"]
    assert pd.isna(deltas[empty.to_numpy()]).all()
