"""The OpenAPI 3.1 document of the JSON API, generated from the routes' own request and response models."""
from __future__ import annotations

from flask import current_app, jsonify

from api.auth import SECURITY_SCHEMES
from api.models import ErrorResponse, one_or_more
from api.spec import ApiBlueprint, openapi_document
from layers.services import services_of

TITLE = "Nuanxin Map API (暖新地图)"
VERSION = "1.0.0"
DESCRIPTION = ("Chengdu's warm stations (暖新驿站) for riders and their planners. Coordinates are WGS-84 in and "
               "out; times are Asia/Shanghai. Every error is JSON: {\"error\": {\"code\", \"field\", \"message\"}}. "
               "The bundled data is demonstration data.")

bp = ApiBlueprint("api_openapi", __name__)


def document(app) -> dict:
    doc = openapi_document(app, title=TITLE, version=VERSION, description=DESCRIPTION, error_model=ErrorResponse,
                           security_schemes=SECURITY_SCHEMES)
    _data_vocabulary(doc, app)
    return doc


def _data_vocabulary(doc: dict, app) -> None:
    """Values that come from the data, not from the code: the road classes a roads filter may name and
    the districts' adcodes, so the document states exactly what the routes accept."""
    services = services_of(app)
    highways = services.stations.highway_classes()
    adcodes = services.planning.adcodes()
    for operations in doc["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", ()):
                schema = parameter["schema"]
                if parameter["name"] == "highway" and highways:
                    schema["pattern"] = rf"^(?:,*{one_or_more(highways, ',+')},*)?$"
                elif parameter["name"] == "adcode":
                    options = schema.get("anyOf", [schema])
                    for option in options:
                        if option.get("type") == "integer":
                            option["enum"] = adcodes


@bp.operation("GET", "/api/openapi.json", summary="This document", errors=())
def openapi():
    return jsonify(document(current_app))
