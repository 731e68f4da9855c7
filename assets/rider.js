/* The rider page's browser side: map drawing functions, location, and the page state in the URL.
   Every text from the data is put into the page as text (textContent), never as HTML. */
(function () {
  "use strict";
  const LAST = "nuanxin.lastLocation";
  const ASKED = "nuanxin.askedLocation";

  function textNode(value) {
    const el = document.createElement("span");
    el.textContent = value == null ? "" : String(value);
    return el;
  }

  const COLOURS = {
    open: "#c2410c", closed_temporarily: "#9ca3af", result: "#b91c1c", here: "#1d4ed8",
    gate_used: "#15803d", gate: "#6b7280", gate_refused: "#dc2626", building: "#7c3aed",
    sign_good: "#15803d", sign_damaged: "#d97706", sign_missing: "#dc2626",
  };

  function tooltip(feature, layer) {
    const p = feature.properties || {};
    const name = p.name || p.text;
    if (!name) { return; }
    // the gate to use is labelled for good: the rider sees where to go in without hovering
    if (p.kind === "gate_used") {
      layer.bindTooltip(textNode(name), {permanent: true, direction: "top", offset: [0, -12],
                                         className: "gate-used-label"});
    } else {
      layer.bindTooltip(textNode(name));
    }
  }

  // A station that does not answer the rider's question (closed then, closed temporarily, lacking an asked
  // amenity) is drawn small and grey. Which ones, and why, is the server's answer (hideout.muted: id -> code,
  // hideout.notes: code -> words), judged for the stations within hideout.judged_m of hideout.here
  // (all of them when that is null); a station further out keeps its plain look.
  const MUTED = {radius: 4.5, weight: 1, color: "#f9fafb", opacity: 0.7, fillColor: "#9ca3af", fillOpacity: 0.45};

  function judged(feature, answer) {
    if (!answer || !answer.here) { return false; }
    if (answer.judged_m == null) { return true; }
    const c = (feature.geometry || {}).coordinates || [];
    return L.latLng(c[1], c[0]).distanceTo(L.latLng(answer.here[0], answer.here[1])) <= answer.judged_m;
  }

  // The stations of the map's view come from GET /api/v1/stations/view: the stations themselves from zoom 14,
  // the server's clusters below it (never more than 2,000 features). The map asks for its view and a margin
  // of half a view each side, snapped outward to a grid of GRID_PX pixels at its zoom (whole cluster cells);
  // it asks again only once the view leaves that box, the zoom changes or the rider's question does, and
  // only after the map has rested for DEBOUNCE_MS; an answer overtaken by a later request is dropped.
  const VIEW_URL = "/api/v1/stations/view";
  const DEBOUNCE_MS = 250, GRID_PX = 240, TILE_PX = 256, MAX_LAT = 85.05;
  // one state per station layer (the rider's map, the planner's at national scale)
  const viewStates = {};
  function stateOf(layerId) {
    return viewStates[layerId] || (viewStates[layerId] = {seq: 0, loaded: null, pending: null, timer: null});
  }

  function worldXY(lon, lat, zoom) {
    const size = TILE_PX * Math.pow(2, zoom);
    const phi = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI / 180;
    return [(lon + 180) / 360 * size, (1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2 * size];
  }

  function lonLat(x, y, zoom) {
    const size = TILE_PX * Math.pow(2, zoom);
    const lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * y / size))) * 180 / Math.PI;
    return [x / size * 360 - 180, lat];
  }

  // [west, south, east, north] of the view: the map's bounds, or (before the first move, when the map was
  // opened on a centre and zoom) the centre's surroundings at the container's size
  function viewBox(bounds, zoom, center, mapId) {
    if (Array.isArray(bounds) && bounds.length === 2 && Array.isArray(bounds[0])) {
      return [bounds[0][1], bounds[0][0], bounds[1][1], bounds[1][0]];
    }
    const c = Array.isArray(center) ? center : center && [center.lat, center.lng];
    const el = document.getElementById(mapId);
    if (!c || !el) { return null; }
    const xy = worldXY(c[1], c[0], zoom), w = el.clientWidth || 400, h = el.clientHeight || 400;
    const sw = lonLat(xy[0] - w / 2, xy[1] + h / 2, zoom), ne = lonLat(xy[0] + w / 2, xy[1] - h / 2, zoom);
    return [sw[0], sw[1], ne[0], ne[1]];
  }

  // the view with its margin, snapped outward to the grid, within the world
  function wanted(box, zoom) {
    const a = worldXY(box[0], box[3], zoom), b = worldXY(box[2], box[1], zoom);  // north-west, south-east
    const dx = (b[0] - a[0]) / 2, dy = (b[1] - a[1]) / 2, size = TILE_PX * Math.pow(2, zoom);
    const snap = function (v, up) { return Math.max(0, Math.min(size, (up ? Math.ceil : Math.floor)(v / GRID_PX) * GRID_PX)); };
    const nw = lonLat(snap(a[0] - dx, false), snap(a[1] - dy, false), zoom);
    const se = lonLat(snap(b[0] + dx, true), snap(b[1] + dy, true), zoom);
    return [Math.max(-180, nw[0]), Math.max(-MAX_LAT, se[1]), Math.min(180, se[0]), Math.min(MAX_LAT, nw[1])];
  }

  function holds(outer, box) {
    return outer[0] <= box[0] && outer[1] <= box[1] && outer[2] >= box[2] && outer[3] >= box[3];
  }

  // the rider's question as the view's query (hideout.ask: amenities and at), so clusters count who answers
  function question(answer) {
    const ask = answer && answer.here && answer.ask;
    if (!ask) { return ""; }
    return "&amenities=" + encodeURIComponent(ask.amenities || "") + "&at=" + encodeURIComponent(ask.at || "now");
  }

  // Called by a clientside callback with the map's props; returns nothing itself: the answer is handed to
  // the layer (set_props) when it comes, so a later call of the callback cannot make Dash drop it. shown: the
  // layer's data now (what was loaded is asked again when the layer was made anew, as when the page is
  // opened again); fields: the station properties to ask for (the view's default when not given).
  function stationsView(bounds, zoom, center, answer, mapId, layerId, shown, fields) {
    const none = window.dash_clientside.no_update;
    if (typeof zoom !== "number" || !isFinite(zoom)) { return none; }  // fitted bounds: wait for the map's zoom
    const viewState = stateOf(layerId);
    const z = Math.round(zoom), box = viewBox(bounds, z, center, mapId);
    const ask = question(answer) + (fields ? "&fields=" + encodeURIComponent(fields) : "");
    if (!box || !box.every(isFinite)) { return none; }
    if (!(shown && shown.view_seq === viewState.loadedSeq)) { viewState.loaded = null; }
    const covers = function (v) { return v && v.zoom === z && v.ask === ask && holds(v.box, box); };
    if (covers(viewState.pending)) { return none; }
    if (covers(viewState.loaded)) {
      // back within what is shown: a request under way for elsewhere is not needed any more
      if (viewState.pending) { viewState.seq += 1; viewState.pending = null; window.clearTimeout(viewState.timer); }
      return none;
    }
    const want = wanted(box, z), seq = ++viewState.seq;
    const asked = {box: want, zoom: z, ask: ask};
    viewState.pending = asked;
    const url = VIEW_URL + "?bbox=" + want.map(function (v) { return v.toFixed(6); }).join(",") + "&zoom=" + z + ask;
    window.clearTimeout(viewState.timer);
    viewState.timer = window.setTimeout(function () {
      fetch(url, {credentials: "same-origin"}).then(function (r) {
        if (!r.ok) { throw new Error("stations/view " + r.status); }
        return r.json();
      }).then(function (doc) {
        if (seq !== viewState.seq) { return; }  // the map moved on meanwhile
        viewState.pending = null;
        viewState.loaded = asked;
        viewState.loadedSeq = seq;
        doc.view_seq = seq;  // which answer the layer shows (see shown above)
        window.dash_clientside.set_props(layerId, {data: doc});
      }).catch(function () {
        // offline or refused: the map keeps what it shows, and asks again on the next move
        if (seq === viewState.seq) { viewState.pending = null; }
      });
    }, DEBOUNCE_MS);
    return none;
  }

  function abbreviated(n) {
    return n >= 10000 ? Math.round(n / 1000) + "k" : n >= 1000 ? (Math.round(n / 100) / 10) + "k" : String(n);
  }

  // A server cluster: its count, grey when none of its stations answers the rider's question (answer_count,
  // asked with the view); a tap zooms into its stations' extent.
  function clusterMarker(feature, latlng) {
    const p = feature.properties || {};
    const n = Number(p.point_count) || 0;
    const answering = p.answer_count == null ? n : Number(p.answer_count);
    const inner = document.createElement("div");
    inner.appendChild(textNode(abbreviated(n)));
    let className = "marker-cluster marker-cluster-" + (n > 1000 ? "large" : n > 100 ? "medium" : "small");
    if (answering === 0) {
      className = "marker-cluster station-cluster-muted";
      Object.assign(inner.style, {backgroundColor: "rgba(156, 163, 175, 0.6)", color: "#fff"});
    }
    const m = L.marker(latlng, {icon: L.divIcon({html: inner, className: className, iconSize: L.point(40, 40)}),
                                answering: answering, keyboard: false});
    const box = feature.bbox;
    m.on("click", function () {
      const map = m._map;
      if (!map) { return; }
      const bounds = Array.isArray(box) && box.length === 4 ? L.latLngBounds([box[1], box[0]], [box[3], box[2]])
        : L.latLngBounds(latlng, latlng);
      // at least one zoom step in, even when its stations stand almost on one spot
      const zoom = Math.min(map.getMaxZoom(), Math.max(map.getZoom() + 1, map.getBoundsZoom(bounds, false, L.point(48, 48))));
      map.setView(bounds.getCenter(), zoom);
    });
    return m;
  }

  function gateIcon(kind) {
    // built as elements with their style set here: the text in them is ours, never the data's
    const el = document.createElement("div");
    const used = kind === "gate_used";
    el.className = "gate-pin " + kind;
    el.textContent = used ? "\u2193" : "\u2715";  // ↓ enter here; ✕ riders refused
    Object.assign(el.style, {
      width: used ? "24px" : "20px", height: used ? "24px" : "20px", boxSizing: "border-box",
      borderRadius: used ? "5px" : "50%", border: "2px solid #fff", display: "flex", alignItems: "center",
      justifyContent: "center", color: "#fff", fontWeight: "700", fontSize: used ? "15px" : "12px",
      lineHeight: "1", background: used ? COLOURS.gate_used : COLOURS.gate_refused,
      boxShadow: "0 1px 4px rgba(0,0,0,.45)",
    });
    const size = used ? 24 : 20;
    return L.divIcon({className: "gate-marker", html: el, iconSize: [size, size], iconAnchor: [size / 2, size / 2]});
  }

  function pointStyle(kind) {
    const missing = kind === "sign_missing";
    return {radius: kind.startsWith("sign") ? 6 : kind === "building" ? 8 : 7, weight: missing ? 3 : 2,
            color: missing ? COLOURS[kind] : "#fff", fillColor: COLOURS[kind] || COLOURS.gate, fill: true,
            fillOpacity: missing ? 0 : 1, opacity: 1, dashArray: missing ? "2 3" : null};
  }

  const map = {
    stationMarker: function (feature, latlng, context) {
      const p = feature.properties || {};
      if (p.cluster) { return clusterMarker(feature, latlng); }
      const answer = context && context.hideout;
      const seen = judged(feature, answer);
      const code = seen ? (answer.muted || {})[p.id] : undefined;
      let m;
      if (code !== undefined) {
        m = L.circleMarker(latlng, Object.assign({}, MUTED, {className: "station-muted"}));
        const note = (answer.notes || {})[code];
        m.bindTooltip(textNode(note ? p.name + " · " + note : p.name));
      } else {
        // judged and answering: drawn as open whatever its stored status (a closure that has ended)
        const fill = seen ? COLOURS.open : COLOURS[p.status] || COLOURS.open;
        m = L.circleMarker(latlng, {radius: 7, weight: 2, color: "#fff", opacity: 1, fillOpacity: 0.95,
                                    fillColor: fill, className: "station-marker"});
        m.bindTooltip(textNode(p.name));
      }
      return m;
    },
    highlightMarker: function (feature, latlng) {
      const p = feature.properties || {};
      // in the highlight pane: above the stations, their clusters and the compound's layers
      if (p.kind === "here") {
        return L.circleMarker(latlng, {radius: 9, weight: 3, color: "#fff", fillColor: COLOURS.here, fillOpacity: 1,
                                       interactive: false, className: "here-marker", pane: "highlight"});
      }
      const rank = Number(p.rank) || "";
      const icon = L.divIcon({className: "result-pin", html: "<span>" + rank + "</span>", iconSize: [26, 26]});
      const m = L.marker(latlng, {icon: icon, zIndexOffset: 1000, keyboard: false, pane: "highlight"});
      m.bindTooltip(textNode(p.name));
      return m;
    },
    entryMarker: function (feature, latlng) {
      const kind = (feature.properties || {}).kind || "gate";
      if (kind === "gate_used" || kind === "gate_refused") {
        return L.marker(latlng, {icon: gateIcon(kind), keyboard: false, zIndexOffset: kind === "gate_used" ? 500 : 0});
      }
      return L.circleMarker(latlng, pointStyle(kind));
    },
    signMarker: function (feature, latlng) {
      const p = feature.properties || {};
      const kind = "sign_" + (p.condition || "good");
      return L.circleMarker(latlng, {radius: 4, weight: 1, color: "#fff", fillColor: COLOURS[kind], fillOpacity: 1});
    },
    routeStyle: function (feature) {
      // GeoJSON applies this to every layer, points too: a gate keeps its own look, not the outline's
      const kind = (feature.properties || {}).kind;
      if (kind === "route") { return {color: "#ea580c", weight: 6, opacity: 0.9}; }
      if ((feature.geometry || {}).type === "Point") { return pointStyle(kind || "gate"); }
      return {color: "#7c3aed", weight: 2, fill: false, dashArray: "4 4"};
    },
    nameTooltip: tooltip,
  };

  // unasked: the first visit's own request (its fix may come late: then it does not move the map away from
  // what the rider turned to meanwhile, such as a compound's way in)
  function ask(state, unasked) {
    const ids = state.ids, texts = state.texts;
    if (!navigator.geolocation) {
      dash_clientside.set_props(ids.locate_msg, {children: texts["rider.locate_unavailable"]});
      return;
    }
    navigator.geolocation.getCurrentPosition(function (pos) {
      dash_clientside.set_props(ids.where, {data: {lat: Math.round(pos.coords.latitude * 1e6) / 1e6,
                                                   lon: Math.round(pos.coords.longitude * 1e6) / 1e6, where: "gps",
                                                   unasked: !!unasked}});
      dash_clientside.set_props(ids.locate_msg, {children: ""});
    }, function (err) {
      const key = err && err.code === 1 ? "rider.locate_denied" : "rider.locate_unavailable";
      dash_clientside.set_props(ids.locate_msg, {children: texts[key]});
    }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
  }

  function lastLocation() {
    try { return JSON.parse(window.localStorage.getItem(LAST) || "null"); } catch (e) { return null; }
  }

  function locate(n, where, state) {
    if (n) { ask(state); return state.texts["rider.locating"]; }
    // first load: a location in the link wins; else the remembered one; ask the browser once ever
    let last = lastLocation();
    if (where && where.where === "link") {
      // a reload of this phone's own link: the position is the one it remembered, named as it was
      // ("上次的位置", the tapped point, the searched place), not "the location in the link"
      if (last && typeof last.lat === "number" && Number(last.lat).toFixed(6) === Number(where.lat).toFixed(6) &&
          Number(last.lon).toFixed(6) === Number(where.lon).toFixed(6)) {
        const kind = last.where === "tap" || last.where === "search" ? last.where : "remembered";
        dash_clientside.set_props(state.ids.where, {data: {lat: where.lat, lon: where.lon, where: kind,
                                                           label: kind === "search" ? last.label || null : null}});
      }
      return "";
    }
    if (last && typeof last.lat === "number" && typeof last.lon === "number") {
      dash_clientside.set_props(state.ids.where, {data: {lat: last.lat, lon: last.lon, where: "remembered"}});
    }
    if (!window.localStorage.getItem(ASKED)) {
      window.localStorage.setItem(ASKED, "1");
      ask(state, true);
      return state.texts["rider.locating"];
    }
    return "";
  }

  function remember(where) {
    if (where && ["gps", "tap", "search"].indexOf(where.where) >= 0) {
      window.localStorage.setItem(LAST, JSON.stringify({lat: where.lat, lon: where.lon, where: where.where,
                                                        label: where.label ? String(where.label).slice(0, 80) : null}));
    }
    return where ? where.where : null;
  }

  function writeUrl(where, chips, openNow, openAt, state, compound, building) {
    const at = where && where.where !== "centre";
    return window.nuanxin.writeQuery([
      ["lat", at ? Number(where.lat).toFixed(6) : null], ["lon", at ? Number(where.lon).toFixed(6) : null],
      ["a", chips && chips.length ? chips.join(",") : null],
      ["at", !(openNow && openNow.length) && openAt ? openAt : null],
      ["s", state && state.station], ["c", compound], ["b", building],
    ], (state && state.lang) || "zh");
  }

  // The station card, the report form and 我的暖新码 are dialogs over the map: when one opens, focus moves
  // into it and Back gets an entry of its own, so Back (or Escape) closes it before it leaves the page;
  // when it closes, focus returns to what opened it.
  const DIALOGS = [["rreport-panel", "rreport-close"], ["rreport-code-panel", "rreport-code-close"],
                   ["rider-card", "rider-card-close"]];  // the topmost first
  let ownBack = 0;  // Back entries this script is taking away itself (a dialog closed by its × button)
  const openers = {};

  function openDialogs() {
    return DIALOGS.filter(function (d) { const el = document.getElementById(d[0]); return el && !el.hidden; });
  }

  function closeTop() {
    const top = openDialogs()[0];
    const button = top && document.getElementById(top[1]);
    if (button) { button.click(); return true; }
    return false;
  }

  function opened(el) {
    // by id: the result list is drawn again when a card opens, so the button itself may be gone
    const from = document.activeElement;
    openers[el.id] = from && from.id ? from.id : null;
    if (!el.hasAttribute("tabindex")) { el.setAttribute("tabindex", "-1"); }
    window.history.pushState({nuanxinDialog: el.id}, "", window.location.href);
    window.setTimeout(function () { el.focus({preventScroll: true}); }, 0);
  }

  function closed(el) {
    if (window.history.state && window.history.state.nuanxinDialog === el.id) {
      ownBack += 1;
      window.history.back();
    }
    const opener = openers[el.id];
    delete openers[el.id];
    if (opener) { focusBack(opener, 20); }
  }

  // The list under the card may be drawn again just after it closes: focus the opener's id again
  // while focus has fallen back to the page (for up to 3 s).
  function focusBack(id, tries) {
    const el = document.getElementById(id);
    if (el && el.focus && document.activeElement !== el) { el.focus({preventScroll: true}); }
    if (tries > 0) {
      window.setTimeout(function () {
        const now = document.activeElement;
        if (!now || now === document.body || !document.body.contains(now)) { focusBack(id, tries - 1); }
      }, 150);
    }
  }

  function watchDialogs() {
    DIALOGS.forEach(function (d) {
      const el = document.getElementById(d[0]);
      if (!el || el.dataset.watched) { return; }
      el.dataset.watched = "1";
      let shown = !el.hidden;
      if (shown) { opened(el); }  // a card from the link: Back closes it first
      new MutationObserver(function () {
        if (shown === !el.hidden) { return; }
        shown = !el.hidden;
        if (shown) { opened(el); } else { closed(el); }
      }).observe(el, {attributes: true, attributeFilter: ["hidden"]});
    });
  }

  // capture, so it runs before Dash's own location listener, which would re-render the page
  window.addEventListener("popstate", function (event) {
    if (ownBack > 0) { ownBack -= 1; event.stopImmediatePropagation(); return; }
    // Back with a dialog open: the browser took its entry away already, so closing it (closed()) finds
    // the entry under it current and takes no other
    if (closeTop()) { event.stopImmediatePropagation(); }
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && closeTop()) { event.preventDefault(); }
  });
  new MutationObserver(watchDialogs).observe(document.documentElement, {childList: true, subtree: true});

  window.nuanxin = Object.assign({}, window.nuanxin, {map: map, locate: locate, remember: remember,
                                                      writeUrl: writeUrl, stationsView: stationsView,
                                                      clusterMarker: clusterMarker});
})();
