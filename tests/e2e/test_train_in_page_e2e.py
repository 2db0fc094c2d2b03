"""Create an embedding and train it from the tab inside the real webui page: the buttons are
enabled once the model has loaded, Create makes the embedding usable at once, and Train runs our
trainer (the default) with the form's values, reports the checkpoints it saved and plots the
fixed-batch loss beside the per-step loss."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import need
from tests.e2e.helpers import remove_embedding_files, remove_tree, training_folder, unique_name
from tests.e2e.page import tab_in_webui


@pytest.mark.browser
def test_create_then_train_in_the_page(client, webui_url, status, tmp_path):
    need(status, "create")
    need(status, "train")
    name = unique_name("e2epage")
    dataset = training_folder(tmp_path / "dataset")
    log_dir = tmp_path / "log"
    emb_dir = Path(client.get("/sdapi/v1/cmd-flags").json()["embeddings_dir"])
    try:
        with tab_in_webui(webui_url) as tab:
            root = tab.root
            tab.textbox("textinv-prepared-folder").fill(str(dataset))
            tab.section("Embedding")
            tab.number("textinv-emb-vectors", 7)
            root.locator("#textinv-emb-recommend").click()
            advice = tab.html("textinv-emb-recommendation")
            advice.get_by_text("4 usable images").first.wait_for(timeout=120_000)  # explains itself
            vectors = tab.wait_value("#textinv-emb-vectors input[type=number]", "v !== '7'", 30_000)
            assert 1 <= int(vectors) <= 4, vectors  # a few images: a few vectors
            root.locator("#textinv-emb-name textarea").fill(name)
            tab.number("textinv-emb-vectors", 2)
            root.locator("#textinv-emb-create").click(timeout=30_000)  # enabled: the model has loaded
            tab.html("textinv-emb-result").get_by_text(name).first.wait_for(timeout=60_000)
            loaded = client.get("/sdapi/v1/embeddings").json()["loaded"]
            assert loaded.get(name, {}).get("vectors") == 2, loaded.get(name)  # usable without a restart
            # the workflow bar carries the name to Train
            assert root.locator("#textinv-embedding-name textarea").input_value() == name

            tab.section("Train")
            # not another "Batch size"'s default through the webui's ui-config.json keys
            assert root.locator("#textinv-train-batch input").input_value() == "1"
            root.locator("#textinv-train-dataset textarea").fill(str(dataset))
            tab.wait_value("#textinv-train-embedding input", f"v === {name!r}", 30_000)
            for elem, value in (
                ("textinv-train-width", 64),
                ("textinv-train-height", 64),
                ("textinv-train-steps", 10),
                ("textinv-train-save-every", 5),
                ("textinv-train-image-every", 0),
            ):
                tab.number(elem, value)
            root.locator("#textinv-train-advanced").get_by_text("Advanced").click()
            root.locator("#textinv-train-log textarea").fill(str(log_dir))
            root.locator("#textinv-train-run").click(timeout=30_000)
            root.locator("#textinv-train-status").get_by_text("Training finished").wait_for(timeout=300_000)
            files = tab.html("textinv-train-files").inner_text()
            assert f"{name}-5" in files and f"{name}-10" in files, files
            run_folder = root.locator("#textinv-run-folder textarea").input_value()
            assert Path(run_folder).parent.parent == log_dir, run_folder
            saved = sorted(p.name for p in (Path(run_folder) / "embeddings").glob("*.pt"))
            assert saved == [f"{name}-10.pt", f"{name}-5.pt"], saved
            assert root.locator("#textinv-train-plot svg").count() == 1
            assert "fixed-batch loss" in tab.html("textinv-train-plot").inner_html()
            tab.screenshot("webui-train")
            assert not tab.our_errors(), tab.errors
    finally:
        remove_embedding_files(emb_dir, name)
        remove_tree(log_dir)
