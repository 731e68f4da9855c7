"""Shared fixtures: one demo dataset built per test session, the app, an HTTP client, the browser."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DASH_TEST_CHROMEPATH", shutil.which("chromium") or "/usr/bin/chromium")

TEST_SEED = 20250401


def pytest_setup_options():
    """Chromium flags for a closed network: no background traffic, no first-run requests."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in ("--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--disable-default-apps", "--window-size=1280,900",
                "--lang=zh-CN"):
        options.add_argument(arg)
    return options


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo dataset, built once for the whole session (read-only: copy it before editing)."""
    from mapdata.demo.build import build

    path = tmp_path_factory.mktemp("data") / "nuanxin.gpkg"
    build(path, TEST_SEED)
    return path


@pytest.fixture()
def writable_db(demo_db, tmp_path) -> Path:
    """A private copy of the demo dataset for a test that writes."""
    path = tmp_path / "nuanxin.gpkg"
    shutil.copy(demo_db, path)
    return path


@pytest.fixture(scope="session")
def store(demo_db):
    from mapdata.store import GeoPackageStore

    return GeoPackageStore(demo_db)


@pytest.fixture(scope="session")
def app_db(demo_db, tmp_path_factory) -> Path:
    """The app's own copy of the dataset: browser tests may edit it (and put it back)."""
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


def external_requests(driver) -> list[str]:
    """Every resource the page loaded from somewhere other than this machine."""
    names = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    local = ("http://127.0.0.1", "http://localhost", "data:", "blob:")
    return [n for n in names if not n.startswith(local)]
