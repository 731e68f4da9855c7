"""The served page says its language on ``<html lang>`` before any script runs: zh-CN, or en for ?lang=en."""
from __future__ import annotations

import gzip
import re

import pytest


def _html_tag(body: bytes) -> str:
    return re.search(rb"<html[^>]*>", body).group(0).decode()


@pytest.mark.parametrize("query, expected", [
    ("", '<html lang="zh-CN">'), ("?lang=zh", '<html lang="zh-CN">'), ("?lang=en", '<html lang="en">'),
    ('?lang=en"><script>', '<html lang="zh-CN">'), ("?lang=fr", '<html lang="zh-CN">'),
])
def test_the_rider_page_carries_its_language(client, query, expected):
    r = client.get("/" + query)
    assert r.status_code == 200
    assert _html_tag(r.data) == expected
    assert r.data.count(b"<html") == 1 and int(r.headers["Content-Length"]) == len(r.data)


def test_the_language_survives_compression(client):
    r = client.get("/?lang=en", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("Content-Encoding") == "gzip"
    body = gzip.decompress(r.data)
    assert _html_tag(body) == '<html lang="en">'


def test_only_html_pages_are_touched(client):
    r = client.get("/api/v1/amenities")
    assert r.mimetype == "application/json" and b'lang="' not in r.data[:200]
