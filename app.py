"""Nuanxin Map (暖新地图): the one place that composes config, store, services, the API and the pages.

`python app.py` serves it on NUANXIN_HOST:NUANXIN_PORT (Flask's server, for development);
`gunicorn 'app:create_server()'` serves it in production (gunicorn's application-factory form).
"""
from __future__ import annotations

import functools

import dash
from dash.exceptions import DependencyException
from flask import Flask

import api
from layers.planning.context import PlanningContext
from layers.rider.catalogue import MAP_FIELDS, StationCatalogue
from layers.services import EXTENSION, Services, services_of
from mapdata.config import Settings
from mapdata.schemas import SPECS
from mapdata.store import StoreError, open_store, versions_read_once
from mapdata.store.sql import redacted
from pages import auth, guard, offline, security, short_links
from pages.html_lang import add_html_lang

#: Flask-Compress skips types it does not know; GeoJSON is most of what the map loads.
COMPRESS_MIMETYPES = ["text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
                      "application/x-javascript", "application/json", "application/geo+json", "image/svg+xml",
                      "image/x-icon"]
#: The largest request anyone needs: a 1,000,000-row demand CSV is about 30 MB.
MAX_CONTENT_LENGTH = 64 * 1024 * 1024


def create_services(settings: Settings) -> Services:
    """The store and the domain services built on it."""
    store = open_store(settings.db_path)
    where = redacted(str(settings.db_path))
    if not store.exists():
        raise StoreError(f"no data store at {where}; build it with `make data` (a GeoPackage), or fill a PostGIS "
                         "database with `python -m mapdata.copy var/nuanxin.gpkg postgresql://…` or "
                         "`python -m mapdata.build --out postgresql://…`")
    missing = [layer for layer in SPECS if layer not in store.layers()]
    if not missing:
        store.upgrade()  # the schema migrations a store made by an older release lacks, in place
    if missing:
        raise StoreError(f"the store at {where} has no {', '.join(missing)} layer (it was built by an "
                         "older release); rebuild it with `make data`")
    # the holiday calendar the store publishes (made and seeded in place in an older store)
    from layers.common.calendar import use_calendar
    use_calendar(store.calendar)
    stations = StationCatalogue(store)
    return Services(settings=settings, store=store, stations=stations, planning=PlanningContext(store, stations))


def versions_once_per_request(wsgi_app):
    """The WSGI app with each request inside :func:`mapdata.store.versions_read_once`: a request reads the store's
    versions once and answers from that one version (an edit it makes is read again after it)."""
    def app(environ, start_response):
        with versions_read_once():
            return wsgi_app(environ, start_response)
    return app


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the app for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    services = create_services(settings)
    server = Flask(__name__)
    server.config.update(SECRET_KEY=settings.secret_key, COMPRESS_MIMETYPES=COMPRESS_MIMETYPES,
                         COMPRESS_MIN_SIZE=500, MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH)
    server.extensions[EXTENSION] = services
    server.wsgi_app = versions_once_per_request(server.wsgi_app)
    api.register(server)
    auth.init_auth(server, settings.secure_cookies)
    short_links.init_short_links(server)  # /s/<id>: the posters' QR codes
    # build the finder, the road network and the map's station GeoJSON now, not on a rider's first request;
    # the coverage model is built on the first planner question
    services.stations.feature_collection_gzip(MAP_FIELDS)

    import callbacks.planner  # noqa: F401  (registers the planner page's callbacks)
    import callbacks.rider  # noqa: F401  (registers the rider page's callbacks)
    import callbacks.rider_reports  # noqa: F401  (the rider page's reports, rider code and points)
    import callbacks.staff  # noqa: F401  (registers the staff workspace's callbacks)
    import callbacks.staff_reports  # noqa: F401  (the workspace's reports queue, redemption and rewards)

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
        on_error=guard.last_resort,
    )
    server.before_request(guard.forged_router_request)
    server.before_request(guard.no_dev_tools_in_production(settings.debug))
    server.register_error_handler(DependencyException, guard.not_found)
    app.layout = dash.html.Div([dash.page_container], id="app-root")
    # images from the tile host of the settings the pages draw with (NUANXIN_TILES=auto too)
    policy_for = functools.cache(lambda tile_url: security.content_security_policy(app.csp_hashes(), tile_url))
    server.after_request(security.add_security_headers(
        lambda: policy_for((services_of(server).settings.tiles or {}).get("url"))))
    server.after_request(add_html_lang)
    offline.init_offline(app)  # /sw.js, /manifest.webmanifest and their links in the page head
    return app


def create_server(settings: Settings | None = None) -> Flask:
    """The WSGI application: ``gunicorn 'app:create_server()'``."""
    return create_app(settings).server


def first_admin(services: Services) -> str | None:
    """On demonstration data with no account yet, a city admin with a random password, printed once
    (the demo build itself ships no account and no known password)."""
    from layers.staff.accounts import create_account, new_password

    store = services.store
    if store.accounts.count() or not store.info().demo:
        return None
    password = new_password()
    create_account(store, name="admin", role="city", password=password, by="make run")
    print(f"No staff account yet: created 'admin' (city admin) with password {password} - shown once; "
          "sign in at /login and change it with `python -m mapdata.users set-password admin`", flush=True)
    return password


if __name__ == "__main__":
    s = Settings.from_env()
    dash_app = create_app(s)
    first_admin(services_of(dash_app.server))
    dash_app.run(host=s.host, port=s.port, debug=s.debug)
