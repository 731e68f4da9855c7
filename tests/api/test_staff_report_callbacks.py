"""The workspace's reports and points callbacks are an API too: signed in, a forged sweep gets no 500 and writes
nothing; a station account reaches only its stations' reports; a filter change asks the queue once; a photo of a
rider's QR is read on the server (and anything that is not a photo is refused before decoding)."""
from __future__ import annotations

import base64
import io
import json
import logging
from types import SimpleNamespace

import pytest
import segno

from layers.common import rider_codes
from layers.rider.reports import submit_report
from layers.services import services_of
from layers.staff import reports as ledger
from layers.staff.accounts import Account, create_account
from pages.ids import STAFF_REPORTS as IDS
from pages.staff import reports as views
from tests.api.test_forged_callbacks import HOSTILE, _outputs, _payload, _server_callbacks
from tests.helpers import layer_rows, raw_sql

PASSWORD = "correct horse battery"


@pytest.fixture()
def world(private_app, writable_db):
    store = services_of(private_app.server).store
    stations = store.read("stations")
    station = stations[stations["amenities"].map(lambda a: "microwave" in a)].iloc[0]
    adcode = int(station["adcode"])
    other = stations[(stations["adcode"] == adcode) & (stations["id"] != station["id"])].iloc[0]
    create_account(store, name="qu-r", role="district", password=PASSWORD, adcode=adcode, by="test")
    create_account(store, name="zhan-r", role="station", password=PASSWORD, stations=[other["id"]], by="test")
    code = rider_codes.new_code()
    mine = submit_report(store, {"kind": "facility_broken", "amenity": "microwave", "station_id": station["id"],
                                 "note": "微波炉不热", "rider_code": code})
    theirs = submit_report(store, {"kind": "closed_in_hours", "station_id": other["id"], "note": "没开门"})
    return SimpleNamespace(app=private_app, store=store, db=writable_db, station=station, other=other, code=code,
                           mine=mine, theirs=theirs, adcode=adcode)


def _client(app, name):
    http = app.server.test_client()
    assert http.post("/login", data={"name": name, "password": PASSWORD}).status_code == 303
    return http


def _written(db) -> tuple:
    """Everything a reports callback could write: reports with versions, sightings, points, rewards, audit."""
    return tuple(raw_sql(db, q) for q in (
        "SELECT id, state, version, riders, verified_at, status_set FROM reports ORDER BY id",
        "SELECT count(*) FROM report_sightings", "SELECT * FROM points_entries ORDER BY id",
        "SELECT * FROM rewards ORDER BY id", "SELECT count(*) FROM audit_log"))


def _spec(app, name):
    found = [(k, s) for k, s in _server_callbacks(app) if getattr(s["callback"], "__name__", "") == name]
    assert len(found) == 1, name
    return found[0]


def _concrete(outputs, patterns):
    """A wildcard output as the browser sends it: one entry per component on the page."""
    out = []
    for o in outputs:
        if isinstance(o["id"], dict):
            kind = o["id"]["type"]
            out.append([{"id": ident, "property": o["property"]} for ident in patterns.get(kind, [])])
        else:
            out.append(o)
    return out


def call(http, app, name, values: dict, trigger=None, patterns=None):
    """Call the callback ``name`` as the page would: ``values`` by component id (a wildcard input by its type,
    as a list of (id, value)); ``trigger`` the id that changed."""
    key, spec = _spec(app, name)
    patterns = patterns or {"sreports-act": [views.action_id(a) for a in views.ACTION_KEYS]}

    def entry(dep):
        ident = dep["id"]
        if ident.startswith("{"):
            kind = json.loads(ident)["type"]
            return [{"id": i, "property": dep["property"], "value": v} for i, v in values.get(kind, [])]
        return {"id": ident, "property": dep["property"], "value": values.get(ident)}

    outputs = _concrete(_outputs(key), patterns)
    changed = trigger if isinstance(trigger, str) else json.dumps(trigger, sort_keys=True, separators=(",", ":"))
    body = {"output": key, "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": [entry(d) for d in spec["inputs"]], "state": [entry(d) for d in spec["state"]],
            "changedPropIds": [f"{changed}.{spec['inputs'][0]['property']}"] if trigger else []}
    r = http.post("/_dash-update-component", json=body)
    assert r.status_code in (200, 204), (name, r.status_code, r.data[:400])
    return r.get_json()["response"] if r.status_code == 200 else None


