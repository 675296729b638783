"""The OpenAPI 3.1 document: generated from the endpoint table and schemas, it names every
API route, every reference in it resolves, and each endpoint's answer validates against the
schema the document gives for it (test_api.py checks the responses themselves)."""

from __future__ import annotations

import re

from grants.api.views import ENDPOINTS


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_document_names_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    routes = {re.sub(r"<int:(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"}
    assert set(document["paths"]) == routes
    for path, item in document["paths"].items():
        operation = item["get"]
        assert operation["security"] == [{"bearer": []}], path
        assert {"200", "401", "403", "404"} <= set(operation["responses"]), path
        declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), path


def test_every_reference_resolves(client):
    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    missing = {ref for ref in _refs(document) if ref.removeprefix("#/components/schemas/") not in components}
    assert missing == set()


def test_the_list_schemas_are_pages_of_their_rows(client):
    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    for endpoint in ENDPOINTS:
        ref = document["paths"][endpoint.path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        schema = components[ref["$ref"].rsplit("/", 1)[1]]
        if endpoint.is_list:
            assert schema["properties"]["data"]["items"]["$ref"].endswith("/" + endpoint.schema.__name__)
            assert {"page", "per_page", "total", "next"} <= set(schema["properties"])
        else:
            assert set(schema["properties"]) == set(endpoint.schema.model_fields)
