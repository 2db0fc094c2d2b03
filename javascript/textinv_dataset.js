// Dataset section of the TI Helper tab: highlight the rows of the scan table by their Status
// (refused, not an image), which a gradio Dataframe cannot style by itself.
// Runs inside the webui page and in the standalone page: no webui globals are required.
(function () {
  "use strict";
  window.textinv = window.textinv || {};
  if (window.textinv.dataset) return; // loaded twice (webui reload): keep the first

  const STATUS_COLUMN = 3; // lib_textinv/dataset/section.py TABLE_HEADERS: File, Format, Pixels, Status, …
  const ROW_CLASS = { refused: "textinv-row-refused", "not an image": "textinv-row-other" };
  const root = () =>
    (typeof window.gradioApp === "function" && window.gradioApp()) ||
    document.querySelector("gradio-app")?.shadowRoot ||
    document;

  function markRows() {
    const rows = root().querySelectorAll("#textinv-dataset-table tbody tr");
    for (const tr of rows) {
      const cell = tr.children[STATUS_COLUMN];
      const status = cell ? cell.textContent.trim() : "";
      for (const [word, cls] of Object.entries(ROW_CLASS)) tr.classList.toggle(cls, status === word);
    }
  }

  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      markRows();
    });
  }

  function start() {
    new MutationObserver(schedule).observe(root(), { childList: true, subtree: true, characterData: true });
    schedule();
  }

  window.textinv.dataset = { markRows };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
