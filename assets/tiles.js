/* NUANXIN_TILES=auto: when the map tiles do not load, fall back to our own base map.
   The tile layer's Leaflet events call these functions (pages/rider/base_map.py): after ERRORS failed tiles with
   none loaded, or no tile loaded WAIT_MS after the layer started, the tile layer is removed and the own base map's
   road extent and notes (drawn hidden) are shown. Nothing runs on a page without such a tile layer. */
(function () {
  "use strict";
  const ERRORS = 6;
  const WAIT_MS = 12000;
  const EXTENT_PANE = "road-extent";
  const watched = new WeakMap();  // tile layer -> {errors, loaded, timer, done}
  const failedUrls = new Set();   // a template that failed once on this page is not tried again

  function stateOf(layer) {
    let s = watched.get(layer);
    if (!s) { s = {errors: 0, loaded: false, timer: null, done: false}; watched.set(layer, s); }
    return s;
  }

  function fallBack(layer, map) {
    const s = stateOf(layer);
    if (s.done) { return; }
    s.done = true;
    if (s.timer) { window.clearTimeout(s.timer); s.timer = null; }
    if (layer._url) { failedUrls.add(layer._url); }
    map = map || layer._map;
    if (map && map.hasLayer(layer)) { map.removeLayer(layer); }
    if (!map) { return; }
    // react-leaflet counted the layer's attribution once more than Leaflet takes back on removal
    const credits = map.attributionControl, credit = layer.getAttribution && layer.getAttribution();
    if (credits && credit && credits._attributions) {
      while (credits._attributions[credit] > 0) { credits.removeAttribution(credit); }
    }
    const pane = map.getPane(EXTENT_PANE);
    if (pane) { pane.style.display = ""; }
    const container = map.getContainer();
    container.classList.add("tiles-failed");
    container.querySelectorAll(".base-note[hidden]").forEach(function (note) { note.hidden = false; });
  }

  function loading(e, ctx) {
    const layer = e.target, s = stateOf(layer);
    if (s.done || s.loaded) { return; }
    if (failedUrls.has(layer._url)) { fallBack(layer, ctx && ctx.map); return; }
    if (!s.timer) {
      s.timer = window.setTimeout(function () {
        s.timer = null;
        if (!s.loaded) { fallBack(layer, ctx && ctx.map); }
      }, WAIT_MS);
    }
  }

  function tileLoad(e) {
    const s = stateOf(e.target);
    s.loaded = true;
    if (s.timer) { window.clearTimeout(s.timer); s.timer = null; }
  }

  function tileError(e, ctx) {
    const s = stateOf(e.target);
    if (s.loaded || s.done) { return; }  // some tiles load: a gap here and there, not a dead server
    s.errors += 1;
    if (s.errors >= ERRORS) { fallBack(e.target, ctx && ctx.map); }
  }

  window.nuanxin = Object.assign({}, window.nuanxin, {tiles: {loading: loading, tileLoad: tileLoad,
                                                              tileError: tileError}});
})();
