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
  // WGS-84 -> GCJ-02, the published formula as in mapdata/crs.py (tested there against reference pairs)
  const A = 6378245.0, EE = 0.00669342162296594323;
  function shiftLat(x, y) {
    let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function shiftLon(x, y) {
    let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function wgs84ToGcj02(lat, lon) {
    let dLat = shiftLat(lon - 105, lat - 35), dLon = shiftLon(lon - 105, lat - 35);
    const rad = lat / 180 * Math.PI;
    let magic = Math.sin(rad); magic = 1 - EE * magic * magic;
    const sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sq) * Math.PI);
    dLon = (dLon * 180) / (A / sq * Math.cos(rad) * Math.PI);
    return L.latLng(lat + dLat, lon + dLon);
  }

  if (window.L && L.CRS && L.Projection && !L.CRS.Gcj02) {
    const mercator = L.Projection.SphericalMercator;
    const toGcj = function (latlng) { return wgs84ToGcj02(latlng.lat, latlng.lng); };
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
