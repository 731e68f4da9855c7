"""API routes that describe themselves: each route is registered with its request and response models,
and the OpenAPI document is generated from those registrations (no hand-written parameter lists)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import Blueprint, Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"
_ERROR_TEXT = {400: "a parameter, the body or some of its rows are invalid", 404: "not found",
               405: "method not allowed", 413: "the body is too large",
               401: "no valid credentials: sign in (session cookie) or send Authorization: Bearer <token>",
               403: "outside the account's area or role, or a cookie request without its CSRF token",
               412: "If-Match names a version that is no longer current: the error carries the current values",
               428: "the route changes a versioned row: send If-Match with the version you loaded",
               415: "the Content-Type is not one the route reads",
               409: "the rider code's balance is too small for this (insufficient_points, with the balance)",
               429: "too many reports from this rider code or address: wait Retry-After seconds",
               422: "valid, but beyond what one request may cost (limit_exceeded: the error names the limit and "
                    "the amount asked)"}


@dataclass
class Operation:
    """One method on one route, as the document describes it."""

    method: str
    rule: str
    summary: str
    query: type[BaseModel] | None = None
    path: type[BaseModel] | None = None
    body: dict[str, type[BaseModel] | dict] = field(default_factory=dict)   # media type -> model or raw schema
    body_description: str = ""
    response: type[BaseModel] | None = None
    response_type: str = "application/json"
    response_description: str = "OK"
    errors: tuple[int, ...] = (400,)
    #: who may call it: () for anyone; else the security schemes that authenticate it
    security: tuple[str, ...] = ()
    header: type[BaseModel] | None = None
    status: int = 200
    #: the shape of this route's errors when it is not the API's own (Open311 answers a list of errors)
    error_model: type[BaseModel] | None = None

    @property
    def path_template(self) -> str:
        """The Flask rule as an OpenAPI path: ``/stations/<station_id>`` → ``/stations/{station_id}``."""
        return re.sub(r"<(?:[a-z]+:)?([A-Za-z_]\w*)>", r"{\1}", self.rule)


class ApiBlueprint(Blueprint):
    """A Flask blueprint whose routes carry their OpenAPI description."""

    def __init__(self, name: str, import_name: str, **kwargs):
        super().__init__(name, import_name, **kwargs)
        self.operations: list[Operation] = []

    def operation(self, method: str, rule: str, **description):
        """Register a view for ``method rule`` and describe it (see :class:`Operation` for the fields)."""
        def decorator(view):
            self.add_url_rule(rule, view.__name__, view, methods=[method])
            self.operations.append(Operation(method.upper(), rule, **description))
            return view
        return decorator


def _models(operations: list[Operation], error_model: type[BaseModel]) -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {error_model.__name__: error_model}
    for op in operations:
        for model in (op.query, op.path, op.header, op.response, op.error_model, *op.body.values()):
            if isinstance(model, type) and issubclass(model, BaseModel):
                found[model.__name__] = model
    return list(found.values())


def _parameters(model: type[BaseModel], where: str, schemas: dict) -> list[dict]:
    schema = schemas[model.__name__]
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", "")
        prop.pop("title", None)
        out.append({"name": name, "in": where, "required": where == "path" or name in required,
                    "description": description, "schema": prop})
    return out


def _ref(model) -> dict:
    return {"$ref": REF.format(model=model.__name__)} if isinstance(model, type) else model


def openapi_document(app: Flask, *, title: str, version: str, description: str,
                     error_model: type[BaseModel], security_schemes: dict | None = None) -> dict:
    """The OpenAPI 3.1 document of every :class:`ApiBlueprint` registered on ``app``."""
    operations = [op for bp in app.blueprints.values() if isinstance(bp, ApiBlueprint) for op in bp.operations]
    models = _models(operations, error_model)
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    schemas = dict(top.get("$defs", {}))
    error_content = {"application/json": {"schema": _ref(error_model)}}
    paths: dict[str, dict] = {}
    for op in operations:
        entry: dict = {"summary": op.summary, "operationId": f"{op.method.lower()}_{op.path_template}"
                       .replace("/", "_").replace("{", "").replace("}", "").replace(".", "_").strip("_")}
        parameters = []
        if op.path is not None:
            parameters += _parameters(op.path, "path", schemas)
        if op.query is not None:
            parameters += _parameters(op.query, "query", schemas)
        if op.header is not None:
            parameters += [{**p, "name": p["name"].replace("_", "-").title()}
                           for p in _parameters(op.header, "header", schemas)]
        if parameters:
            entry["parameters"] = parameters
        if op.body:
            entry["requestBody"] = {"required": True, "description": op.body_description,
                                    "content": {media: {"schema": _ref(model)} for media, model in op.body.items()}}
        ok = {"description": op.response_description}
        ok["content"] = {op.response_type: {"schema": _ref(op.response)} if op.response else {}}
        errors = error_content if op.error_model is None else \
            {"application/json": {"schema": _ref(op.error_model)}}
        entry["responses"] = {str(op.status): ok, **{str(code): {"description": _ERROR_TEXT.get(code, "error"),
                                                                 "content": errors} for code in op.errors}}
        if op.security:
            entry["security"] = [{name: []} for name in op.security]
        paths.setdefault(op.path_template, {})[op.method.lower()] = entry
    components: dict = {"schemas": schemas}
    if security_schemes:
        components["securitySchemes"] = security_schemes
    return {"openapi": "3.1.0",
            "info": {"title": title, "version": version, "description": description},
            "paths": paths,
            "components": components}
