"""Shared fixtures: one demo dataset built per test session, the app, an HTTP client, the browser."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import AT, JINJIANG, TEST_NOW, TEST_SEED, XSS_NAMES

os.environ.setdefault("DASH_TEST_CHROMEPATH", shutil.which("chromium") or "/usr/bin/chromium")



def pytest_setup_options():
    """Chromium flags for a closed network: no background traffic, no first-run requests."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in ("--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--disable-default-apps", "--window-size=1280,900",
                "--lang=zh-CN"):
        options.add_argument(arg)
    return options


@pytest.fixture(scope="session", autouse=True)
def frozen_clock():
    """Every test runs at one instant in Chengdu (an ordinary Wednesday afternoon), whatever the date."""
    from mapdata import clock

    with clock.frozen(TEST_NOW):
        yield


@pytest.fixture(scope="session")
def districts():
    """The districts layer as the build makes it from the boundary and census sources."""
    from mapdata.demo.districts import load_districts

    return load_districts()


@pytest.fixture(scope="session")
def outline(districts):
    """Chengdu's outline (WGS-84)."""
    from layers.common.districts import chengdu_outline

    return chengdu_outline(districts)


def pytest_addoption(parser):
    parser.addoption("--store", choices=("gpkg", "postgis"), default=os.environ.get("NUANXIN_TEST_STORE", "gpkg"),
                     help="the backend the tests' stores use: a GeoPackage file (default) or a throwaway "
                          "PostgreSQL + PostGIS cluster started for the session")


def pytest_configure(config):
    config.addinivalue_line("markers", "gpkg_only(why): reads or damages the GeoPackage file itself")
    # pytest -n N (xdist): each worker's Dash test servers count up from ports of their own
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit():
        from dash.testing.application_runners import BaseDashRunner

        BaseDashRunner._next_port = 58050 + 1000 * int(worker[2:])


def pytest_collection_modifyitems(config, items):
    if config.getoption("--store") != "postgis":
        return
    for item in items:
        marker = item.get_closest_marker("gpkg_only")
        if marker is not None:
            why = marker.args[0] if marker.args else "works on the GeoPackage file itself"
            item.add_marker(pytest.mark.skip(reason=f"GeoPackage only: {why}"))


@pytest.fixture(scope="session")
def backend(request) -> str:
    """The backend of this session's stores: ``gpkg`` or ``postgis``."""
    return request.config.getoption("--store")


@pytest.fixture(scope="session")
def pg(backend):
    """The session's throwaway PostgreSQL + PostGIS cluster (PostGIS sessions only)."""
    if backend != "postgis":
        yield None
        return
    from tests.pg_cluster import throwaway_cluster

    with throwaway_cluster(dbname="scratch", extensions=()) as cluster:
        databases = PgDatabases(cluster)
        try:
            yield databases
        finally:
            databases.close()


class PgDatabases:
    """Databases of one cluster, each a copy of the demo dataset's template (``CREATE DATABASE … TEMPLATE``)."""

    def __init__(self, cluster):
        import psycopg

        self.cluster = cluster
        self._n = 0
        # one autocommit session for the CREATE/DROP DATABASE of every test (a psql per statement costs 10 ms)
        self._admin = psycopg.connect(self.url(cluster.dbname), autocommit=True)

    def url(self, name: str) -> str:
        return f"postgresql:///{name}?host={self.cluster.socket_dir}&user={self.cluster.user}"

    def make_template(self, gpkg: Path) -> None:
        from mapdata.copy import copy_store
        from mapdata.store import open_store

        self.cluster.psql('CREATE DATABASE "demo_template"')
        self.cluster.psql("CREATE EXTENSION postgis", dbname="demo_template")
        target = open_store(self.url("demo_template"))
        copy_store(open_store(gpkg), target)
        target.db.close_idle()  # a template copies only while nobody is connected to it

    def copy(self) -> str:
        self._n += 1
        name = f"t{self._n}"
        self._admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "demo_template"')
        return self.url(name)

    def close(self) -> None:
        self._admin.close()

    def drop(self, url: str) -> None:
        name = url.split("?")[0].rsplit("/", 1)[1]
        self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def demo_gpkg(tmp_path_factory) -> Path:
    """The demo dataset as a GeoPackage, built once for the whole session (read-only)."""
    from mapdata.demo.build import build

    path = tmp_path_factory.mktemp("data") / "nuanxin.gpkg"
    build(path, TEST_SEED)
    return path