def _text(answer) -> str:
    return json.dumps(answer, ensure_ascii=False)


def _report_callbacks(app):
    return [(k, s) for k, s in _server_callbacks(app) if "sreports" in k]


@pytest.mark.parametrize("who", ["qu-r", "zhan-r"])
def test_a_signed_in_forged_sweep_gets_no_500_and_writes_nothing(world, who, caplog):
    http = _client(world.app, who)
    caplog.set_level(logging.ERROR, logger="nuanxin.callbacks")
    before, stations = _written(world.db), layer_rows(world.store)
    callbacks = _report_callbacks(world.app)
    assert len(callbacks) >= 12
    for key, spec in callbacks:
        n_in, n_state = len(spec["inputs"]), len(spec["state"])
        cases = [([v] * n_in, [v] * n_state) for v in HOSTILE]
        cases += [([v if j == i else 1 for j in range(n_in)], [None] * n_state) for i in range(n_in)
                  for v in HOSTILE[::2]]
        for values, states in cases:
            r = http.post("/_dash-update-component", json=_payload(key, spec, values, states))
            assert r.status_code in (200, 204), (key, values[:2], r.status_code, r.data[:300])
    assert [r.getMessage()[:200] for r in caplog.records if r.name == "nuanxin.callbacks"] == []
    assert _written(world.db) == before and layer_rows(world.store) == stations


def test_a_station_account_sees_and_works_only_its_stations_reports(world):
    http = _client(world.app, "zhan-r")
    answer = call(http, world.app, "show_queue", {IDS.f_state: "all", IDS.f_kind: "", IDS.f_overdue: [],
                                                   "staff-state": {"lang": "zh"}}, trigger=IDS.f_state)
    queue = _text(answer[IDS.queue])
    assert world.theirs.ref in queue and world.mine.ref not in queue
    before = _written(world.db)
    # opening or acting on the other station's report by a forged id: nothing shown, nothing written
    forged_row = views.row_id(world.mine.report_id)
    assert call(http, world.app, "open_report", {"sreports-row": [(forged_row, 1)], "staff-state": {}},
                trigger=forged_row) is None
    loaded = {"id": world.mine.report_id, "version": 1}
    for action in ("acknowledge", "confirm", "status"):
        act = views.action_id(action)
        answer = call(http, world.app, "act_on_report", {"sreports-act": [(act, 1)], IDS.loaded: loaded,
                                                         IDS.status_until: "2026-12-05T18:00",
                                                         IDS.status_kind: "amenity", "staff-state": {"lang": "zh"}},
                      trigger=act)
        assert "NX" in _text(answer[IDS.message]) and "area" in _text(answer[IDS.message])
    assert _written(world.db) == before
    # and its own report opens
    own = views.row_id(world.theirs.report_id)
    answer = call(http, world.app, "open_report", {"sreports-row": [(own, 1)], "staff-state": {"lang": "zh"}},
                  trigger=own)
    assert answer[IDS.loaded]["data"]["id"] == world.theirs.report_id
    assert "没开门" in _text(answer[IDS.detail])


