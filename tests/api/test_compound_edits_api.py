"""Gates and wayfinding signs through the API: the street's worker keeps them, with versions and history."""
from __future__ import annotations

import pytest

from layers.staff.accounts import create_account, issue_token
from layers.staff.compounds import compound_streets
from mapdata.store import open_store
from tests.helpers import layer_rows, raw_sql

PASSWORD = "correct horse battery"


@pytest.fixture()
def setup(private_app, writable_db):
    store = open_store(writable_db)
    gates, compounds = store.read("gates"), store.read("compounds").set_index("id")
    streets = compound_streets(store)
    gate = gates.iloc[0]
    compound = compounds.loc[gate["compound_id"]]
    street = streets[gate["compound_id"]]
    create_account(store, name="jie", role="street", password=PASSWORD, street=street, adcode=int(compound["adcode"]),
                   by="test")
    far = compounds[compounds["adcode"] != compound["adcode"]].index[0]
    other_gate = gates[gates["compound_id"] == far].iloc[0]
    create_account(store, name="zhan", role="station", password=PASSWORD,
                   stations=[store.read("stations").iloc[0]["id"]], by="test")
    tokens = {n: {"Authorization": f"Bearer {issue_token(store, n, 't', by='test')}"} for n in ("jie", "zhan")}
    return private_app.server.test_client(), store, gate, other_gate, compound, tokens


