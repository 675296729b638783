"""The read-only JSON API for funders' tools (Power BI, R, Excel): /api/v1/, personal tokens,
an OpenAPI 3.1 document generated from the schemas in schemas.py."""
