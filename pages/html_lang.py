"""The page's language on its ``<html>`` tag, set by the server so a screen reader knows it before any script runs.

Dash's index page comes with a bare ``<html>``; :func:`add_html_lang` is an after-request hook that
rewrites only that tag, only on an HTML page, from the ``lang`` query parameter the pages read
(``en`` gives English, anything else Chinese, as :func:`pages.i18n.language` decides).
"""
from __future__ import annotations

from flask import Response, request

from pages.i18n import language

#: The ``lang`` attribute for each of the pages' languages (BCP 47).
HTML_LANG = {"zh": "zh-CN", "en": "en"}

_BARE = b"<html>"


def add_html_lang(response: Response) -> Response:
    """After a request: ``<html>`` becomes ``<html lang="zh-CN">`` (or ``lang="en"``) on an HTML page."""
    if (request.method != "GET" or response.direct_passthrough or response.status_code != 200
            or response.mimetype != "text/html" or response.headers.get("Content-Encoding")):
        return response
    body = response.get_data()
    head = body[:200]
    if _BARE not in head:
        return response
    tag = f'<html lang="{HTML_LANG[language(request.args.get("lang"))]}">'.encode()
    response.set_data(body.replace(_BARE, tag, 1))
    return response
