"""HTTP routes under ``/textinv/v1``: status and jobs here, each step's own in ``<step>/routes.py``.

The webui protects its ``/sdapi`` routes with HTTP basic auth when ``--api-auth`` is set
(modules/api/api.py:274-277, ``auth`` at :298-304); routes added straight onto the app are not
covered, so ``mount`` applies the same check to every route of ours.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from lib_textinv.autopilot import routes as autopilot_routes
from lib_textinv.captions import routes as captions_routes
from lib_textinv.compare import routes as compare_routes
from lib_textinv.crop import routes as crop_routes
from lib_textinv.dataset import routes as dataset_routes
from lib_textinv.embedding import routes as embedding_routes
from lib_textinv.kit.host import FEATURES, Host
from lib_textinv.kit.http_errors import GuardedRoute
from lib_textinv.kit.ids import API_PREFIX
from lib_textinv.kit.jobs import JOBS
from lib_textinv.scores import routes as scores_routes
from lib_textinv.train import routes as train_routes

logger = logging.getLogger(__name__)
MAX_WAIT_SECONDS = 60  # one long poll of GET /jobs/{id}?wait=

# Each step's ``add_routes(router, host)``, in the workflow's order.
STEP_ROUTES = (
    autopilot_routes.add_routes,
    dataset_routes.add_routes,
    crop_routes.add_routes,
    captions_routes.add_routes,
    embedding_routes.add_routes,
    train_routes.add_routes,
    compare_routes.add_routes,
    scores_routes.add_routes,
)


def parse_api_auth(value: str | None) -> dict[str, str]:
    """``user:pass,user2:pass2`` as the webui parses ``--api-auth`` (modules/api/api.py:262-265)."""
    creds: dict[str, str] = {}
    for item in (value or "").split(","):
        if ":" in item:
            user, password = item.split(":", 1)
            creds[user.strip()] = password
    return creds


def basic_auth(credentials: dict[str, str]):
    """A FastAPI dependency equal to the webui's ``Api.auth``."""
    security = HTTPBasic()

    def check(given: HTTPBasicCredentials = Depends(security)) -> bool:
        expected = credentials.get(given.username)
        if expected is not None and secrets.compare_digest(given.password, expected):
            return True
        raise HTTPException(
            status_code=401, detail="Incorrect username or password", headers={"WWW-Authenticate": "Basic"}
        )

    return check


def build_router(host: Host):
    router = APIRouter(route_class=GuardedRoute)

    @router.get("/status")
    def status() -> dict:
        facts = host.model_facts()
        return {
            "host": host.kind,
            "model": facts.__dict__,
            "features": {
                name: dict(zip(("available", "reason"), host.feature(name), strict=True)) for name in FEATURES
            },
            "file_access": asdict(host.file_access()),
        }

    @router.get("/jobs/{job_id}")
    def job(job_id: str, wait: float = Query(0, ge=0, le=MAX_WAIT_SECONDS)) -> dict:
        """With ``wait``, answer when the job ends or after that many seconds (long polling)."""
        j = JOBS.get(job_id)
        if j is None:
            raise HTTPException(status_code=404, detail=f"no job {job_id}")
        if wait:
            j.ended.wait(wait)
        return j.to_dict()

    @router.delete("/jobs/{job_id}")
    def interrupt(job_id: str) -> dict:
        j = JOBS.get(job_id)
        if j is None:
            raise HTTPException(status_code=404, detail=f"no job {job_id}")
        if j.active:
            j.progress.cancel()
            host.interrupt()
        return j.to_dict()

    for add_routes in STEP_ROUTES:
        add_routes(router, host)
    return router


def mount(app, host: Host, api_auth: str | None = None) -> None:
    """Add every route to ``app`` under ``/textinv/v1``, behind basic auth when configured."""
    creds = parse_api_auth(api_auth)
    deps = [Depends(basic_auth(creds))] if creds else []
    app.include_router(build_router(host), prefix=API_PREFIX, dependencies=deps)
