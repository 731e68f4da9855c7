"""UI pieces more than one page uses: amenity icons and chips."""
from __future__ import annotations

import json

import dash
from dash import html
from dash._utils import to_json

from layers.common.caching import BoundedCache
from pages.i18n import t

#: Rows of amenity icons already made: a result list shows the same few combinations again and again, and a
#: component is only read when the answer is sent, so one row serves every answer that shows it.
_ICON_ROWS: BoundedCache[html.Span] = BoundedCache(1024)
#: The elements of dash.html, by the names :func:`element` takes.
_HTML_TAGS = frozenset(name for name in dir(html) if isinstance(getattr(html, name), type)
                       and issubclass(getattr(html, name), dash.development.base_component.Component))


def frozen(component):
    """``component`` with its JSON worked out once. Dash sends a component as what its ``to_plotly_json`` gives
    (walking some forty possible properties of every element, each time); a component that is never changed
    again (one kept and shown in many answers) can give the same plain document every time."""
    document = json.loads(to_json(component))
    component.to_plotly_json = lambda: document
    return component


def element(tag: str, children=None, **props) -> dict:
    """An HTML element as the plain document Dash sends for ``html.<tag>(children, **props)`` (what its
    ``to_plotly_json`` gives): for the few elements an answer repeats many times (the rider's result list), where
    building a component object and walking its properties again to send it cost more than the answer's search.
    Props with the value None are left out, as the browser would ignore them."""
    if tag not in _HTML_TAGS:
        raise ValueError(f"no html element {tag!r}")
    body = {key: value for key, value in props.items() if value is not None}
    if children is not None:
        body["children"] = children
    return {"props": body, "type": tag, "namespace": "dash_html_components"}


def amenity_icons(keys, lang: str, cls: str = "amenity-icons") -> html.Span:
    """A row of amenity icons, each with its name as alt text and tooltip."""
    keys = tuple(keys)
    folder = dash.get_asset_url("icons/")  # per app: its own URL prefix
    return _ICON_ROWS.get_or_build((keys, lang, cls, folder), lambda: frozen(html.Span(
        [html.Img(src=f"{folder}{k}.svg", alt=t(f"amenity.{k}", lang), title=t(f"amenity.{k}", lang),
                  className="amenity-icon") for k in keys], className=cls)))


def amenity_chip(key: str, lang: str) -> dict:
    """One option of an amenity checklist: icon and name."""
    return {"label": html.Span([html.Img(src=dash.get_asset_url(f"icons/{key}.svg"), alt="", className="chip-icon"),
                                html.Span(t(f"amenity.{key}", lang))], className="chip-label"),
            "value": key}
