"""What every section of the tab receives: the host and the components that carry the workflow's
state from one section to the next (Dataset → Crop → Captions → Embedding → Train → Compare)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lib_textinv.kit.host import Host
from lib_textinv.kit.ids import elem_id


@dataclass
class TabContext:
    host: Host
    # gr.Textbox: the folder scanned in Dataset (the user's source images; never written to).
    source_folder: Any = None
    # gr.Textbox: the folder with training-size images (Crop's export; Captions and Train use it).
    prepared_folder: Any = None
    # gr.Textbox: the embedding being worked on (created in Embedding, trained, compared).
    embedding_name: Any = None
    # gr.Textbox: the training run folder (<log>/<date>/<name>) last trained, for Compare.
    run_folder: Any = None
    # compare.section.CompareView, set by Compare: the run, the sweeps made and the grid view that
    # the Scores section beside it works on (None until Compare is built, or when it failed to).
    compare: Any = None
    # ui_gates.Gate: buttons re-enabled when their feature becomes available (see ui_gates).
    gates: list[Any] = field(default_factory=list)
    # Inputs whose default is the loaded model's training size: set again on each page load
    # (the webui builds the tab before its model has loaded).
    model_sized: list[Any] = field(default_factory=list)
    # Inputs whose default comes from our settings at each start. Neither these nor the
    # model-sized ones may be pinned by the webui's ui-config.json (see ui_config_keys).
    per_start: list[Any] = field(default_factory=list)

    @staticmethod
    def elem_id(name: str) -> str:
        return elem_id(name)

    def unavailable_reason(self, feature: str) -> str | None:
        ok, why = self.host.feature(feature)
        return None if ok else why

    def gate(self, feature: str, *components: Any, note: Any = None, render: Any = None) -> None:
        """Keep ``components`` enabled exactly while ``feature`` is available, and ``note`` (a
        Markdown/HTML) showing the reason while it is not; re-checked on page load and section
        switch. Handlers still check at click time: a model can unload in between."""
        from lib_textinv.kit.gates import Gate, warning_text

        self.gates.append(Gate(feature, tuple(components), note, render or warning_text))
