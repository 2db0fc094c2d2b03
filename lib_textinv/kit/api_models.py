"""Request models that mean the same under pydantic 1 (webui 1.10.1) and pydantic 2 (Forge, newer
stacks): one base that refuses unknown fields, ``Field`` with a ``pattern`` under either name,
finite numbers only, a field validator and ``as_dict``. Routes import these, never ``pydantic``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import pydantic

PYDANTIC_2 = int(pydantic.VERSION.split(".")[0]) >= 2
# The other major version's names, unknown to the type checker's installed pydantic.
_pd: Any = pydantic


def Field(default: Any = ..., *, pattern: str | None = None, **kw: Any) -> Any:
    """``pydantic.Field`` with the regex keyword both versions understand."""
    if pattern is not None:
        kw["pattern" if PYDANTIC_2 else "regex"] = pattern
    if "default_factory" in kw:  # pydantic refuses a default beside a factory
        return pydantic.Field(**kw)
    return pydantic.Field(default, **kw)


def _finite(value: Any) -> Any:
    """Refuse NaN and ±Infinity anywhere in a number field (JSON has neither, but Python's json does)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


if PYDANTIC_2:

    class Model(pydantic.BaseModel):
        """Unknown fields are refused (a misspelled "widht" is a 422, not silently ignored)."""

        model_config = _pd.ConfigDict(extra="forbid", allow_inf_nan=False)

        def as_dict(self) -> dict[str, Any]:
            return cast(Any, self).model_dump()

    def field_check(*fields: str) -> Callable[[Callable[..., Any]], Any]:
        """A per-field check ``fn(cls, value) -> value`` (raise ``ValueError`` to refuse)."""
        return lambda fn: _pd.field_validator(*fields)(classmethod(fn))

else:

    class Model(pydantic.BaseModel):  # type: ignore[no-redef]  # one of two definitions
        """Unknown fields are refused (a misspelled "widht" is a 422, not silently ignored)."""

        class Config:
            extra = "forbid"

        @pydantic.validator("*", pre=False, allow_reuse=True)
        def _no_nan(cls, value: Any) -> Any:
            if isinstance(value, (list, tuple)):
                for v in value:
                    _finite(v)
                return value
            return _finite(value)

        def as_dict(self) -> dict[str, Any]:
            return self.dict()

    def field_check(*fields: str) -> Callable[[Callable[..., Any]], Any]:
        """A per-field check ``fn(cls, value) -> value`` (raise ``ValueError`` to refuse)."""
        return pydantic.validator(*fields, allow_reuse=True)
