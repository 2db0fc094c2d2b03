"""No request can produce a 500: generated bodies and queries for every route of ours, taken from
the router's own OpenAPI description, with the values users and scripts get wrong (missing and
relative folders, names longer than the file system allows, NaN and Infinity, wrong types,
misspelled fields). Every answer must be a 2xx, or a 4xx (503 when the host lacks the feature)
with a message.

Folders are confined to a temporary root: the host is "restricted" there (as a webui reachable
from other machines is), so nothing generated can make a route write anywhere else.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib_textinv.kit.folder_guard import FileAccess
from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.ids import API_PREFIX
from lib_textinv.kit.jobs import JOBS
from tests.api_client import api_client
from tests.photos import write_photos

JOB_BOUND = 60.0


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    r = tmp_path_factory.mktemp("fuzz-root")
    write_photos(r / "photos")
    (r / "empty").mkdir()
    (r / "file.txt").write_text("not a folder")
    return r


@pytest.fixture(scope="module")
def client(root):
    host = StandaloneHost(access=FileAccess(restricted=True, roots=(str(root),), why="the test says so"))
    return api_client(host)


def path_values(root: Path) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [
            str(root / "photos"),
            str(root / "empty"),
            str(root / "file.txt"),
            str(root / "missing"),
            str(root / ("x" * 300)),  # one component longer than NAME_MAX
            str(root / "out" / "new"),
            "photos",  # relative
            "",
            "/etc",  # outside the root
            str(root / "a\x00b"),
            "~/x",
        ]
    )


def scalar_values(root: Path) -> st.SearchStrategy[Any]:
    return st.one_of(
        path_values(root),
        st.text(max_size=12),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from([1, 8, 64, 512, 768]),
        st.sampled_from([0.0, -1.5, 1e308, math.nan, math.inf, -math.inf]),
        st.booleans(),
        st.none(),
    )


def json_values(root: Path) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalar_values(root),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
        max_leaves=6,
    )


def operations(client) -> list[tuple[str, str, dict]]:
    spec = client.app.openapi()
    return [
        (method.upper(), path, op)
        for path, ops in spec["paths"].items()
        if path.startswith(API_PREFIX)
        for method, op in ops.items()
    ]


PATHLIKE = ("folder", "dir", "path", "source", "dest", "dataset", "run", "sweep", "grid", "file", "log")


def resolve(schema: dict, components: dict) -> dict:
    if "$ref" in schema:
        return resolve(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("allOf", "anyOf"):
        if key in schema:
            options = [resolve(o, components) for o in schema[key] if o.get("type") != "null"]
            return options[0] if options else {}
    return schema


def typed(name: str, schema: dict, components: dict, root: Path) -> st.SearchStrategy[Any]:
    """A value of the field's own type, inside its bounds: the requests that reach the handler."""
    schema = resolve(schema, components)
    kind = schema.get("type")
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if kind == "string":
        if any(w in name.lower() for w in PATHLIKE):
            return path_values(root)
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 20), 20))
    if kind == "integer":
        lo, hi = schema.get("minimum", -5), schema.get("maximum", 5000)
        return st.integers(min_value=int(lo), max_value=int(min(hi, lo + 5000)))
    if kind == "number":
        return st.floats(min_value=schema.get("minimum", -10.0), max_value=schema.get("maximum", 10.0))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(typed(name, schema.get("items", {}), components, root), max_size=3)
    if kind == "object":
        props = schema.get("properties")
        if props:
            return st.fixed_dictionaries({k: typed(k, v, components, root) for k, v in props.items()})
        extra = schema.get("additionalProperties")
        inner = typed(name, extra, components, root) if isinstance(extra, dict) else scalar_values(root)
        return st.dictionaries(path_values(root).map(lambda p: Path(p).name or "x"), inner, max_size=2)
    return json_values(root)


def body_strategy(client, op: dict, root: Path) -> st.SearchStrategy[dict] | None:
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if not schema:
        return None
    components = client.app.openapi()["components"]["schemas"]
    model = resolve(schema, components)
    fields = {
        k: st.one_of(typed(k, v, components, root), typed(k, v, components, root), json_values(root))
        for k, v in model.get("properties", {}).items()
    }
    required = set(model.get("required", []))
    body = st.fixed_dictionaries(
        {k: v for k, v in fields.items() if k in required},
        optional={k: v for k, v in fields.items() if k not in required},
    )
    typo = st.fixed_dictionaries({}, optional={"widht": st.integers(0, 9)})
    return st.tuples(body, typo).map(lambda bt: {**bt[0], **bt[1]})


def wait_for_jobs() -> None:
    """Jobs a request started must end (with any outcome) before the next example."""
    for job_id in list(JOBS._jobs):
        job = JOBS.get(job_id)
        if job is not None:
            job.progress.cancel()
            assert job.ended.wait(JOB_BOUND), f"job {job.title} did not end"


OPERATIONS = [(m, p) for m, p, _op in operations(api_client(StandaloneHost()))]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_request_is_answered_500(client, root, method, path, data):
    op = next(o for m, p, o in operations(client) if (m, p) == (method, path))
    params, url = {}, path
    for p in op.get("parameters", []):
        value = data.draw(scalar_values(root), label=p["name"])
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", quote(str(value), safe="") or "x")
        elif value is not None:
            params[p["name"]] = value if not isinstance(value, float) else repr(value)
    strategy = body_strategy(client, op, root)
    body = None if strategy is None else data.draw(strategy, label="body")
    try:
        r = client.request(
            method,
            url,
            params=params,
            content=None if body is None else _json(body),
            headers={"content-type": "application/json"},
        )
    finally:
        wait_for_jobs()
    # 503 is the one 5xx we send: the host cannot do this at all (standalone, no model…), said why.
    assert r.status_code < 500 or r.status_code == 503, (
        f"{method} {url} {params} {body!r} -> {r.status_code} {r.text[:500]}"
    )
    if r.status_code >= 400:
        assert r.json().get("detail"), f"{method} {url}: a refusal must say why"


def _json(body: dict) -> bytes:
    """Python's json writes NaN/Infinity, as careless clients do; the routes must refuse them."""
    import json

    return json.dumps(body, allow_nan=True).encode()
