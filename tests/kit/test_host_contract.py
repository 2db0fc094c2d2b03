"""Every host implements the host contract (``lib_textinv.kit.host``) method by method: each method
of each role Protocol in ``ROLES`` exists on ``WebuiHost`` (over the contract double),
``StandaloneHost`` and ``BaseHost`` with the same parameter names, kinds and defaults; and
``WebuiHost`` defines each of them itself, so none falls back to ``BaseHost``'s "unavailable"
answer unnoticed. Types are the type checker's part (mypy over lib_textinv)."""

from __future__ import annotations

import inspect

import pytest

from lib_textinv.kit.host import ROLES, BaseHost, StandaloneHost

CONTRACT = [
    (role, name, member)
    for role in ROLES
    for name, member in vars(role).items()
    if not name.startswith("_") and inspect.isfunction(member)
]
ATTRIBUTES = [(role, name) for role in ROLES for name in vars(role).get("__annotations__", {})]
IDS = [f"{role.__name__}.{name}" for role, name, _ in CONTRACT]


def _shape(fn) -> list[tuple[str, str, object]]:
    """(name, kind, default) of each parameter: what a caller of the contract relies on."""
    return [(p.name, p.kind.name, p.default) for p in inspect.signature(fn).parameters.values()]


def mismatch(cls: type, role: type, name: str, declared) -> str | None:
    """Why ``cls`` does not implement ``role.name`` as declared, or None."""
    method = getattr(cls, name, None)
    if not callable(method):
        return f"{cls.__name__} lacks {role.__name__}.{name}"
    if _shape(method) != _shape(declared):
        return f"{cls.__name__}.{name}{inspect.signature(method)} is not {name}{inspect.signature(declared)}"
    return None


@pytest.fixture(params=["webui", "standalone", "base"])
def implementation(request) -> object:
    """An instance of each host: the webui bridge's over the contract double, and the two in kit."""
    if request.param == "webui":
        return request.getfixturevalue("host")
    return StandaloneHost() if request.param == "standalone" else BaseHost()


def test_every_role_declares_methods():
    assert {role for role, _name, _fn in CONTRACT} == set(ROLES)
    assert {"paths", "run_job", "create_embedding", "register_checkpoint", "train", "generate",
            "loss_host", "captioner", "upscale"} <= {name for _role, name, _fn in CONTRACT}  # fmt: skip


@pytest.mark.parametrize(("role", "name", "declared"), CONTRACT, ids=IDS)
def test_each_method_has_the_contracts_signature(implementation, role, name, declared):
    assert mismatch(type(implementation), role, name, declared) is None


@pytest.mark.parametrize(("role", "name"), ATTRIBUTES, ids=[f"{r.__name__}.{n}" for r, n in ATTRIBUTES])
def test_each_attribute_is_there(implementation, role, name):
    assert isinstance(getattr(implementation, name, None), str)


@pytest.mark.parametrize(("role", "name", "declared"), CONTRACT, ids=IDS)
def test_the_webui_host_defines_every_method_itself(host, role, name, declared):
    assert name in vars(type(host)), f"WebuiHost inherits {role.__name__}.{name} from BaseHost"


def test_a_missing_or_renamed_method_is_seen():
    """The check can fail: a host without ``upscale`` and one whose ``setting`` renames a parameter."""

    class Broken(BaseHost):
        upscale = None

        def setting(self, name, default=None):
            return default

    found = {name: mismatch(Broken, role, name, fn) for role, name, fn in CONTRACT}
    assert found["upscale"] == "Broken lacks Upscaling.upscale"
    assert found["setting"] is not None and "setting(self, name, default=None)" in found["setting"]
    assert [n for n, why in found.items() if why] == ["setting", "upscale"]