def test_a_filter_change_asks_the_queue_once_and_the_links_carry_the_filters(world, monkeypatch):
    http = _client(world.app, "qu-r")
    calls = []
    real = ledger.queue

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger, "queue", counted)
    answer = call(http, world.app, "show_queue", {IDS.f_state: "open", IDS.f_kind: "facility_broken",
                                                   IDS.f_overdue: [], IDS.f_since: "2026-12-01",
                                                   IDS.f_until: "2026-12-31", IDS.offset: 50,
                                                   "staff-state": {"lang": "en"}}, trigger=IDS.f_kind)
    assert len(calls) == 1 and calls[0]["kind"] == "facility_broken" and calls[0]["offset"] == 0
    assert world.mine.ref in _text(answer[IDS.queue]) and world.theirs.ref not in _text(answer[IDS.queue])
    href = answer[IDS.dl_xlsx]["href"]
    assert href.startswith("/api/v1/ledger/reports.xlsx?") and "kind=facility_broken" in href
    assert "since=2026-12-01" in href and "until=2026-12-31" in href and "state=open" in href
    assert answer[IDS.dl_csv]["href"].startswith("/api/v1/ledger/reports.csv?")
    assert answer[IDS.counts]["children"] == "2 open · 0 overdue"
    # the links answer with the session's cookie, as a tap on the page sends it
    for link in (href, answer[IDS.dl_csv]["href"], views.SUMMARY_CSV):
        got = http.get(link)
        assert got.status_code == 200 and len(got.data) > 0, (link, got.status_code, got.data[:200])
    assert world.mine.ref in http.get(answer[IDS.dl_csv]["href"]).get_data(as_text=True)
    # a day that is no day is said, not a 500, and the queue is not asked
    answer = call(http, world.app, "show_queue", {IDS.f_state: "open", IDS.f_kind: "", IDS.f_overdue: [],
                                                   IDS.f_since: "2026-02-31", "staff-state": {"lang": "en"}},
                  trigger=IDS.f_since)
    assert "Check the filters" in _text(answer[IDS.queue]) and len(calls) == 1


def test_reject_needs_a_reason_and_a_stale_version_is_reloaded(world):
    http = _client(world.app, "qu-r")
    reject = views.action_id("reject")
    loaded = {"id": world.mine.report_id, "version": 1}
    answer = call(http, world.app, "act_on_report", {"sreports-act": [(reject, 1)], IDS.loaded: loaded,
                                                     IDS.reason: "  ", "staff-state": {"lang": "zh"}}, trigger=reject)
    assert "请填写不予处理的理由" in _text(answer[IDS.message])
    assert world.store.reports.get(world.mine.report_id)["state"] == "new"
    # someone else acknowledges it meanwhile: my press is not written, the report is reloaded
    district = Account.of(world.store.accounts.get("qu-r"))
    ledger.act(world.store, district, world.mine.report_id, "acknowledge", version=1)
    start = views.action_id("start")
    answer = call(http, world.app, "act_on_report", {"sreports-act": [(start, 1)], IDS.loaded: loaded,
                                                     "staff-state": {"lang": "zh"}}, trigger=start)
    assert "该报告已被他人更新，已重新载入" in _text(answer[IDS.message])
    assert answer[IDS.loaded]["data"]["version"] == 2 and answer[IDS.loaded]["data"]["state"] == "acknowledged"
    assert world.store.reports.get(world.mine.report_id)["state"] == "acknowledged"


def _qr_data_url(text: str) -> str:
    buffer = io.BytesIO()
    segno.make_qr(text, error="h").save(buffer, kind="png", scale=6, border=4)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_a_photo_of_the_riders_qr_is_read_and_anything_else_refused(world):
    http = _client(world.app, "zhan-r")
    link = rider_codes.transfer_link("https://nuanxin.example", world.code)
    answer = call(http, world.app, "scan_code", {IDS.scan: _qr_data_url(link), "staff-state": {"lang": "zh"}},
                  trigger=IDS.scan)
    assert answer[IDS.code]["value"] == rider_codes.shown(world.code)
    assert "已识别" in _text(answer[IDS.scan_message])
    for bad in ("data:text/html;base64," + base64.b64encode(b"<b>x</b>").decode(),
                "data:image/png;base64," + base64.b64encode(b"not a picture").decode(),
                "data:image/png;base64,@@@",
                "data:image/jpeg;base64," + "A" * (views.MAX_SCAN_DATA_URL + 10)):
        answer = call(http, world.app, "scan_code", {IDS.scan: bad, "staff-state": {"lang": "zh"}}, trigger=IDS.scan)
        assert IDS.code not in answer and "staff-error" in _text(answer[IDS.scan_message])
    # a QR that is not a rider code
    answer = call(http, world.app, "scan_code", {IDS.scan: _qr_data_url("https://example.com/"),
                                                 "staff-state": {"lang": "zh"}}, trigger=IDS.scan)
    assert "没有找到骑手码" in _text(answer[IDS.scan_message])


