"""Helpers shared by the tests: reference answers by brute force (oracles) and test data builders.

The oracles compute the same answers as the domain's fast paths by scanning everything, so a
fast path is tested against an independent, obviously correct implementation. They live here,
not in production modules.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers.common.amenities import parse_amenities
from layers.common.calendar import as_local
from layers.common.geodesy import haversine_m
from layers.common.hours import HoursTable
from layers.common.network import RoadNetwork
from layers.rider.nearest import eta_minutes

#: The seed of the demo dataset every test session builds once.
TEST_SEED = 20250401
#: The instant every test runs at (mapdata.clock is frozen there for the session): a Wednesday, 15:00 in Chengdu.
TEST_NOW = dt.datetime(2026, 12, 2, 15, 0)
#: A planner's question the report tests share: an ordinary Wednesday afternoon, and 锦江区.
AT = "2026-12-02T15:00:00+08:00"
JINJIANG = 510104
#: Station names that would run script if a page or an export pasted them as HTML.
XSS_NAMES = ("<img src=x onerror=alert(1)>", "`${window.__xss = 1}`", "<script>window.__xss = 2</script>")


def brute_force_nearest(stations: gpd.GeoDataFrame, lat: float, lon: float, amenities=(), at=None, k: int = 5,
                        max_distance_m: float | None = None, sort: str = "distance", *,
                        network: RoadNetwork | None = None, hours: HoursTable | None = None) -> list[str]:
    """The reference answer by a full scan of every station: the ids :meth:`StationFinder.nearest` must return.

    Filters the GeoDataFrame by amenities and opening hours, computes the great-circle distance
    (and riding time when ``sort="eta"``) of every remaining station, sorts by it then by id.

    Parameters
    ----------
    stations, lat, lon, amenities, at, k, max_distance_m, sort
        As for :meth:`StationFinder.nearest`.
    network : RoadNetwork, optional
        For ``sort="eta"``; without it every time is an estimate.
    hours : HoursTable, optional
        Built from ``stations`` when not given.
    """
    need = frozenset(parse_amenities(amenities))
    keep = stations["amenities"].map(need.issubset).to_numpy(dtype=bool)
    if at is not None:
        if hours is None:
            hours = HoursTable(stations["opening_hours"], stations["status"], stations["status_until"])
        keep = keep & np.asarray(hours.open_at(as_local(at)), dtype=bool)
    found = stations.loc[keep, ["id", "geometry"]]
    y, x = found.geometry.y.to_numpy(dtype=float), found.geometry.x.to_numpy(dtype=float)
    found = pd.DataFrame({"id": found["id"].astype(str).to_numpy(), "distance_m": haversine_m(lat, lon, y, x)})
    riding = network.riding_distances(lat, lon, y, x) if network is not None and sort == "eta" and len(found) else None
    found["eta_min"] = eta_minutes(found["distance_m"].to_numpy(), riding)[0]
    if max_distance_m is not None:
        found = found[found["distance_m"] <= max_distance_m]
    key = "distance_m" if sort == "distance" else "eta_min"
    return found.sort_values([key, "id"], kind="stable").head(k)["id"].tolist()


def brute_force_covered(demand_lon, demand_lat, station_lon, station_lat, eligible, radius_m: float) -> np.ndarray:
    """Reference answer by a full haversine scan: a point is covered when an eligible station is within ``radius_m``.

    Quadratic in memory (points × stations): for tests and small checks only.
    """
    dlon, dlat = np.asarray(demand_lon, float), np.asarray(demand_lat, float)
    slon, slat = np.asarray(station_lon, float)[eligible], np.asarray(station_lat, float)[eligible]
    if len(slon) == 0:
        return np.zeros(len(dlon), dtype=bool)
    d = haversine_m(dlat[:, None], dlon[:, None], slat[None, :], slon[None, :])
    return (d <= radius_m).any(axis=1)


# --- test data ------------------------------------------------------------------------------

def coverage_csv(lon, lat, weight) -> str:
    """Demand points as the CSV a planner uploads."""
    return "lon,lat,weight\n" + "".join(f"{x:.8f},{y:.8f},{w:g}\n" for x, y, w in zip(lon, lat, weight))


# --- the browser: helpers every page test uses ---------------------------------------------------

def external_requests(driver) -> list[str]:
    """Every resource the page loaded from somewhere other than this machine."""
    names = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    local = ("http://127.0.0.1", "http://localhost", "data:", "blob:")
    return [n for n in names if not n.startswith(local)]


def wait_until(dash_duo, condition, timeout=10, message=None):
    """``condition()``'s first truthy value, polled for ``timeout`` seconds; ``message()`` explains a timeout."""
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(dash_duo.driver, timeout).until(lambda d: condition())
    except Exception:
        if message:
            raise AssertionError(message()) from None
        raise


def url_query(driver) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(driver.current_url).query).items()}


def texts(dash_duo, selector: str) -> list[str]:
    """The text of every match, read in one go in the page (a list may re-render under our feet)."""
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText)", selector)


def choose(dash_duo, selector: str, label: str):
    """Pick an option of a dropdown as a user does: tap it open, tap the option."""
    from selenium.webdriver.common.by import By

    box = dash_duo.find_element(f"{selector} .dash-dropdown-value")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    option = wait_until(dash_duo, lambda: next((o for o in dash_duo.driver.find_elements(
        By.CSS_SELECTOR, ".dash-dropdown-option") if o.text == label), None))
    # a JS click: the menu closes on mousedown, and a synthetic pointer's mouseup would land on
    # whatever lies under the menu
    dash_duo.driver.execute_script("arguments[0].click()", option)


