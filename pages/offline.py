"""The rider page with no signal and on the home screen: the service worker (/sw.js), the web app manifest,
the labels the offline page script shows, and the page head's links to them.

The worker (``pages/offline_sw.js``) keeps the app shell; ``assets/rider_offline.js`` keeps the last answer
(its rows and the stations' open intervals from ``GET /api/v1/stations/hours``) and shows it when Dash's
requests fail. The worker is served from the site root so that its scope is the whole site, and never
from a cache, so that a new release reaches phones on their next visit.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import dash
from flask import Flask, Response

from pages.i18n import LANGUAGES, t
from pages.i18n_offline import SHARED_KEYS
from pages.i18n_offline import TEXT as OFFLINE_TEXT

HERE = Path(__file__).parent
WORKER_SOURCE = HERE / "offline_sw.js"
ASSETS = HERE.parent / "assets"
ICON_SIZES = (192, 512)
THEME_COLOUR = "#c2410c"
BACKGROUND_COLOUR = "#fff7ed"
WORKER_URL = "/sw.js"
MANIFEST_URL = "/manifest.webmanifest"
TEXTS_URL = "/offline-texts.json"

#: What the page's head links: the manifest (installable), the theme colour, the icon iOS puts on the home screen.
HEAD_LINKS = (f'<link rel="manifest" href="{MANIFEST_URL}">'
              f'<meta name="theme-color" content="{THEME_COLOUR}">'
              f'<link rel="apple-touch-icon" href="/assets/app-icons/icon-{ICON_SIZES[0]}.png">')


def icon_url(size: int) -> str:
    return f"/assets/app-icons/icon-{size}.png"


def manifest() -> dict:
    """The web app manifest: the rider page, standalone, with its two icons (any and maskable)."""
    return {
        "name": f"{t('app.title', 'zh')} {t('app.title', 'en')}",
        "short_name": t("app.title", "zh"),
        "description": t("app.tagline", "zh"),
        "lang": "zh-CN",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": BACKGROUND_COLOUR,
        "theme_color": THEME_COLOUR,
        # the glyph sits inside the middle 80 %, so the same icon serves as maskable
        "icons": [{"src": icon_url(n), "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any maskable"}
                  for n in ICON_SIZES],
    }


def offline_texts() -> dict[str, dict[str, str]]:
    """Every label the offline page script shows, in each language."""
    return {lang: {**{k: t(k, lang) for k in SHARED_KEYS}, **{k: v[lang] for k, v in OFFLINE_TEXT.items()}}
            for lang in LANGUAGES}


def worker_version(source: str) -> str:
    """A version of the shell: the worker's code, Dash's and the assets'. A new one makes phones drop the
    shell they keep and fetch the new one (assets are served with their modification time in the URL)."""
    digest = hashlib.sha256(source.encode())
    digest.update(dash.__version__.encode())
    for path in sorted(ASSETS.rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(ASSETS)}:{path.stat().st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def worker_script(title: str) -> str:
    """The worker's code with this release's version, the labels' URL and the page's title in it."""
    source = WORKER_SOURCE.read_text(encoding="utf-8")
    return (source.replace("__VERSION__", worker_version(source)).replace("__TEXTS_URL__", TEXTS_URL)
            .replace("__TITLE__", json.dumps(title, ensure_ascii=False)))


def init_offline(app: dash.Dash) -> None:
    """Serve the worker, the manifest and the offline labels on ``app``'s server and link them in the page head."""
    server: Flask = app.server
    script = worker_script(app.title)  # read once: a release changes it, a request does not
    body = json.dumps(manifest(), ensure_ascii=False)
    texts = json.dumps(offline_texts(), ensure_ascii=False)

    def fresh(body: str, mimetype: str, **headers) -> Callable[[], Response]:
        """A view answering ``body``, looked at again on every visit (no-cache) so a release reaches phones."""
        def view() -> Response:
            resp = Response(body, mimetype=mimetype)
            resp.headers.update({"Cache-Control": "no-cache", **headers})
            return resp
        return view

    service_worker = fresh(script, "text/javascript", **{"Service-Worker-Allowed": "/"})
    web_app_manifest = fresh(body, "application/manifest+json")
    labels = fresh(texts, "application/json")

    server.add_url_rule(WORKER_URL, "offline_service_worker", service_worker, methods=["GET"])
    server.add_url_rule(MANIFEST_URL, "offline_manifest", web_app_manifest, methods=["GET"])
    server.add_url_rule(TEXTS_URL, "offline_texts", labels, methods=["GET"])
    if HEAD_LINKS not in app.index_string:
        app.index_string = app.index_string.replace("{%favicon%}", "{%favicon%}\n        " + HEAD_LINKS, 1)
