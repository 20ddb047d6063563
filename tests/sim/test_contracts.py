"""Every contract in schemas/channels/ is OpenAPI 3.1 and true of the running simulators.

Generic over the files found: `<service>.openapi.yaml` is checked against the
simulated service of that name, in both data centres. Each documented
operation is probed with the examples the contract gives (and `{}` as a
request body, which no service accepts, so probes change nothing); the answer
must come from a real route, with a documented status, the X-Data-Centre
header, and a JSON body that matches the documented schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import defusedxml.ElementTree as DefusedET
import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped, unused-ignore]
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.support.processes import Simulators

CONTRACTS = sorted((Path(__file__).parents[2] / "schemas" / "channels").glob("*.openapi.yaml"))
METHODS = ("get", "put", "post", "delete", "patch")
BASE = "urn:contract"


def service_of(contract: Path) -> str:
    return contract.name.split(".")[0]


def load(contract: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(contract.read_text("utf-8"))
    return document


def pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#").removeprefix("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], list[dict[str, Any]]]]:
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                operation = item[method]
                params = [
                    resolve(document, p["$ref"]) if "$ref" in p else p
                    for p in [*shared, *operation.get("parameters", [])]
                ]
                yield path, method, operation, params


def example(document: dict[str, Any], param: dict[str, Any]) -> str | None:
    if "example" in param:
        return str(param["example"])
    if param.get("examples"):
        return str(next(iter(param["examples"].values()))["value"])
    schema = param.get("schema", {})
    if "$ref" in schema:
        schema = resolve(document, schema["$ref"])
    found = schema.get("examples")
    return str(found[0]) if found else None


def test_contracts_exist() -> None:
    assert CONTRACTS, "no schemas/channels/*.openapi.yaml found"


@pytest.mark.parametrize("contract", CONTRACTS, ids=service_of)
def test_contract_is_openapi_3_1_with_resolvable_refs(contract: Path, simulators: Simulators) -> None:
    document = load(contract)
    assert str(document["openapi"]).startswith("3.1."), f"{contract.name}: not OpenAPI 3.1.x"
    assert document["info"]["title"], f"{contract.name}: info.title missing"
    assert document["info"]["version"], f"{contract.name}: info.version missing"
    assert service_of(contract) in simulators.topology["services"], f"{contract.name}: no such service"
    for ref in refs(document):
        assert ref.startswith("#/"), f"{contract.name}: external $ref {ref}"
        resolve(document, ref)
    operation_ids = [op["operationId"] for _, _, op, _ in operations(document)]
    assert len(operation_ids) == len(set(operation_ids)), f"{contract.name}: duplicate operationId"
    for path, method, operation, _ in operations(document):
        assert operation.get("responses"), f"{contract.name}: {method} {path} documents no response"


@pytest.mark.parametrize("dc", ["dc-a", "dc-b"])
@pytest.mark.parametrize("contract", CONTRACTS, ids=service_of)
def test_every_documented_operation_answers_as_documented(
    contract: Path, dc: str, simulators: Simulators, service_token: str
) -> None:
    document = load(contract)
    base = simulators.url(service_of(contract), dc)
    validator_registry = Registry().with_resource(BASE, DRAFT202012.create_resource(document))
    with httpx.Client(base_url=base, timeout=5, headers={"Authorization": f"Bearer {service_token}"}) as http:
        for path, method, operation, params in operations(document):
            where = f"{contract.name}: {method.upper()} {path} on {dc}"
            response = probe(http, document, path, method, operation, params)
            assert not route_missing(response), f"{where}: no such route on the simulator"
            status = str(response.status_code)
            documented = operation["responses"]
            assert status in documented or "default" in documented, f"{where}: undocumented status {status}"
            assert response.headers.get("X-Data-Centre") == dc, f"{where}: no X-Data-Centre header"
            location = pointer(
                "paths", path, method, "responses", status if status in documented else "default"
            )
            check_response(document, location, response, validator_registry, where)


def probe(
    http: httpx.Client,
    document: dict[str, Any],
    path: str,
    method: str,
    operation: dict[str, Any],
    params: list[dict[str, Any]],
) -> httpx.Response:
    url = path
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    for param in params:
        value = example(document, param)
        if param["in"] == "path":
            url = url.replace("{" + param["name"] + "}", quote(value or "probe", safe=""))
        elif value is not None and param.get("required"):
            target = query if param["in"] == "query" else headers
            target[param["name"]] = value
    body: dict[str, Any] | None = {} if "requestBody" in operation else None
    return http.request(method.upper(), url, params=query, headers=headers, json=body)


def route_missing(response: httpx.Response) -> bool:
    """aiohttp's own 404/405 for an unknown route is plain text, unlike any service error."""
    plain = response.headers.get("Content-Type", "").startswith("text/plain")
    return response.status_code in (404, 405) and plain


def check_response(
    document: dict[str, Any], location: str, response: httpx.Response, registry: Registry, where: str
) -> None:
    declared = resolve(document, location)
    if "$ref" in declared:
        location = declared["$ref"].removeprefix("#")
        declared = resolve(document, declared["$ref"])
    assert "X-Data-Centre" in declared.get("headers", {}), f"{where}: X-Data-Centre header not documented"
    content = declared.get("content", {})
    media = response.headers.get("Content-Type", "").split(";")[0].strip()
    if not content:
        return
    assert media in content, f"{where}: answered {media}, documented {sorted(content)}"
    if media != "application/json":
        return
    schema = {"$ref": BASE + "#" + location + pointer("content", media, "schema")}
    errors = sorted(Draft202012Validator(schema, registry=registry).iter_errors(response.json()), key=str)
    assert not errors, (
        f"{where}: body does not match the contract: {errors[0].message} at {list(errors[0].path)}"
    )


XML_CONTRACTS = Path(__file__).parents[2] / "schemas" / "channels"


def test_xml_gateway_reference_documents_every_txn_code_and_ret_code() -> None:
    """core_banking.md is the message reference of the XML contract: nothing in one is missing in the other."""
    document = load(XML_CONTRACTS / "core_banking.openapi.yaml")
    reference = (XML_CONTRACTS / "core_banking.md").read_text("utf-8")
    schemas = document["components"]["schemas"]
    txn_codes = schemas["RequestHeader"]["properties"]["TxnCode"]["enum"]
    ret_codes = schemas["ResponseHeader"]["properties"]["RetCode"]["enum"]
    for txn_code in txn_codes:
        assert f"\n## {txn_code}: " in reference, f"core_banking.md has no section for {txn_code}"
    for ret_code in ret_codes:
        assert f"\n| `{ret_code}` |" in reference, f"core_banking.md's RetCode table lacks {ret_code}"


def test_xml_gateway_answers_documented_ret_codes_in_both_data_centres(simulators: Simulators) -> None:
    document = load(XML_CONTRACTS / "core_banking.openapi.yaml")
    documented = set(document["components"]["schemas"]["ResponseHeader"]["properties"]["RetCode"]["enum"])
    request = (
        "<Request><Header><TxnCode>ACCT_LIST</TxnCode><MemberBank>RCB001</MemberBank>"
        "<CustomerId>RCB001-00042</CustomerId></Header></Request>"
    )
    for dc in ("dc-a", "dc-b"):
        for payload in (request, "<Request/>", request.replace("ACCT_LIST", "NOPE")):
            response = httpx.post(
                simulators.url("core_banking", dc) + "/corebanking/gateway", content=payload
            )
            assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
            root = DefusedET.fromstring(response.content)
            assert root.tag == "Response"
            assert root.findtext("Header/RetCode") in documented
