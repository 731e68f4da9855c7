"""Geometry clean-up shared by the build and the app."""
from __future__ import annotations

import shapely


def polygonal(geom):
    """``geom`` made valid, keeping only its polygonal part (make_valid may add stray lines)."""
    geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts)
