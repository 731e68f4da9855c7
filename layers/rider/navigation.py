"""Links that hand a station to the navigation apps riders use (Amap, Baidu), in the coordinates each expects."""
from __future__ import annotations

from urllib.parse import urlencode

from mapdata.crs import wgs84_to_gcj02

SOURCE = "nuanxin-map"


def amap_marker_url(lat: float, lon: float, name: str) -> str:
    """Amap's marker URI at a WGS-84 point.

    Amap reads GCJ-02 (``coordinate=gaode``), so the point is converted here rather than
    trusting ``coordinate=wgs84``, which Amap honours on some clients only. ``callnative=1``
    opens the app where it is installed (it does nothing inside WeChat, where the web page opens).
    """
    glon, glat = wgs84_to_gcj02(lon, lat)
    query = {"position": f"{float(glon):.6f},{float(glat):.6f}", "name": name, "src": SOURCE,
             "coordinate": "gaode", "callnative": 1}
    return "https://uri.amap.com/marker?" + urlencode(query)


def baidu_marker_url(lat: float, lon: float, name: str, address: str = "") -> str:
    """Baidu's marker URI at a WGS-84 point, sent as GCJ-02 with ``coord_type=gcj02``.

    Without ``coord_type`` Baidu reads BD-09 and the pin lands hundreds of metres away.
    """
    glon, glat = wgs84_to_gcj02(lon, lat)
    query = {"location": f"{float(glat):.6f},{float(glon):.6f}", "title": name, "content": address or name,
             "output": "html", "coord_type": "gcj02", "src": SOURCE}
    return "https://api.map.baidu.com/marker?" + urlencode(query)
