"""How our error kinds become HTTP answers, in one table, for every route of ours (and only ours:
``GuardedRoute`` is the route class of our router, so the webui's own routes are untouched)."""

from __future__ import annotations

import errno
import logging
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from lib_textinv.kit.host import Unavailable
from lib_textinv.kit.jobs import Busy

logger = logging.getLogger(__name__)

# Most specific first: the first matching kind answers.
STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (Busy, 409),  # one training run / sweep / caption batch of a kind at a time
    (Unavailable, 503),  # the host cannot do it now (no model, Forge, --lowvram…): the reason says why
    (PermissionError, 403),
    (FileNotFoundError, 404),
    (NotADirectoryError, 400),
    (IsADirectoryError, 400),
    (OSError, 400),  # e.g. a path component longer than the file system allows
)


def json_safe(value: Any) -> Any:
    """Validation errors echo the input; NaN/Infinity there would make the 422 itself fail."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def status_for(e: BaseException) -> int | None:
    return next((code for kind, code in STATUS if isinstance(e, kind)), None)


def describe(e: BaseException) -> str:
    if isinstance(e, OSError) and e.errno == errno.ENAMETOOLONG:
        return f"{e.filename or 'path'}: a name in this path is longer than the file system allows"
    if isinstance(e, OSError) and e.filename:
        return f"{e.filename}: {e.strerror or e}"
    return str(e) or type(e).__name__


class GuardedRoute(APIRoute):
    """Answers our error kinds with their status and a message instead of a 500."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as e:
                return JSONResponse({"detail": json_safe(list(e.errors()))}, status_code=422)
            except Exception as e:
                code = status_for(e)
                if code is None:
                    raise
                logger.info("textinv %s %s: %s", request.method, request.url.path, e)
                return JSONResponse({"detail": describe(e)}, status_code=code)

        return guarded
