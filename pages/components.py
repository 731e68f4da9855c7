"""UI pieces more than one page uses: amenity icons and chips."""
from __future__ import annotations

import dash
from dash import html

from pages.i18n import t


def amenity_icons(keys, lang: str, cls: str = "amenity-icons") -> html.Span:
    """A row of amenity icons, each with its name as alt text and tooltip."""
    return html.Span([html.Img(src=dash.get_asset_url(f"icons/{k}.svg"), alt=t(f"amenity.{k}", lang),
                               title=t(f"amenity.{k}", lang), className="amenity-icon") for k in keys],
                     className=cls)


def amenity_chip(key: str, lang: str) -> dict:
    """One option of an amenity checklist: icon and name."""
    return {"label": html.Span([html.Img(src=dash.get_asset_url(f"icons/{key}.svg"), alt="", className="chip-icon"),
                                html.Span(t(f"amenity.{key}", lang))], className="chip-label"),
            "value": key}
