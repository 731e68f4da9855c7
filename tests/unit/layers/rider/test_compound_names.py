"""Tests of the compound a rider probably meant (layers.rider.compound_names), on the demo build's compounds."""
from __future__ import annotations

import pandas as pd
import pytest

from layers.rider.compound_names import (
    MAX_QUERY_CHARS,
    MAX_SUGGESTIONS,
    CompoundNames,
    closest_compounds,
    pinyin_letters,
)
from layers.rider.entry import find_compounds


@pytest.fixture(scope="module")
def compounds(store):
    return store.read("compounds")


@pytest.fixture(scope="module")
def names(compounds):
    return CompoundNames(compounds)


def _names(found):
    return [s.name for s in found]


def test_a_homophone_finds_the_compound_first(names, compounds):
    assert find_compounds(compounds, "锦秀东方").empty  # the page's own lookup finds nothing
    found = closest_compounds(names, "锦秀东方")
    assert _names(found)[:2] == ["锦绣东方", "锦绣东方(二期)"]
    first = found[0]
    assert first.matched_by == "pinyin" and first.distance == 0
    assert first.id == compounds.loc[compounds["name"] == "锦绣东方", "id"].iloc[0]


@pytest.mark.parametrize("typed", ["jinxiudongfang", "jin xiu dong fang", "JinXiu DongFang", "jinxiudonfang"])
def test_a_name_typed_in_pinyin(names, typed):
    # the last one drops the g of "fang", as a rider who says fan for fang types it
    assert _names(closest_compounds(names, typed))[0] == "锦绣东方"


@pytest.mark.parametrize("typed, meant", [
    ("龙湖三干城东区", "龙湖三千城东区"),  # 干 looks like 千 and sounds nothing like it
    ("双水康域", "双水康城"),
    ("Standrad City", "Standard City"),
    ("万科金域兰湾", "万科·金域蓝湾"),  # a homophone and no separator
])
def test_one_wrong_character(names, typed, meant):
    found = closest_compounds(names, typed)
    assert found and found[0].name == meant


def test_a_look_alike_character_is_matched_by_characters(names):
    first = closest_compounds(names, "龙湖三干城东区")[0]
    assert first.matched_by == "characters" and first.distance == 1


def test_sichuan_fuzzy_pinyin(names):
    # n/l and in/ing sound the same to many Chengdu riders
    assert pinyin_letters("凌江") == pinyin_letters("宁江") == "ninjian"
    assert _names(closest_compounds(names, "北斗星花圆"))[0] == "北斗星花园"


@pytest.mark.parametrize("gibberish", ["啊啵呲嘚", "乾坤鑫磊", "qwrtzxkv", "asdfghjkl", "八嘎", "xyz", "春熙路",
                                       "幸福小区", "12345", "!!!", "", "   "])
def test_gibberish_gets_no_suggestion(names, gibberish):
    assert closest_compounds(names, gibberish) == []


def test_bounded(names):
    assert len(closest_compounds(names, "东方苑")) <= MAX_SUGGESTIONS
    assert closest_compounds(names, "东方苑", limit=2) == closest_compounds(names, "东方苑")[:2]
    assert closest_compounds(names, "东方苑", limit=0) == []
    assert len(closest_compounds(names, "东方苑", limit=100)) <= MAX_SUGGESTIONS
    # too long to be a name, and not strings at all: nothing, not an error
    assert closest_compounds(names, "锦绣东方" * (MAX_QUERY_CHARS // 4 + 1)) == []
    for bad in (None, 3, ["锦绣东方"], {"q": "锦绣东方"}):
        assert closest_compounds(names, bad) == []


def test_every_suggestion_is_close(names):
    for s in closest_compounds(names, "东方苑"):
        assert "东方" in s.name and s.distance == 1


def test_no_compounds():
    empty = CompoundNames(pd.DataFrame({"id": pd.Series([], dtype=str), "name": pd.Series([], dtype=str)}))
    assert closest_compounds(empty, "锦秀东方") == []
    unnamed = CompoundNames(pd.DataFrame({"id": ["cp-1", "cp-2"], "name": [None, "锦绣东方"]}))
    assert _names(closest_compounds(unnamed, "锦秀东方")) == ["锦绣东方"]


def test_the_catalogue_builds_the_names_once(store):
    from layers.rider.catalogue import StationCatalogue

    catalogue = StationCatalogue(store, with_network=False)
    assert catalogue.compound_names() is catalogue.compound_names()
    assert _names(closest_compounds(catalogue.compound_names(), "锦秀东方"))[0] == "锦绣东方"
