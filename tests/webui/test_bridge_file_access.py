"""The webui's "reachable from other machines" rule, read through the bridge (contract §23)."""

from __future__ import annotations

import pytest

from lib_textinv.kit.folder_guard import Forbidden, checked_folder


def test_a_local_webui_allows_any_folder(host):
    access = host.file_access()
    assert access.restricted is False
    assert str(checked_folder("/etc", access)) == "/etc"


def test_listen_limits_folders_to_the_data_dir_and_the_setting(webui, host, tmp_path):
    cmd = webui.shared.cmd_opts
    cmd.listen, cmd.webui_is_non_local, cmd.disable_extension_access = True, True, True
    extra = tmp_path / "datasets"
    webui.shared.opts.data["textinv_allowed_folders"] = f"{extra}\n"
    access = host.file_access()
    assert access.restricted and "--listen" in access.why
    own = host.paths()
    assert set(access.roots) == {str(webui.paths.data_path), own.embeddings_dir, own.ti_log_dir, str(extra)}
    assert access.why == "the webui runs with --listen and without --enable-insecure-extension-access"
    assert checked_folder(str(extra / "cats"), access) == (extra / "cats").resolve()
    with pytest.raises(Forbidden, match="--listen"):
        checked_folder("/etc", access)


def test_insecure_access_flag_lifts_the_limit(webui, host):
    cmd = webui.shared.cmd_opts
    cmd.listen, cmd.webui_is_non_local = True, True
    cmd.enable_insecure_extension_access, cmd.disable_extension_access = True, False
    assert host.file_access().restricted is False
