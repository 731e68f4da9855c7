"""Component ids: built here once per page with the page's prefix, imported by the page and its callbacks."""
from __future__ import annotations

from types import SimpleNamespace


def page_ids(prefix: str, *names: str) -> SimpleNamespace:
    """``page_ids("rider", "map")`` gives ``.map == "rider-map"``."""
    return SimpleNamespace(**{n: f"{prefix}-{n.replace('_', '-')}" for n in names}, prefix=prefix)


RIDER = page_ids(
    "rider", "url", "state", "planner_link", "remembered", "lang_btn", "title", "tagline", "demo", "locate", "locate_msg",
    "search", "search_go", "search_msg", "chips", "open_now", "open_day", "open_time", "open_at_label", "where",
    "where_text", "results_title",
    "results", "suggest", "map", "base_districts", "base_roads", "stations", "highlight", "here", "compounds",
    "routes", "signs", "gates", "card", "card_body", "card_close", "compound_name", "compound_building",
    "compound_go", "compound_msg", "compound_list", "compound_title", "layers", "attribution",
    "card_title", "planned", "planned_summary",
)


#: The rider page's report form, rider code, my reports and points (ids of their own, beside RIDER's).
RIDER_REPORT = page_ids(
    "rreport", "open", "here", "panel", "close", "about", "kinds", "amenity_wrap", "amenities", "note", "upload",
    "photo_in", "photo", "photo_preview", "photo_row", "photo_msg", "photo_clear", "code_line", "code_make", "send",
    "receipt", "follow", "place", "refs", "code", "texts", "code_open", "code_panel", "code_close", "code_msg",
    "code_body", "code_input", "code_use",
)
#: The staff workspace's reports queue, redemption and rewards (beside STAFF's).
STAFF_REPORTS = page_ids(
    "sreports", "section", "counts", "state_counts", "f_state", "f_kind", "f_overdue", "f_since", "f_until",
    "offset", "changed", "queue", "page_info", "prev", "next", "detail", "loaded", "panel", "message", "answer",
    "clear_status", "reason", "duplicate_of", "status_kind", "status_quick", "status_until", "status_note",
    "open_editor", "editor_message", "dl_xlsx", "dl_csv", "summary", "dl_summary", "code", "scan", "scan_message",
    "balance", "station", "reward", "redeem", "redeem_message", "catalogue_district", "catalogue", "reward_name",
    "reward_points", "reward_add", "catalogue_message",
)


def result_id(station_id: str) -> dict:
    """The pattern-matching id of one station in the result list."""
    return {"type": f"{RIDER.prefix}-result", "id": station_id}


def suggestion_id(kind: str, value: str) -> dict:
    return {"type": f"{RIDER.prefix}-suggest", "kind": kind, "value": value}


def search_alternative_id(kind: str, place_id: str) -> dict:
    """Another place a search found, offered as a button: tapping it lists the nearest from there."""
    return {"type": f"{RIDER.prefix}-search-alt", "kind": kind, "id": place_id}


def compound_suggestion_id(compound_id: str) -> dict:
    """A compound offered for a misspelt name: tapping it asks the entry question for that compound."""
    return {"type": f"{RIDER.prefix}-compound-suggest", "id": compound_id}


#: Rider map overlays whose data is loaded only once the rider switches them on.
LAZY_OVERLAYS = {"layer.compounds": "/api/v1/layers/compounds?simplify_m=2",
                 "layer.signs": "/api/v1/layers/wayfinding_signs"}


