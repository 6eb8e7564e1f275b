"""The OpenAPI 3 document at /api/v1/openapi.json: valid, and describing every operation of the API."""
import re

import requests
from openapi_spec_validator import validate


def test_the_document_is_valid_openapi_and_public(live):
    response = requests.get(live.url + "/api/v1/openapi.json")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": live.url + "/api/v1"}]
    flows = document["components"]["securitySchemes"]["oauth2"]["flows"]["authorizationCode"]
    assert flows["tokenUrl"] == live.url + "/token" and "delegations" in flows["scopes"]


def test_every_operation_of_the_api_is_described(live, app):
    document = requests.get(live.url + "/api/v1/openapi.json").json()
    described = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("delegations_api.") or rule.endpoint == "delegations_api.openapi":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix("/api/v1")
        served |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == described


def test_every_operation_documents_its_problems_and_ids_are_unique(live):
    document = requests.get(live.url + "/api/v1/openapi.json").json()
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len({op["operationId"] for op in operations}) == len(operations)
    for operation in operations:
        for status in ("400", "401", "403"):
            content = operation["responses"][status]["content"]
            assert content == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
