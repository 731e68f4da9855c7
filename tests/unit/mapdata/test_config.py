"""Settings from the environment: the tile sources, the deployment default (auto) and what a typo gives."""
from __future__ import annotations

import pytest

from mapdata.config import TILE_SOURCES, Settings


def test_a_deployment_draws_amap_tiles_that_fall_back_to_our_own_base_map_by_default():
    tiles = Settings.from_env({}).tiles
    assert Settings.from_env({}).tile_source == "auto"
    assert tiles == {**TILE_SOURCES["amap"], "fallback": True}
    assert tiles["crs"] == "gcj02"  # our WGS-84 data is shifted for display on them


def test_tests_and_scripts_that_make_settings_themselves_draw_no_tiles():
    assert Settings().tiles is None
    assert Settings.from_env({"NUANXIN_TILES": "none"}).tiles is None


@pytest.mark.parametrize("source", ["osm", "amap"])
def test_a_named_tile_source_is_always_drawn(source):
    tiles = Settings.from_env({"NUANXIN_TILES": source}).tiles
    assert tiles["url"] == TILE_SOURCES[source]["url"] and tiles["fallback"] is False


def test_a_tile_url_replaces_the_sources_address_and_keeps_its_crs():
    url = "https://tiles.example.cn/amap/{z}/{x}/{y}.png"
    tiles = Settings.from_env({"NUANXIN_TILES": "auto", "NUANXIN_TILE_URL": f"  {url} "}).tiles
    assert tiles["url"] == url and tiles["crs"] == "gcj02" and tiles["fallback"] is True


@pytest.mark.parametrize("value", ["google", "AUTO", "amap,osm", ""])
def test_an_unknown_tile_source_names_the_variable_and_the_choices(value):
    with pytest.raises(ValueError) as error:
        Settings.from_env({"NUANXIN_TILES": value})
    message = str(error.value)
    assert message.startswith(f"NUANXIN_TILES={value!r}")
    assert "none, osm, amap, auto" in message


@pytest.mark.parametrize("value", ["ftp://tiles.example.cn/{z}/{x}/{y}.png", "https://tiles.example.cn/tile.png",
                                   "https:///{z}/{x}/{y}.png", "tiles.example.cn/{z}/{x}/{y}"])
def test_a_tile_url_that_is_no_tile_template_names_the_variable(value):
    with pytest.raises(ValueError, match=r"^NUANXIN_TILE_URL=.*\{z\}, \{x\} and \{y\}"):
        Settings.from_env({"NUANXIN_TILES": "auto", "NUANXIN_TILE_URL": value})


def test_a_tile_url_without_tiles_is_refused():
    with pytest.raises(ValueError, match="NUANXIN_TILE_URL is set but NUANXIN_TILES=none"):
        Settings.from_env({"NUANXIN_TILES": "none", "NUANXIN_TILE_URL": "https://t.example.cn/{z}/{x}/{y}.png"})


def test_settings_made_in_code_with_an_unknown_source_fail_when_drawn():
    with pytest.raises(ValueError, match="tile_source='amapp'"):
        _ = Settings(tile_source="amapp").tiles
