// sd-webui-textinv: the one global of this extension. Feature files add to it (textinv.crop, …).
// Runs inside the webui page and in the standalone page: never rely on webui globals.
window.textinv = window.textinv || {};
(function (ns) {
  "use strict";
  // The gradio root: the webui's gradioApp() when present, else the page itself.
  ns.root = function () {
    if (typeof window.gradioApp === "function") return window.gradioApp();
    const app = document.querySelector("gradio-app");
    return (app && app.shadowRoot) || document;
  };
  ns.byId = function (id) { return ns.root().querySelector("#" + id); };
  // Set a gradio textbox's value from JS so Python sees it (gradio listens for 'input').
  ns.setTextbox = function (id, value) {
    const el = ns.byId(id);
    const input = el && el.querySelector("textarea, input");
    if (!input) return false;
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
    return true;
  };
})(window.textinv);
