/* The map's tiles: a GCJ-02 map projection for Amap's tiles, and (NUANXIN_TILES=auto) our own base map when the
   tiles do not load.
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

  /* Amap's tiles are drawn in GCJ-02. The map projects through GCJ-02 (crs="Gcj02"), so every layer, tap and
     viewport stays in WGS-84 and lands where the tiles draw it (a tap answers the WGS-84 point under the finger).
     Unproject inverts the shift by fixed-point iteration (three steps: well under a metre in Chengdu). */
  if (window.L && L.CRS && L.Projection && !L.CRS.Gcj02) {
    const mercator = L.Projection.SphericalMercator;
    const toGcj = function (latlng) { return window.nuanxin.map.toGcj02([latlng.lng, latlng.lat]); };
    const fromGcj = function (gcj) {
      let lat = gcj.lat, lng = gcj.lng;
      for (let i = 0; i < 3; i++) {
        const there = toGcj(L.latLng(lat, lng));
        lat -= there.lat - gcj.lat;
        lng -= there.lng - gcj.lng;
      }
      return L.latLng(lat, lng);
    };
    L.CRS.Gcj02 = L.extend({}, L.CRS.EPSG3857, {
      code: "NUANXIN:GCJ02",
      projection: {
        bounds: mercator.bounds,
        project: function (latlng) { return mercator.project(toGcj(L.latLng(latlng))); },
        unproject: function (point) { return fromGcj(mercator.unproject(point)); },
      },
    });
  }
})();
