"""Configuration from environment variables, read in this one place, with safe defaults."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

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
        )
