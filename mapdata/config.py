"""Configuration from environment variables, read in this one place, with safe defaults."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent

#: Tile sources a deployment may switch on. The default draws no tiles: the base map is our
#: own district boundaries and roads, so nothing leaves the machine.
TILE_SOURCES = {
    "none": None,
    # OSM-style WGS-84 tiles; data is drawn as stored.
    "osm": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "crs": "wgs84",
            "attribution": "© OpenStreetMap contributors"},
    # Amap tiles are drawn in GCJ-02: the data is shifted for display only.
    "amap": {"url": "https://webrd02.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
             "crs": "gcj02", "attribution": "© 高德地图 AutoNavi"},
}


@dataclass(frozen=True)
class Settings:
    db_path: Path = field(default_factory=lambda: ROOT / "var" / "nuanxin.gpkg")
    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    tile_source: str = "none"
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    demo_seed: int = 20250401
    #: session cookies only over HTTPS (set NUANXIN_SECURE_COOKIES=1 behind TLS)
    secure_cookies: bool = False
    #: the site's public address, printed in the posters' QR codes (``<public_url>/s/<id>``); None: the
    #: address each request came to
    public_url: str | None = None

    @classmethod
    def from_env(cls, env: dict | None = None) -> "Settings":
        env = os.environ if env is None else env
        tiles = env.get("NUANXIN_TILES", "none")
        if tiles not in TILE_SOURCES:
            raise ValueError(f"NUANXIN_TILES={tiles!r}: expected one of {', '.join(TILE_SOURCES)}")
        db = Path(env.get("NUANXIN_DB", str(ROOT / "var" / "nuanxin.gpkg")))
        return cls(
            db_path=db if db.is_absolute() else ROOT / db,
            host=env.get("NUANXIN_HOST", "127.0.0.1"),
            port=int(env.get("NUANXIN_PORT", "8050")),
            debug=env.get("NUANXIN_DEBUG", "0") == "1",
            tile_source=tiles,
            secret_key=env.get("NUANXIN_SECRET_KEY") or secrets.token_hex(32),
            demo_seed=int(env.get("NUANXIN_SEED", "20250401")),
            secure_cookies=env.get("NUANXIN_SECURE_COOKIES", "0") == "1",
            public_url=public_url(env.get("NUANXIN_PUBLIC_URL")),
        )


def public_url(value: str | None, name: str = "NUANXIN_PUBLIC_URL") -> str | None:
    """A site's public base URL checked: http(s) with a host, no query, fragment, user or password, without its
    trailing ``/``; None when unset or blank. ``name`` is what an error calls it."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises for a port out of range
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host or any(c.isspace() for c in text):
        raise ValueError(f"{name}={text[:80]!r}: expected an http:// or https:// URL with a host, "
                         "such as https://nuanxin.example.cn")
    if "?" in text or "#" in text or parts.username or parts.password:
        raise ValueError(f"{name}={text[:80]!r}: a public URL has no query, fragment, user or password")
    return text.rstrip("/")