@pytest.fixture(scope="session")
def demo_db(demo_gpkg, pg) -> Path | str:
    """The demo dataset (read-only: take ``writable_db`` to edit): the GeoPackage, or a PostGIS database copied
    from it."""
    if pg is None:
        return demo_gpkg
    pg.make_template(demo_gpkg)
    return pg.copy()


@pytest.fixture()
def writable_db(demo_db, pg, tmp_path) -> Path | str:
    """A private copy of the demo dataset for a test that writes."""
    if pg is not None:
        url = pg.copy()
        yield url
        pg.drop(url)
        return
    path = tmp_path / "nuanxin.gpkg"
    shutil.copy(demo_db, path)
    yield path


@pytest.fixture(scope="session")
def store(demo_db):
    from mapdata.store import open_store

    return open_store(demo_db)


@pytest.fixture(scope="session")
def app_db(demo_db, pg, tmp_path_factory) -> Path | str:
    """The app's own copy of the dataset: browser tests may edit it (and put it back)."""
    if pg is not None:
        return pg.copy()
    path = tmp_path_factory.mktemp("app") / "nuanxin.gpkg"
    shutil.copy(demo_db, path)
    return path


@pytest.fixture(scope="session")
def settings(app_db):
    from mapdata.config import Settings

    return Settings(db_path=app_db, secret_key="test", tile_source="none")


@pytest.fixture(scope="session")
def dash_app(settings):
    import app as app_module

    return app_module.create_app(settings)


@pytest.fixture(scope="session")
def client(dash_app):
    return dash_app.server.test_client()


@pytest.fixture()
def private_app(dash_app, writable_db):
    """The session's app answering from a private copy of the data, for a test that writes (Dash registers
    the page callbacks with the first app a process makes, so tests of callbacks share that one app)."""
    import app as app_module
    from layers.common.calendar import use_calendar
    from layers.services import EXTENSION
    from mapdata.config import Settings

    # a private copy starts with no failed logins: the throttle counts in the store
    saved = dash_app.server.extensions[EXTENSION]
    dash_app.server.extensions[EXTENSION] = app_module.create_services(
        Settings(db_path=writable_db, secret_key="test", tile_source="none"))
    try:
        yield dash_app
    finally:
        dash_app.server.extensions[EXTENSION] = saved
        use_calendar(saved.store.calendar)  # the session's calendar again, not this test's throwaway copy


# --- a planner's question and its reports, shared by the export, API and browser tests -----------

@pytest.fixture(scope="session")
def planning(dash_app):
    from layers.services import services_of

    return services_of(dash_app.server).planning


@pytest.fixture(scope="session")
def result(planning):
    return planning.model().coverage(500, (), AT)


@pytest.fixture(scope="session")
def sites(planning):
    from layers.common.calendar import as_local
    from layers.planning.questions import CoverageQuestion, recommend_sites

    cands = planning.candidates()
    return recommend_sites(planning.model(), cands, CoverageQuestion(500, (), as_local(AT)), 12), cands


@pytest.fixture(scope="session")
def hostile_stations(planning):
    """The stations with three in Jinjiang renamed to script injections."""
    stations = planning.model().stations.copy()
    pos = np.flatnonzero(stations["adcode"].to_numpy() == JINJIANG)[:len(XSS_NAMES)]
    names = stations["name"].to_numpy(dtype=object).copy()
    names[pos] = XSS_NAMES
    stations["name"] = names
    return stations


@pytest.fixture(scope="session")
def district_map(planning, result, sites, hostile_stations):
    from exports.district_map import district_map_html
    from layers.common.calendar import as_local
    from layers.planning import results

    siting, cands = sites
    counted = results.stations_counted(hostile_stations, (), as_local(AT), planning.model().hours)
    return district_map_html(JINJIANG, hostile_stations, result, siting, districts=planning.districts(),
                             counted=counted, candidates=cands)