def test_a_gate_is_changed_by_its_street_with_a_version_and_a_history(setup):
    http, store, gate, other_gate, _, tokens = setup
    r = http.patch(f"/api/v1/gates/{gate['id']}", json={"rider_access": not bool(gate["rider_access"]), "e_bike": True,
                                                        "opening_hours": "Mo-Su 05:30-23:30"},
                   headers={**tokens["jie"], "If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    row = store.read("gates").set_index("id").loc[gate["id"]]
    assert row["rider_access"] == (not bool(gate["rider_access"])) and row["opening_hours"] == "Mo-Su 05:30-23:30"
    stale = http.patch(f"/api/v1/gates/{gate['id']}", json={"e_bike": False}, headers={**tokens["jie"], "If-Match": '"1"'})
    assert stale.status_code == 412
    history = http.get(f"/api/v1/gates/{gate['id']}/history", headers=tokens["jie"]).get_json()["entries"]
    assert {c["field"] for c in history[0]["changes"]} == {"opening_hours", "rider_access"} | (
        set() if gate["e_bike"] else {"e_bike"})
    assert history[0]["user"] == "jie"


def test_outside_the_street_or_as_station_staff_nothing_changes(setup):
    http, store, gate, other_gate, _, tokens = setup
    before = layer_rows(store, "gates"), len(store.audit_log())
    assert http.patch(f"/api/v1/gates/{other_gate['id']}", json={"e_bike": True},
                      headers={**tokens["jie"], "If-Match": '"1"'}).status_code == 403
    assert http.patch(f"/api/v1/gates/{gate['id']}", json={"e_bike": True},
                      headers={**tokens["zhan"], "If-Match": '"1"'}).status_code == 403
    assert http.patch(f"/api/v1/gates/{gate['id']}", json={"e_bike": "yes"},
                      headers={**tokens["jie"], "If-Match": '"1"'}).status_code == 400
    assert http.patch(f"/api/v1/gates/{gate['id']}", json={"e_bike": True}).status_code == 401
    assert (layer_rows(store, "gates"), len(store.audit_log())) == before


def test_a_sign_is_marked_damaged_and_a_new_one_put_up(setup):
    http, store, gate, _, compound, tokens = setup
    signs = store.read("wayfinding_signs")
    sign = signs[signs["compound_id"] == gate["compound_id"]].iloc[0]
    r = http.patch(f"/api/v1/signs/{sign['id']}", json={"condition": "damaged"},
                   headers={**tokens["jie"], "If-Match": f'"{sign["version"]}"'})
    assert r.status_code == 200
    assert store.read("wayfinding_signs").set_index("id").loc[sign["id"], "condition"] == "damaged"
    spot = compound.geometry.representative_point()
    r = http.post("/api/v1/signs", json={"compound_id": gate["compound_id"], "kind": "direction", "text": "3栋 →",
                                         "position": {"lon": spot.x, "lat": spot.y}}, headers=tokens["jie"])
    assert r.status_code == 201, r.get_json()
    new_id = r.get_json()["id"]
    assert store.read("wayfinding_signs").set_index("id").loc[new_id, "text"] == "3栋 →"
    far = http.post("/api/v1/signs", json={"compound_id": gate["compound_id"], "kind": "direction", "text": "x",
                                           "position": {"lon": spot.x + 0.01, "lat": spot.y}}, headers=tokens["jie"])
    assert far.status_code == 400 and far.get_json()["error"]["field"] == "position"


def test_a_blocked_route_or_a_gate_that_refuses_riders_is_not_where_a_rider_is_sent(setup):
    from layers.rider.catalogue import ENTRY_LAYERS
    from layers.rider.entry import entry_route

    http, store, _, _, _, tokens = setup
    routes, buildings = store.read("entry_routes"), store.read("buildings").set_index("id")
    route = routes.iloc[0]
    number = buildings.loc[route["building_id"], "number"]

    def answer():
        return entry_route({name: store.read(name) for name in ENTRY_LAYERS}, route["compound_id"], number)

    assert answer()["gate"]["id"] == route["gate_id"]
    compounds = store.read("compounds").set_index("id")
    create_account(store, name="qu2", role="district", password=PASSWORD, by="test",
                   adcode=int(compounds.loc[route["compound_id"], "adcode"]))
    admin = {"Authorization": f"Bearer {issue_token(store, 'qu2', 't', by='test')}"}
    r = http.patch(f"/api/v1/entry_routes/{route['id']}", json={"blocked": True}, headers={**admin, "If-Match": '"1"'})
    assert r.status_code == 200, r.get_json()
    assert answer()["reason_code"] == "route_blocked"
    http.patch(f"/api/v1/entry_routes/{route['id']}", json={"blocked": False}, headers={**admin, "If-Match": '"2"'})
    assert answer()["gate"]["id"] == route["gate_id"]
    gate_version = store.read("gates").set_index("id").loc[route["gate_id"], "version"]
    http.patch(f"/api/v1/gates/{route['gate_id']}", json={"rider_access": False},
               headers={**admin, "If-Match": f'"{gate_version}"'})
    assert answer()["reason_code"] in ("route_blocked", "no_rider_gate")


def test_an_older_store_gains_the_route_columns_with_their_defaults(writable_db):
    raw_sql(writable_db, "DELETE FROM schema_migrations WHERE id = 3")  # the release before route edits
    for column in ("blocked", "version", "updated_at", "updated_by"):  # as a release before route edits made it
        raw_sql(writable_db, f'ALTER TABLE entry_routes DROP COLUMN "{column}"')
    store = open_store(writable_db)
    assert {c for a in store.upgrade() for c in a.changes} == {
        "entry_routes.blocked", "entry_routes.version", "entry_routes.updated_at", "entry_routes.updated_by"}
    routes = store.read("entry_routes")
    assert (~routes["blocked"]).all() and (routes["version"] == 1).all() and (routes["updated_by"] == "upgrade").all()


def test_a_sign_is_reverted_to_an_earlier_state_as_a_new_change(setup):
    http, store, gate, _, _, tokens = setup
    signs = store.read("wayfinding_signs")
    sign = signs[signs["compound_id"] == gate["compound_id"]].iloc[0]
    h = tokens["jie"]
    v = int(sign["version"])
    http.patch(f"/api/v1/signs/{sign['id']}", json={"condition": "damaged"}, headers={**h, "If-Match": f'"{v}"'})
    http.patch(f"/api/v1/signs/{sign['id']}", json={"condition": "missing"}, headers={**h, "If-Match": f'"{v + 1}"'})
    history = http.get(f"/api/v1/signs/{sign['id']}/history", headers=h).get_json()["entries"]
    r = http.post(f"/api/v1/signs/{sign['id']}/revert", json={"seq": history[0]["seq"]}, headers=h)
    assert r.status_code == 200 and r.get_json()["changes"] == [
        {"field": "condition", "before": "missing", "after": "damaged"}]
    assert store.read("wayfinding_signs").set_index("id").loc[sign["id"], "condition"] == "damaged"
    assert http.get(f"/api/v1/signs/{sign['id']}/history", headers=h).get_json()["entries"][-1]["action"] == "revert"
    assert http.post(f"/api/v1/signs/{sign['id']}/revert", json={"seq": 0}, headers=tokens["zhan"]).status_code == 403
