"""The OpenAPI 3.1 document of the JSON API, generated from the routes' own request and response models."""
from __future__ import annotations

from flask import current_app, jsonify

from api.models import ErrorResponse
from api.spec import ApiBlueprint, openapi_document

TITLE = "Nuanxin Map API (暖新地图)"
VERSION = "1.0.0"
DESCRIPTION = ("Chengdu's warm stations (暖新驿站) for riders and their planners. Coordinates are WGS-84 in and "
               "out; times are Asia/Shanghai. Every error is JSON: {\"error\": {\"code\", \"field\", \"message\"}}. "
               "The bundled data is demonstration data.")

bp = ApiBlueprint("api_openapi", __name__)


def document(app) -> dict:
    return openapi_document(app, title=TITLE, version=VERSION, description=DESCRIPTION, error_model=ErrorResponse)


@bp.operation("GET", "/api/openapi.json", summary="This document", errors=())
def openapi():
    return jsonify(document(current_app))
