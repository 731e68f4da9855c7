"""Component ids: built here once per page with the page's prefix, imported by the page and its callbacks."""
from __future__ import annotations

from types import SimpleNamespace


def page_ids(prefix: str, *names: str) -> SimpleNamespace:
    """``page_ids("rider", "map")`` gives ``.map == "rider-map"``."""
    return SimpleNamespace(**{n: f"{prefix}-{n.replace('_', '-')}" for n in names}, prefix=prefix)


RIDER = page_ids(
    "rider", "url", "state", "remembered", "lang_btn", "title", "tagline", "demo", "locate", "locate_msg",
    "search", "search_go", "search_msg", "chips", "open_now", "open_at", "open_day", "open_time", "open_at_label", "where", "where_text", "results_title",
    "results", "suggest", "map", "base_districts", "base_roads", "stations", "highlight", "here", "compounds",
    "routes", "signs", "gates", "card", "card_body", "card_close", "compound_name", "compound_building",
    "compound_go", "compound_msg", "compound_list", "compound_title", "layers", "attribution",
)


def result_id(station_id: str) -> dict:
    """The pattern-matching id of one station in the result list."""
    return {"type": f"{RIDER.prefix}-result", "id": station_id}


def suggestion_id(kind: str, value: str) -> dict:
    return {"type": f"{RIDER.prefix}-suggest", "kind": kind, "value": value}


#: Rider map overlays whose data is loaded only once the rider switches them on.
LAZY_OVERLAYS = {"layer.compounds": "/api/v1/layers/compounds?simplify_m=2",
                 "layer.signs": "/api/v1/layers/wayfinding_signs"}
