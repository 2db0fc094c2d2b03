// Crop editor of the TI Helper tab (section "Crop"): a strip of thumbnails with each box drawn, a
// large view to move/resize the box locked to the target aspect, keyboard navigation.
// Runs inside the webui page and in the standalone page: no webui globals (gradioApp, onUiLoaded);
// the only global defined is window.textinv (textinv.crop = {...}).
//
// Data exchange with Python (lib_textinv/ui_crop.py), two hidden textboxes of JSON:
//   #textinv-crop-state textarea  Python -> JS  {target:[W,H], images:[{name,size,auto,box,excluded,preview,...}]}
//   #textinv-crop-boxes textarea  JS -> Python  {target:[W,H], images:{name:{box:[x,y,w,h], excluded}}}
// Box rules mirror lib_textinv/crop_box.py: whole "aspect units" (W/g x H/g), always inside the image.
(function () {
  "use strict";
  window.textinv = window.textinv || {};
  if (window.textinv.crop) return; // loaded twice (webui reload): keep the first

  const root = () => document.querySelector("gradio-app")?.shadowRoot || document;
  const q = (sel) => root().querySelector(sel);
  const S = { raw: null, target: [512, 512], items: [], current: -1, el: null, drag: null };

  // -- box math (same rules as crop_box.py) --------------------------------------------------
  const gcd = (a, b) => (b ? gcd(b, a % b) : a);
  function unit() {
    const [W, H] = S.target, g = gcd(W, H);
    return [W / g, H / g];
  }
  function sizeFor(item, wantW) {
    const [iw, ih] = item.size, [uw, uh] = unit();
    const kmax = Math.min(Math.floor(iw / uw), Math.floor(ih / uh));
    if (kmax >= 1) {
      const k = wantW >= kmax * uw ? kmax : Math.max(1, Math.round(wantW / uw));
      return [k * uw, k * uh];
    }
    const ratio = S.target[0] / S.target[1];
    if (iw / ih > ratio) return [Math.min(iw, Math.max(1, Math.round(ih * ratio))), ih];
    return [iw, Math.min(ih, Math.max(1, Math.round(iw / ratio)))];
  }
  const place = (start, len, limit) => Math.min(Math.max(0, Math.round(start)), Math.max(0, limit - len));
  function moveBox(item, b, dx, dy) {
    return [place(b[0] + dx, b[2], item.size[0]), place(b[1] + dy, b[3], item.size[1]), b[2], b[3]];
  }
  function resizeBox(item, b, wantW, anchor) {
    const [w, h] = sizeFor(item, wantW);
    let x, y;
    if (anchor === "centre") {
      x = b[0] + b[2] / 2 - w / 2;
      y = b[1] + b[3] / 2 - h / 2;
    } else {
      x = anchor[1] === "l" ? b[0] : b[0] + b[2] - w;
      y = anchor[0] === "t" ? b[1] : b[1] + b[3] - h;
    }
    return [place(x, w, item.size[0]), place(y, h, item.size[1]), w, h];
  }
  const clampBox = (item, b) => resizeBox(item, b, Math.max(1, b[2]), "centre");

  // -- exchange with Python ------------------------------------------------------------------
  function publish() {
    const area = q("#textinv-crop-boxes textarea");
    if (!area) return;
    const images = {};
    for (const it of S.items) if (it.box) images[it.name] = { box: it.box, excluded: !!it.excluded };
    area.value = JSON.stringify({ target: S.target, images });
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }
  function load(raw) {
    S.raw = raw;
    let data = null;
    try {
      data = raw ? JSON.parse(raw) : null;
    } catch (e) {
      console.warn("textinv crop: bad state", e);
    }
    S.target = data?.target || S.target;
    S.items = (data?.images || []).map((it) => ({
      ...it, box: it.box ? it.box.slice() : null, auto: it.auto ? it.auto.slice() : null,
    }));
    S.current = -1;
    render();
    if (S.items.length) publish();
  }
  function poll() {
    const area = q("#textinv-crop-state textarea");
    if (area && area.value !== S.raw) load(area.value);
    const mount = q("#textinv-crop-editor");
    if (mount && S.el && !mount.contains(S.el)) render(); // gradio re-rendered the container
  }

  // -- rendering -----------------------------------------------------------------------------
  const pct = (v, of) => `${(100 * v) / of}%`;
  function placeOverlay(div, item) {
    const b = item.box || [0, 0, item.size[0], item.size[1]];
    Object.assign(div.style, {
      left: pct(b[0], item.size[0]), top: pct(b[1], item.size[1]),
      width: pct(b[2], item.size[0]), height: pct(b[3], item.size[1]),
    });
  }
  function h(tag, cls, attrs) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    Object.assign(e, attrs || {});
    return e;
  }
  function render() {
    const mount = q("#textinv-crop-editor");
    if (!mount) return;
    injectStyle();
    if (S.el) S.el.remove();
    S.el = h("div", "textinv-crop", { id: "textinv-crop-ui" });
    const strip = h("div", "textinv-crop-strip");
    S.items.forEach((it, i) => {
      const t = h("div", "textinv-crop-thumb", { title: it.error || it.name });
      t.dataset.index = i;
      t.dataset.name = it.name;
      if (it.preview) t.appendChild(h("img", "", { src: it.preview, alt: it.name, draggable: false }));
      else t.appendChild(h("div", "textinv-crop-noimg", { textContent: it.error || it.name }));
      if (it.box) t.appendChild(h("div", "textinv-crop-thumb-box"));
      t.addEventListener("click", () => open(i));
      strip.appendChild(t);
    });
    S.el.appendChild(strip);
    const stage = h("div", "textinv-crop-stage", { tabIndex: 0 });
    stage.appendChild(h("img", "textinv-crop-image", { draggable: false }));
    const box = h("div", "textinv-crop-box");
    for (const c of ["tl", "tr", "bl", "br"]) {
      const hd = h("div", "textinv-crop-handle");
      hd.dataset.corner = c;
      box.appendChild(hd);
    }
    stage.appendChild(box);
    const bar = h("div", "textinv-crop-bar");
    const btn = (label, cls, fn) => {
      const b = h("button", `textinv-crop-${cls}`, { type: "button", textContent: label });
      b.addEventListener("click", fn);
      bar.appendChild(b);
    };
    btn("← Previous", "prev", () => go(-1));
    btn("Next →", "next", () => go(1));
    btn("Reset to Auto (R)", "reset", () => reset());
    btn("Exclude (Del)", "exclude", () => toggleExclude());
    bar.appendChild(h("span", "textinv-crop-info"));
    const view = h("div", "textinv-crop-view");
    view.appendChild(bar);
    view.appendChild(stage);
    S.el.appendChild(view);
    mount.appendChild(S.el);
    bindStage(stage, box);
    refresh();
  }
  function refresh() {
    if (!S.el) return;
    S.el.querySelectorAll(".textinv-crop-thumb").forEach((t) => {
      const it = S.items[+t.dataset.index];
      t.classList.toggle("excluded", !!it.excluded);
      t.classList.toggle("current", +t.dataset.index === S.current);
      t.classList.toggle("edited", !!(it.box && it.auto && it.box.join() !== it.auto.join()));
      const ov = t.querySelector(".textinv-crop-thumb-box");
      if (ov) placeOverlay(ov, it);
    });
    const view = S.el.querySelector(".textinv-crop-view");
    const it = S.items[S.current];
    view.style.display = it && it.box ? "" : "none";
    if (!it || !it.box) return;
    const img = view.querySelector(".textinv-crop-image");
    if (img.getAttribute("src") !== it.preview) img.src = it.preview;
    const box = view.querySelector(".textinv-crop-box");
    placeOverlay(box, it);
    box.dataset.box = it.box.join(",");
    view.classList.toggle("excluded", !!it.excluded);
    view.querySelector(".textinv-crop-info").textContent =
      `${S.current + 1}/${S.items.length} ${it.name} — box ${it.box[2]}×${it.box[3]} at ${it.box[0]},${it.box[1]}` +
      (it.excluded ? " — excluded" : "");
  }
  function changed() {
    refresh();
    publish();
  }

  // -- interaction ---------------------------------------------------------------------------
  function open(i) {
    if (i < 0 || i >= S.items.length) return;
    S.current = i;
    refresh();
    S.el?.querySelector(".textinv-crop-stage")?.focus({ preventScroll: true });
  }
  function go(step) {
    if (!S.items.length) return;
    let i = S.current;
    for (let n = 0; n < S.items.length; n++) { // skip unreadable files
      i = Math.min(S.items.length - 1, Math.max(0, i + step));
      if (S.items[i].box || i === 0 || i === S.items.length - 1) break;
    }
    open(i);
  }
  const cur = () => S.items[S.current];
  function setBox(b) {
    const it = cur();
    if (!it || !it.box) return;
    it.box = clampBox(it, b);
    changed();
  }
  function reset() {
    const it = cur();
    if (it && it.auto) setBox(it.auto.slice());
  }
  function toggleExclude() {
    const it = cur();
    if (!it) return;
    it.excluded = !it.excluded;
    changed();
  }
  function sourcePoint(stage, e) {
    const r = stage.querySelector(".textinv-crop-image").getBoundingClientRect(), it = cur();
    return [((e.clientX - r.left) * it.size[0]) / r.width, ((e.clientY - r.top) * it.size[1]) / r.height];
  }
  function bindStage(stage, box) {
    box.addEventListener("pointerdown", (e) => {
      const it = cur();
      if (!it || !it.box || e.button > 0) return;
      e.preventDefault();
      const corner = e.target.dataset?.corner;
      const anchor = corner ? { tl: "br", tr: "bl", bl: "tr", br: "tl" }[corner] : null;
      S.drag = { id: e.pointerId, start: sourcePoint(stage, e), box: it.box.slice(), anchor };
      box.setPointerCapture(e.pointerId);
      stage.focus({ preventScroll: true });
    });
    box.addEventListener("pointermove", (e) => {
      const d = S.drag, it = cur();
      if (!d || d.id !== e.pointerId || !it) return;
      const p = sourcePoint(stage, e);
      if (!d.anchor) {
        it.box = moveBox(it, d.box, p[0] - d.start[0], p[1] - d.start[1]);
      } else {
        const b = d.box, ax = d.anchor[1] === "l" ? b[0] : b[0] + b[2], ay = d.anchor[0] === "t" ? b[1] : b[1] + b[3];
        const want = Math.max(Math.abs(p[0] - ax), (Math.abs(p[1] - ay) * S.target[0]) / S.target[1]);
        it.box = resizeBox(it, b, want, d.anchor);
      }
      refresh();
    });
    const end = (e) => {
      if (!S.drag || S.drag.id !== e.pointerId) return;
      S.drag = null;
      changed();
    };
    box.addEventListener("pointerup", end);
    box.addEventListener("pointercancel", end);
    stage.addEventListener("wheel", (e) => {
      const it = cur();
      if (!it || !it.box) return;
      e.preventDefault();
      const [uw] = unit(), f = e.deltaY < 0 ? 1.05 : 1 / 1.05;
      let want = it.box[2] * f;
      if (Math.abs(want - it.box[2]) < uw) want = it.box[2] + (e.deltaY < 0 ? uw : -uw);
      setBox(resizeBox(it, it.box, want, "centre"));
    }, { passive: false });
    stage.addEventListener("keydown", onKey);
  }
  function onKey(e) {
    const it = cur();
    if (!it) return;
    const nav = e.ctrlKey || e.metaKey;
    if (e.key === "Enter" || e.key === "PageDown" || (nav && e.key === "ArrowRight")) {
      go(e.key === "Enter" && e.shiftKey ? -1 : 1);
    } else if (e.key === "PageUp" || (nav && e.key === "ArrowLeft")) {
      go(-1);
    } else if (e.key.startsWith("Arrow") && it.box) {
      const step = Math.max(1, Math.round(Math.max(...it.size) / 100)) * (e.shiftKey ? 10 : 1);
      const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
      setBox(moveBox(it, it.box, d[0], d[1]));
    } else if (e.key === "r" || e.key === "R") {
      reset();
    } else if (e.key === "Delete" || e.key === "Backspace") {
      toggleExclude();
    } else if (e.key === "Escape") {
      S.current = -1;
      refresh();
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation();
  }

  // -- style (kept here so the editor works wherever this file is loaded) ---------------------
  function injectStyle() {
    const host = root() === document ? document.head : root();
    if (!host || host.querySelector?.("#textinv-crop-style")) return;
    const s = h("style", "", { id: "textinv-crop-style" });
    s.textContent = `
.textinv-crop-strip{display:flex;gap:6px;overflow-x:auto;padding:4px 0}
.textinv-crop-thumb{position:relative;flex:0 0 auto;height:96px;cursor:pointer;border:2px solid transparent;line-height:0}
.textinv-crop-thumb img{height:96px;width:auto;display:block}
.textinv-crop-thumb.current{border-color:#f59e0b}
.textinv-crop-thumb.excluded{opacity:.35}
.textinv-crop-thumb.edited .textinv-crop-thumb-box{border-color:#22c55e}
.textinv-crop-noimg{height:96px;width:96px;font-size:11px;line-height:1.2;overflow:hidden;background:#7f1d1d;color:#fff;padding:4px}
.textinv-crop-thumb-box{position:absolute;border:2px solid #38bdf8;box-shadow:0 0 0 999px rgba(0,0,0,.35);pointer-events:none}
.textinv-crop-thumb{overflow:hidden}
.textinv-crop-bar{display:flex;gap:6px;align-items:center;margin:6px 0;flex-wrap:wrap}
.textinv-crop-bar button{padding:2px 10px;border:1px solid #888;border-radius:4px;background:transparent;color:inherit}
.textinv-crop-stage{position:relative;display:inline-block;max-width:100%;line-height:0;outline:none;touch-action:none;user-select:none;overflow:hidden}
.textinv-crop-stage:focus{box-shadow:0 0 0 2px #f59e0b}
.textinv-crop-image{max-width:min(100%,900px);max-height:70vh;display:block}
.textinv-crop-box{position:absolute;border:2px solid #38bdf8;box-shadow:0 0 0 9999px rgba(0,0,0,.45);cursor:move;touch-action:none}
.textinv-crop-view.excluded .textinv-crop-box{border-color:#ef4444;border-style:dashed}
.textinv-crop-handle{position:absolute;width:16px;height:16px;background:#38bdf8;border:1px solid #fff}
.textinv-crop-handle[data-corner=tl]{left:-8px;top:-8px;cursor:nwse-resize}
.textinv-crop-handle[data-corner=br]{right:-8px;bottom:-8px;cursor:nwse-resize}
.textinv-crop-handle[data-corner=tr]{right:-8px;top:-8px;cursor:nesw-resize}
.textinv-crop-handle[data-corner=bl]{left:-8px;bottom:-8px;cursor:nesw-resize}`;
    host.appendChild(s);
  }

  window.textinv.crop = {
    load, open, next: () => go(1), prev: () => go(-1), reset, toggleExclude,
    setBox: (b) => setBox(b), box: () => (cur() ? cur().box.slice() : null),
    state: () => ({ target: S.target.slice(), current: S.current, items: S.items.map(({ preview, ...r }) => r) }),
    _math: { sizeFor, moveBox, resizeBox, clampBox },
  };
  setInterval(poll, 250);
})();
