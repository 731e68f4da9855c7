"""Security headers on every response: a Content-Security-Policy from Dash's inline-script hashes, no
sniffing, no framing, a strict referrer policy."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response


def content_security_policy(script_hashes, tile_url: str | None = None) -> str:
    """The app's policy: its own origin, Dash's inline scripts by hash, inline styles (React and Leaflet
    set them on elements), images from the tile server when tiles are on."""
    images = ["'self'", "data:", "blob:"]
    if tile_url:
        parts = urlsplit(tile_url)
        images.append(f"{parts.scheme}://{parts.netloc}")
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": images,
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],  # the rider page's service worker (/sw.js)
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def add_security_headers(policy) -> callable:
    """An after-request hook; ``policy()`` gives the app's policy (computed once the app is complete)."""
    def hook(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy())
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        return response
    return hook