def test_the_catalogue_is_kept_by_the_district_and_not_by_a_station(world):
    admin, station = _client(world.app, "qu-r"), _client(world.app, "zhan-r")
    values = {IDS.reward_add: 1, IDS.reward_name: "矿泉水一箱", IDS.reward_points: 10.0,
              IDS.catalogue_district: world.adcode, "staff-state": {"lang": "zh"}}
    assert call(station, world.app, "add_reward", values, trigger=IDS.reward_add) in (None, {})  # not a keeper
    answer = call(admin, world.app, "add_reward", values, trigger=IDS.reward_add)
    assert "已添加：矿泉水一箱（10 积分）" in _text(answer)
    rewards = world.store.reports.rewards(world.adcode)
    assert [r["name"] for r in rewards] == ["矿泉水一箱"]
    # a station account picks it for its station; withdrawing it takes it out of the choices
    options = call(station, world.app, "reward_choices", {IDS.station: world.other["id"],
                                                          "staff-state": {"lang": "zh"}}, trigger=IDS.station)
    assert options[IDS.reward]["value"] == rewards[0]["id"]
    withdraw = views.withdraw_id(rewards[0]["id"], rewards[0]["version"])
    assert call(station, world.app, "withdraw_reward", {"sreports-withdraw": [(withdraw, 1)], "staff-state": {}},
                trigger=withdraw) in (None, {})
    answer = call(admin, world.app, "withdraw_reward", {"sreports-withdraw": [(withdraw, 1)],
                                                        "staff-state": {"lang": "zh"}}, trigger=withdraw)
    assert "已下架：矿泉水一箱" in _text(answer)
    assert world.store.reports.rewards(world.adcode) == []


def test_a_reports_photo_is_shown_from_the_staff_only_photo_route(world):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "orange").save(buffer, "JPEG")
    sent = submit_report(world.store, {"kind": "hazard", "lon": float(world.station.geometry.x) + 0.01,
                                       "lat": float(world.station.geometry.y), "note": "井盖缺失"},
                         photo=buffer.getvalue())
    http = _client(world.app, "qu-r")
    row = views.row_id(sent.report_id)
    answer = call(http, world.app, "open_report", {"sreports-row": [(row, 1)], "staff-state": {"lang": "zh"}},
                  trigger=row)
    photo_id = world.store.reports.photos_of(sent.report_id)[0]["id"]
    src = views.photo_url(photo_id)
    assert src in _text(answer[IDS.detail]) and "井盖缺失" in _text(answer[IDS.detail])
    got = http.get(src)
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    assert world.app.server.test_client().get(src).status_code in (401, 403)  # not without a session


def test_the_station_editor_opens_on_the_reports_station_for_an_account_that_keeps_it(world):
    loaded = {"id": world.mine.report_id, "version": 1}
    values = {IDS.open_editor: 1, IDS.loaded: loaded, "staff-state": {"lang": "zh"}}
    hours = {"staff-hours": [{"type": "staff-hours", "day": d, "slot": k} for d in range(7) for k in range(4)]}
    answer = call(_client(world.app, "qu-r"), world.app, "open_station_editor", values, trigger=IDS.open_editor,
                  patterns=hours)
    assert answer["staff-name"]["value"] == world.station["name"]
    assert answer["staff-loaded"]["data"]["id"] == world.station["id"]
    assert world.station["name"] in _text(answer[IDS.editor_message])
    # the station account keeps another station: its editor is not opened on this one
    answer = call(_client(world.app, "zhan-r"), world.app, "open_station_editor", values, trigger=IDS.open_editor,
                  patterns=hours)
    assert "staff-name" not in answer and "不归本账号管理" in _text(answer[IDS.editor_message])
