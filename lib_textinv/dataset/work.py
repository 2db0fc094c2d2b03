"""Dataset's long action, defined once for the tab and ``POST /scan``: scanning a folder as a job
through ``kit.longwork`` (progress with an ETA; the tab's Stop and ``DELETE /jobs/{id}`` end the
same job, within one file per worker, and the report says it is incomplete)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lib_textinv.dataset.scan import ScanOptions, ScanReport, scan_folder
from lib_textinv.kit import longwork
from lib_textinv.kit.files import resolve_existing_dir
from lib_textinv.kit.folder_guard import checked_folder
from lib_textinv.kit.host import Host
from lib_textinv.kit.jobs import Job

SCAN_KEY = "dataset-scan"


def _title(folder: Path) -> str:
    return f"Scanning {folder}"


def checked_source(host: Host, folder: str) -> Path:
    """The folder to scan: absolute, allowed by the host (``Forbidden`` otherwise: a webui reachable
    from other machines reads only its allowed folders), existing; ValueError naming what is wrong."""
    return resolve_existing_dir(checked_folder(folder, host.file_access(), "image folder"))


def run_scan(host: Host, folder: str, opts: ScanOptions, bar: Callable | None = None) -> ScanReport:
    """Scan and wait (the tab); ValueError/Forbidden at once when the folder is unusable."""
    root = checked_source(host, folder)
    return longwork.run(host, SCAN_KEY, _title(root), lambda p: scan_folder(root, opts, p), bar)


def start_scan(host: Host, folder: str, opts: ScanOptions) -> Job:
    """Start a scan (the API); the job's result is the report as JSON."""
    root = checked_source(host, folder)
    return longwork.start(host, SCAN_KEY, _title(root), lambda p: scan_folder(root, opts, p).to_dict())