def clean(dash_duo):
    """Nothing left the machine and the console is empty."""
    assert external_requests(dash_duo.driver) == []
    assert dash_duo.get_logs() == []


def callback_request(dash_app, output_id: str, values: dict) -> dict:
    """The request the browser sends for the server callback whose outputs include ``output_id`` (a
    component id, or ``id.property``), with ``values`` (component id → value) for its inputs and states
    and None for the rest."""
    dash_app.server.test_client().get("/")  # the callback map is complete once the app has served

    def outputs_of(key):
        return [part.split("@")[0] for part in (key.strip(".").split("...") if key.startswith("..") else [key])]

    key, spec = next((k, s) for k, s in dash_app.callback_map.items() if s.get("callback") is not None and any(
        out == output_id or out.rpartition(".")[0] == output_id for out in outputs_of(k)))

    def entry(dep):
        return {"id": dep["id"], "property": dep["property"], "value": values.get(dep["id"])}

    outputs = [dict(zip(("id", "property"), out.rpartition(".")[::2])) for out in outputs_of(key)]
    first = spec["inputs"][0]
    return {"output": key, "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": [entry(d) for d in spec["inputs"]], "state": [entry(d) for d in spec["state"]],
            "changedPropIds": [f"{first['id']}.{first['property']}"]}


def layer_rows(store, layer: str = "stations") -> dict:
    """Every row of a layer as plain comparable values (missing values as None), keyed by id: what a test
    compares before and after a refused write."""
    layer_frame = store.read(layer)
    frame = pd.DataFrame(layer_frame.drop(columns="geometry")).assign(
        geometry=layer_frame.geometry.to_wkt().to_numpy()).astype(object)
    frame = frame.where(frame.notna(), None)
    return {str(r["id"]): {k: str(v) if v is not None else None for k, v in r.items()} for r in frame.to_dict("records")}


def second_browser():
    """Another headless Chromium with its own storage and cookies (a second phone), logging console errors;
    the caller quits it."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN",
                "--disable-background-networking", "--disable-component-update", "--no-first-run"):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
    return webdriver.Chrome(options=options)


def sign_in(dash_duo, name, password, ready, timeout=30):
    """Sign in as a staff member would: open /staff, be sent to the login form, submit it, land on the
    workspace and wait for ``ready`` (a CSS selector). A failure says where the browser ended and what it showed."""
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/staff")
    dash_duo.wait_for_element("#login-name", timeout=timeout)

    def typed() -> bool:
        # type into the form as it stands, and submit only what the boxes then hold (a form drawn again while
        # it was typed into would send other text: CI saw "wrong password" for the right one twice)
        from selenium.common.exceptions import StaleElementReferenceException

        try:
            for selector, text in (("#login-name", name), ("#login-password", password)):
                box = driver.find_element("css selector", selector)
                if box.get_attribute("value") != text:
                    box.clear()
                    box.send_keys(text)
            return all(driver.find_element("css selector", s).get_attribute("value") == v
                       for s, v in (("#login-name", name), ("#login-password", password)))
        except StaleElementReferenceException:
            return False

    wait_until(dash_duo, typed, timeout=timeout, message=lambda: "the login form did not keep what was typed")
    dash_duo.find_element("#login-submit").click()

    def where():
        shown = driver.execute_script("return document.body ? document.body.innerText.slice(0, 400) : ''")
        return f"signed in as {name!r}, the browser is at {driver.current_url}, showing: {shown!r}"

    wait_until(dash_duo, lambda: urlparse(driver.current_url).path == "/staff", timeout=timeout, message=where)
    wait_until(dash_duo, lambda: driver.find_elements("css selector", ready), timeout=timeout,
               message=lambda: f"no {ready} after {timeout} s; " + where())


def raw_sql(db, sql: str, params=(), geometry=None):
    """Run one statement straight in a store's database, past the store (a test damaging or inspecting it):
    ``db`` a GeoPackage path or a PostGIS URL; ``{geom}`` in ``sql`` is ``geometry`` written as that engine
    stores it. Answers the rows a query returns."""
    import sqlite3
    from contextlib import closing

    from mapdata.store.sql import PgDatabase, is_postgres_url

    params = list(params)
    if is_postgres_url(db):
        if geometry is not None:
            sql, params = sql.replace("{geom}", "ST_GeomFromWKB(?, 4326)"), [*params, shapely.to_wkb(geometry)]
        with closing(PgDatabase(db).connect()) as conn:
            cur = conn.execute(sql, params)
            return [tuple(r) for r in cur.fetchall()]
    from mapdata.store.geopackage import gpkg_blob

    if geometry is not None:
        sql, params = sql.replace("{geom}", "?"), [*params, gpkg_blob(geometry)]
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.create_function("ST_IsEmpty", 1, lambda b: 0)  # what the GeoPackage's R-tree triggers call
        for f in ("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY"):
            conn.create_function(f, 1, lambda b: 0.0)
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def ids_in_box(db, layer: str, bbox) -> set[str]:
    """The ids of a layer's rows whose geometry meets a box, found through the engine's spatial index
    (the GeoPackage's R-tree as GDAL reads it, PostGIS's GiST index)."""
    from mapdata.store.sql import is_postgres_url

    if is_postgres_url(db):
        west, south, east, north = bbox
        return {r[0] for r in raw_sql(db, f'SELECT id FROM "{layer}" WHERE geom && ST_MakeEnvelope(?, ?, ?, ?, 4326)',
                                      [west, south, east, north])}
    return set(gpd.read_file(db, layer=layer, bbox=tuple(bbox))["id"])
