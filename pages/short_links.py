"""The stations' short links, ``/s/<id>``: what a printed QR poster holds, redirected to the rider page at the station.

The poster prints only the station's id, so a station that moves or changes its hours needs no reprint:
the redirect is worked out from the current data each time. An id that is malformed, unknown or of a
retired station is answered with a 404 page in plain words, never an error.
"""
from __future__ import annotations

import html

from flask import Blueprint, Flask, Response, current_app, redirect, request

from layers.rider.links import SHORT_PREFIX, is_station_id
from layers.services import services_of
from pages.i18n import language
from pages.rider.views import share_link

bp = Blueprint("short_links", __name__)

_NOT_FOUND = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>没有这个驿站 · No such station</title></head>
<body>
<h1>没有找到这个驿站</h1>
<p>{zh}</p>
<p><a href="/">打开暖新地图，查看附近的驿站</a></p>
<hr>
<p lang="en">{en} <a href="/?lang=en">Open Nuanxin Map to find a station nearby.</a></p>
</body></html>
"""


def _not_found(station_id: str | None) -> Response:
    if station_id is None:
        zh, en = "这个链接不是驿站的链接，可能抄错了。", "This link is not a station's link; it may have been mistyped."
    else:
        shown = html.escape(station_id)
        zh = f"编号 {shown} 的驿站不存在或已撤销。"
        en = f"There is no station {shown}, or it has closed for good."
    return Response(_NOT_FOUND.format(zh=zh, en=en), status=404, mimetype="text/html")


# a path, not one segment: anything under /s/ is a short link, and a malformed one is our 404, not the rider page
@bp.get(SHORT_PREFIX + "<path:station_id>")
def station_link(station_id: str):
    """302 to ``/?s=<id>&lat=…&lon=…`` (the rider page with the station's card open), 404 for anything else."""
    if not is_station_id(station_id):
        return _not_found(None)
    catalogue = services_of(current_app).stations
    i = catalogue.position(station_id)
    if i is None:  # unknown, or retired: the catalogue holds active stations only
        return _not_found(station_id)
    return redirect(share_link(station_id, catalogue.stations.iloc[i], language(request.args.get("lang"))), code=302)


def init_short_links(server: Flask) -> None:
    """Serve ``/s/<id>`` on ``server``."""
    server.register_blueprint(bp)
