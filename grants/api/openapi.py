"""The OpenAPI 3.1 document, generated from the endpoint table (views.ENDPOINTS) and the
pydantic schemas: nothing here is kept by hand but the words of the introduction."""

from __future__ import annotations

from functools import lru_cache

from flask import url_for

from grants.api import schemas, services
from grants.api.views import ENDPOINTS, MAX_PER_PAGE

REF = "#/components/schemas/{model}"


def _schema_of(model) -> tuple[dict, dict]:
    """(the model's JSON Schema with references, the schemas it refers to)."""
    schema = model.model_json_schema(ref_template=REF)
    definitions = schema.pop("$defs", {})
    return schema, definitions


def _parameters(endpoint) -> list[dict]:
    parameters = [{"name": name[1:-1], "in": "path", "required": True, "schema": {"type": "integer"}}
                  for name in endpoint.path.split("/") if name.startswith("{")]
    for name, description in endpoint.filters.items():
        kind = {"type": "integer"} if name.endswith("_id") else {"type": "string"}
        parameters.append({"name": name, "in": "query", "required": False, "description": description,
                           "schema": kind})
    if endpoint.is_list:
        parameters += [
            {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
            {"name": "per_page", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50}}]
    return parameters


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": REF.format(
        model="Error")}}}}


@lru_cache(maxsize=1)
def _paths_and_components() -> tuple[dict, dict]:
    components: dict[str, dict] = {}
    paths: dict[str, dict] = {}
    error, definitions = _schema_of(schemas.Error)
    components.update(definitions)
    components["Error"] = error
    for endpoint in ENDPOINTS:
        model = schemas.Page[endpoint.schema] if endpoint.is_list else endpoint.schema
        schema, definitions = _schema_of(model)
        components.update(definitions)
        name = model.__name__.replace("[", "_").replace("]", "").replace("grants.api.schemas.", "")
        components[name] = schema
        paths[endpoint.path] = {"get": {
            "summary": endpoint.summary,
            "operationId": endpoint.path.strip("/").replace("/", "_").replace("{", "").replace("}", "") or "root",
            "security": [{"bearer": []}],
            "description": f"Needs a token with the “{endpoint.scope}” scope.",
            "parameters": _parameters(endpoint),
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {
                    "$ref": REF.format(model=name)}}}},
                "400": _error("A query parameter out of range"),
                "401": _error("No token, or one that is not valid, expired or revoked"),
                "403": _error("The token's scopes do not cover this"),
                "404": _error("Nothing with that id that the token's user may see"),
                "429": {"description": "Too many requests from this token"},
            }}}
    return paths, components


def document() -> dict:
    paths, components = _paths_and_components()
    scopes = "; ".join(f"{scope}: {text}" for scope, text in services.SCOPES.items())
    return {
        "openapi": "3.1.0",
        "info": {"title": "Partnership Grants API", "version": "1",
                 "description": "Read-only figures for funders' reporting tools. Make a personal token on your "
                                "account page and send it as `Authorization: Bearer <token>`. A token sees no "
                                "more than its user does on the site. Money is in integer cents. Scopes: "
                                + scopes + "."},
        "servers": [{"url": url_for("api.calls", _external=True).rsplit("/calls", 1)[0]}],
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