PLANNER = page_ids(
    "planner", "state", "title", "tagline", "lang_btn", "rider_link", "demo", "controls", "radius", "radius_custom",
    "mode", "amenities", "time_kind", "weekday", "hour", "holiday", "h3_res", "query", "when", "overall",
    "overall_share", "overall_points", "overall_stations", "network_note", "districts_table", "map", "base_districts",
    "hexagons", "stations", "whatif_layer", "sites_layer", "legend", "click_mode", "panel", "whatif",
    "whatif_reset", "whatif_summary", "week_graph", "week_view", "k", "recommend", "sites_graph", "sites_list",
    "sites_msg", "exact_district", "exact_go", "exact_result", "map_district", "dl_coverage_csv",
    "dl_coverage_xlsx", "dl_gaps_geojson", "dl_gaps_gpkg", "dl_sites_geojson", "dl_sites_csv", "dl_district_map", "attribution",
    "demand", "demand_label", "demand_upload", "demand_crs", "demand_reset", "demand_msg", "demand_errors",
    "cands", "cands_label", "cands_upload", "cands_crs", "cands_reset", "cands_msg", "cands_errors",
    "downloads_note",
)

#: The report downloads the planner page links to, each with the page's current question.
PLANNER_DOWNLOADS = {
    "dl_coverage_csv": "/api/v1/reports/coverage.csv",
    "dl_coverage_xlsx": "/api/v1/reports/coverage.xlsx",
    "dl_gaps_geojson": "/api/v1/reports/gaps.geojson",
    "dl_gaps_gpkg": "/api/v1/reports/gaps.gpkg",
    "dl_sites_geojson": "/api/v1/reports/sites.geojson",
    "dl_sites_csv": "/api/v1/reports/sites.csv",
    "dl_district_map": "/api/v1/reports/district_map.html",
}


LOGIN = page_ids("login", "title", "lang_btn", "message", "form", "name", "password", "lang", "next", "submit")

STAFF = page_ids(
    "staff", "state", "title", "who", "logout", "lang_btn", "filter", "list", "editor", "loaded", "message",
    "name", "address", "phone", "operator", "capacity", "amenities", "amenities_out", "hours_text", "hours_error",
    "hours_form_note", "ph", "preview", "status", "status_note", "status_until", "quick_microwave",
    "quick_closed_today", "quick_normal", "map", "marker", "position", "moved", "review", "save", "confirm", "diff",
    "conflict", "conflict_save", "history", "ledger_crs", "ledger_links", "ledger_upload", "ledger_result",
    "ledger_apply", "feed_since", "feed_user", "feed", "compound_filter", "compound_list", "compound_panel",
    "compound_loaded", "compound_message", "sign_kind", "sign_text", "sign_gate", "sign_add",
    "reviewed", "retire", "create_name", "create_address", "create_operator", "create_hours", "create_map",
    "create_marker", "create_position", "create_go", "create_message", "feed_district", "accounts", "account_name",
    "account_role", "account_stations", "account_street", "account_create",
    "account_message", "posters", "poster_district", "poster_size", "poster_go",
)


def staff_station_id(station_id: str) -> dict:
    """A station in the workspace's list."""
    return {"type": f"{STAFF.prefix}-station", "id": station_id}


def hours_input_id(day: int, slot: int) -> dict:
    """One time of the weekly hours form: ``slot`` 0/1 the first period's start/end, 2/3 the second's."""
    return {"type": f"{STAFF.prefix}-hours", "day": day, "slot": slot}


def revert_id(seq: int) -> dict:
    return {"type": f"{STAFF.prefix}-revert", "seq": seq}


def merge_choice_id(field: str) -> dict:
    return {"type": f"{STAFF.prefix}-merge", "field": field}


def compound_pick_id(compound_id: str) -> dict:
    return {"type": f"{STAFF.prefix}-compound", "id": compound_id}


def feature_field_id(kind: str, feature_id: str, field: str) -> dict:
    """A field of one gate or sign in the compound panel (``kind``: gate or sign)."""
    return {"type": f"{STAFF.prefix}-{kind}-field", "id": feature_id, "field": field}


def feature_save_id(kind: str, feature_id: str) -> dict:
    return {"type": f"{STAFF.prefix}-{kind}-save", "id": feature_id}


def account_disable_id(name: str) -> dict:
    return {"type": f"{STAFF.prefix}-account-disable", "name": name}
