"""The Content-Security-Policy lets the browser load the tiles the app is configured with, and no others."""
from __future__ import annotations

import contextlib

from layers.services import EXTENSION


@contextlib.contextmanager
def configured(dash_app, app_db, **tiles):
    import app as app_module
    from mapdata.config import Settings

    saved = dash_app.server.extensions[EXTENSION]
    dash_app.server.extensions[EXTENSION] = app_module.create_services(
        Settings(db_path=app_db, secret_key="test", **tiles))
    try:
        yield dash_app.server.test_client()
    finally:
        dash_app.server.extensions[EXTENSION] = saved


def images(response) -> list[str]:
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    return policy["img-src"].split()


def test_auto_tiles_are_allowed_from_their_host(dash_app, app_db):
    with configured(dash_app, app_db, tile_source="auto") as client:
        assert "https://webrd02.is.autonavi.com" in images(client.get("/"))
    with configured(dash_app, app_db, tile_source="auto", tile_url="http://10.1.2.3:8080/{z}/{x}/{y}.png") as client:
        assert images(client.get("/")) == ["'self'", "data:", "blob:", "http://10.1.2.3:8080"]


def test_no_tiles_no_tile_host(client):
    assert images(client.get("/")) == ["'self'", "data:", "blob:"]
