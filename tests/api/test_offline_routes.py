"""The routes that let the rider page work with no signal and install: /sw.js, the manifest, the offline labels,
their links in the page head and the policy that lets the page use them."""
from __future__ import annotations

import re

import pytest

from pages.i18n import LANGUAGES, t


def _policy(response) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in
                                                response.headers["Content-Security-Policy"].split(";"))}


def test_the_worker_is_served_from_the_root_for_the_whole_site_and_never_from_a_cache(client):
    r = client.get("/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Service-Worker-Allowed"] == "/"
    assert r.headers["Cache-Control"] == "no-cache"
    source = r.get_data(as_text=True)
    assert "__VERSION__" not in source and "__TITLE__" not in source and "__TEXTS_URL__" not in source
    assert re.search(r'const VERSION = "[0-9a-f]{16}";', source)


def test_the_worker_s_version_follows_the_assets(client, dash_app, tmp_path, monkeypatch):
    from pages import offline

    source = offline.WORKER_SOURCE.read_text(encoding="utf-8")
    before = offline.worker_version(source)
    (tmp_path / "rider.js").write_text("// another release")
    monkeypatch.setattr(offline, "ASSETS", tmp_path)
    assert offline.worker_version(source) != before


def test_the_page_head_links_the_manifest_and_the_policy_lets_the_page_use_it(client):
    r = client.get("/")
    html = r.get_data(as_text=True)
    head = html[:html.index("</head>")]
    assert '<link rel="manifest" href="/manifest.webmanifest">' in head
    assert '<meta name="theme-color"' in head and 'rel="apple-touch-icon"' in head
    policy = _policy(r)
    assert policy["worker-src"] == ["'self'"] and policy["manifest-src"] == ["'self'"]


def test_the_manifest_names_the_app_and_its_icons(client):
    r = client.get("/manifest.webmanifest")
    assert r.mimetype == "application/manifest+json" and r.headers["Cache-Control"] == "no-cache"
    body = r.get_json(force=True)
    assert body["short_name"] == "暖新地图" and body["scope"] == "/" and body["start_url"] == "/"
    assert {i["sizes"] for i in body["icons"]} == {"192x192", "512x512"}
    for icon in body["icons"]:
        assert client.get(icon["src"]).data[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_offline_labels_are_the_page_s_own_in_each_language(client, lang):
    labels = client.get("/offline-texts.json").get_json()[lang]
    assert labels["offline.badge"].format(time="21:05") == t("offline.badge", lang, time="21:05")
    assert labels["status.open_until"] == t("status.open_until", lang)
    assert labels["weekday.6"] == t("weekday.6", lang)


def test_the_badge_reads_as_the_issue_asks():
    assert t("offline.badge", "zh", time="21:05") == "离线 · 更新于 21:05"
    assert t("offline.badge", "en", time="21:05") == "Offline · updated 21:05"
