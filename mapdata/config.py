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
#: ``NUANXIN_TILES=auto``: this source's tiles, and in the browser our own base map (districts, roads and
#: where the roads end) when they do not load. Amap: drawn in Chinese, reachable in mainland China.
AUTO_TILE_SOURCE = "amap"
#: A ``NUANXIN_DB`` starting so is a PostgreSQL + PostGIS store's libpq URL; anything else is a GeoPackage path.
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
#: What ``NUANXIN_TILES`` accepts.
TILE_CHOICES = (*TILE_SOURCES, "auto")
#: The deployment default (``Settings.from_env``); ``Settings()`` itself, as the tests build it, draws no tiles.
DEFAULT_TILES = "auto"


@dataclass(frozen=True)
class Settings:
    #: the store: a GeoPackage file, or a ``postgresql://`` URL (a PostGIS store)
    db_path: Path | str = field(default_factory=lambda: ROOT / "var" / "nuanxin.gpkg")
    host: str = "127.0.0.1"
    port: int = 8050
    debug: bool = False
    tile_source: str = "none"
    #: another address for the tiles of ``tile_source`` (a mirror, or the city's own tile server drawing the same
    #: tiles in the same CRS); None: the source's own
    tile_url: str | None = None
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
        tiles = env.get("NUANXIN_TILES", DEFAULT_TILES).strip()
        if tiles not in TILE_CHOICES:
            raise ValueError(f"NUANXIN_TILES={tiles!r}: expected one of {', '.join(TILE_CHOICES)}")
        url = tile_url(env.get("NUANXIN_TILE_URL"))
        if url and tiles == "none":
            raise ValueError("NUANXIN_TILE_URL is set but NUANXIN_TILES=none draws no tiles: "
                             f"set NUANXIN_TILES to one of {', '.join(c for c in TILE_CHOICES if c != 'none')}")
        db_text = env.get("NUANXIN_DB", str(ROOT / "var" / "nuanxin.gpkg"))
        db = Path(db_text)
        return cls(
            db_path=db_text if db_text.startswith(POSTGRES_SCHEMES) else db if db.is_absolute() else ROOT / db,
            host=env.get("NUANXIN_HOST", "127.0.0.1"),
            port=int(env.get("NUANXIN_PORT", "8050")),
            debug=env.get("NUANXIN_DEBUG", "0") == "1",
            tile_source=tiles,
            tile_url=url,
            secret_key=env.get("NUANXIN_SECRET_KEY") or secrets.token_hex(32),
            demo_seed=int(env.get("NUANXIN_SEED", "20250401")),
            secure_cookies=env.get("NUANXIN_SECURE_COOKIES", "0") == "1",
            public_url=public_url(env.get("NUANXIN_PUBLIC_URL")),
        )

    @property
    def tiles(self) -> dict | None:
        """The tile layer to draw: ``url``, ``crs`` (``wgs84``/``gcj02``), ``attribution`` and ``fallback`` (True:
        the browser falls back to our own base map when the tiles do not load); None for no tiles."""
        if self.tile_source not in TILE_CHOICES:
            raise ValueError(f"tile_source={self.tile_source!r}: expected one of {', '.join(TILE_CHOICES)}")
        auto = self.tile_source == "auto"
        source = TILE_SOURCES[AUTO_TILE_SOURCE if auto else self.tile_source]
        if source is None:
            return None
        return {**source, "url": self.tile_url or source["url"], "fallback": auto}


def tile_url(value: str | None, name: str = "NUANXIN_TILE_URL") -> str | None:
    """A tile URL template checked: http(s) with a host and the ``{z}``, ``{x}`` and ``{y}`` placeholders; None
    when unset or blank."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        parts = urlsplit(text)
        _ = parts.port
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in text]
    if parts is None or parts.scheme not in ("http", "https") or not host or missing \
            or any(c.isspace() for c in text):
        raise ValueError(f"{name}={text[:120]!r}: expected an http:// or https:// tile URL template with {{z}}, "
                         "{x} and {y}, such as https://tiles.example.cn/{z}/{x}/{y}.png")
    return text


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
