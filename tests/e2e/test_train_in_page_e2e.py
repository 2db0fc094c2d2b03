"""Create an embedding and train it from the tab inside the real webui page: the buttons are
enabled once the model has loaded, Create makes the embedding usable at once, and Train runs the
webui's trainer with the form's values and reports the checkpoints it saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import need
from tests.e2e.helpers import remove_embedding_files, remove_tree, training_folder, unique_name


def _markdown(root, elem: str):
    return root.locator(f"[data-testid=markdown]#{elem}")


def _number(root, elem: str, value) -> None:
    box = root.locator(f"#{elem} input[type=number]")
    box.fill(str(value))
    box.press("Tab")


@pytest.mark.browser
def test_create_then_train_in_the_page(client, webui_url, status, tmp_path):
    need(status, "create")
    need(status, "train")
    from playwright.sync_api import sync_playwright

    from tests.e2e.test_tab_e2e import CHROMIUM, CHROMIUM_ARGS

    name = unique_name("e2epage")
    dataset = training_folder(tmp_path / "dataset")
    log_dir = tmp_path / "log"
    emb_dir = None
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(webui_url, timeout=120_000)
            page.locator("#tabs > .tab-nav button", has_text="TI Helper").click()
            root = page.locator("#tab_textinv #textinv-root")
            sections = root.locator("#textinv-sections > .tab-nav")

            sections.locator("button", has_text="Embedding").click()
            root.locator("#textinv-emb-name textarea").fill(name)
            _number(root, "textinv-emb-vectors", 2)
            create = root.locator("#textinv-emb-create")
            create.click(timeout=30_000)  # enabled: the model is loaded by now
            result = _markdown(root, "textinv-emb-result")
            result.get_by_text(name).first.wait_for(timeout=60_000)
            loaded = client.get("/sdapi/v1/embeddings").json()["loaded"]
            assert loaded.get(name, {}).get("vectors") == 2, loaded.get(name)  # usable without a restart
            emb_dir = Path(client.get("/sdapi/v1/cmd-flags").json().get("embeddings_dir") or "")
            # the workflow bar carries the name to Train
            assert root.locator("#textinv-embedding-name textarea").input_value() == name

            sections.locator("button", has_text="Train").click()
            root.locator("#textinv-train-dataset textarea").fill(str(dataset))
            page.wait_for_function(
                "([sel, n]) => { const i = document.querySelector(sel); return i && i.value === n; }",
                arg=["#tab_textinv #textinv-train-embedding input", name],
                timeout=30_000,
            )
            for elem, value in (
                ("textinv-train-width", 64),
                ("textinv-train-height", 64),
                ("textinv-train-steps", 10),
                ("textinv-train-save-every", 5),
                ("textinv-train-image-every", 0),
            ):
                _number(root, elem, value)
            root.locator("#textinv-train-advanced").get_by_text("Advanced").click()
            root.locator("#textinv-train-log textarea").fill(str(log_dir))
            root.locator("#textinv-train-run").click(timeout=30_000)
            status_box = root.locator("#textinv-train-status")
            status_box.get_by_text("Training finished").wait_for(timeout=300_000)
            files = _markdown(root, "textinv-train-files").inner_text()
            assert f"{name}-5" in files and f"{name}-10" in files, files
            run_folder = root.locator("#textinv-run-folder textarea").input_value()
            assert Path(run_folder).parent.parent == log_dir, run_folder
            saved = sorted(p.name for p in (Path(run_folder) / "embeddings").glob("*.pt"))
            assert saved == [f"{name}-10.pt", f"{name}-5.pt"], saved
            assert root.locator("#textinv-train-plot svg").count() == 1
            assert not [e for e in errors if "textinv" in e.lower()], errors
        finally:
            browser.close()
            if emb_dir and emb_dir.is_dir():
                remove_embedding_files(emb_dir, name)
            remove_tree(log_dir)
