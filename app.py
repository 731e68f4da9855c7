"""Nuanxin Map (暖新地图): composes config, store, API and pages into one Dash app.

`python app.py` serves it on NUANXIN_HOST:NUANXIN_PORT; `gunicorn app:server` serves it too.
"""
from __future__ import annotations

import dash
from flask import Flask

import callbacks.planner  # noqa: F401  (registers the planner page's callbacks)
import callbacks.rider  # noqa: F401  (registers the rider page's callbacks)
from api.v1 import register as register_api
from layers.rider.catalogue import MAP_FIELDS
from layers.planning.context import PlanningContext
from mapdata.config import Settings
from mapdata.store import GeoPackageStore, StoreError

STORE_KEY = "nuanxin.store"
SETTINGS_KEY = "nuanxin.settings"
PLANNING_KEY = "nuanxin.planning"


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the app for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    store = GeoPackageStore(settings.db_path)
    if not store.exists():
        raise StoreError(f"no data store at {settings.db_path}; build it with `make data`")
    server = Flask(__name__)
    server.config["SECRET_KEY"] = settings.secret_key
    # Flask-Compress skips types it does not know; GeoJSON is most of what the map loads.
    server.config["COMPRESS_MIMETYPES"] = [
        "text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
        "application/x-javascript", "application/json", "application/geo+json", "image/svg+xml", "image/x-icon"]
    server.config["COMPRESS_MIN_SIZE"] = 500
    # the largest request anyone needs: a 1,000,000-row demand CSV is about 30 MB
    server.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    server.extensions[STORE_KEY] = store
    server.extensions[SETTINGS_KEY] = settings
    catalogue = register_api(server, store)
    # build the finder, the road network and the map's station GeoJSON now, not on a rider's first request
    catalogue.feature_collection_gzip(MAP_FIELDS)
    server.extensions[PLANNING_KEY] = PlanningContext(store, catalogue)  # its model is built on first use
    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder="pages",
        compress=True,
        serve_locally=True,
        title="暖新地图 Nuanxin Map",
        update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        suppress_callback_exceptions=True,
    )
    app.layout = dash.html.Div([dash.page_container], id="app-root")
    return app


_app: dash.Dash | None = None


def __getattr__(name: str):
    # `gunicorn app:server` and `app.app` build the app on first use, not at import, so that
    # tests and tools can import this module with their own settings.
    global _app
    if name in ("app", "server"):
        if _app is None:
            _app = create_app()
        return _app if name == "app" else _app.server
    raise AttributeError(name)


if __name__ == "__main__":
    s = Settings.from_env()
    create_app(s).run(host=s.host, port=s.port, debug=s.debug)
