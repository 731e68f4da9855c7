/* The planner page's map drawing functions (window.nuanxin.planner): colours come from each layer's
   hideout, so a new question restyles the map without sending the shapes again. Names from the
   data go into the page as text (textContent), never as HTML. */
(function () {
  "use strict";

  function textNode(value) {
    const el = document.createElement("span");
    el.textContent = value == null ? "" : String(value);
    return el;
  }

  function classOf(value, breaks) {
    let i = 0;
    while (i < breaks.length && value >= breaks[i]) { i += 1; }
    return i;
  }

  const planner = {
    // H3 hexagons shaded by uncovered demand: hideout.levels[i] is 0 (all covered) … 5
    hexStyle: function (feature, context) {
      const h = (context && context.hideout) || {};
      const p = feature.properties || {};
      const level = h.res === p.r && h.levels ? h.levels[p.i] : undefined;
      if (!level) { return {stroke: false, fillOpacity: 0, fill: true}; }
      return {stroke: true, weight: 0.4, color: "#7c2d12", opacity: 0.35, fillColor: h.colours[level - 1],
              fillOpacity: 0.72};
    },
    // districts shaded by the share of their demand covered
    districtStyle: function (feature, context) {
      const h = (context && context.hideout) || {};
      const share = (h.shares || {})[String((feature.properties || {}).adcode)];
      const base = {color: "#57534e", weight: 1.2, fillOpacity: 0.45};
      if (share === undefined || share === null) { return Object.assign(base, {fillColor: "#f5f5f4", fillOpacity: 0.2}); }
      return Object.assign(base, {fillColor: h.colours[classOf(share, h.breaks || [])]});
    },
    districtTooltip: function (feature, layer) {
      const p = feature.properties || {};
      layer.bindTooltip(textNode(p.name), {sticky: true});
    },
    stationDot: function (feature, latlng, context) {
      const h = (context && context.hideout) || {};
      const p = feature.properties || {};
      // a national network comes by the map's view: below zoom 14 the server's clusters (rider.js draws them)
      if (p.cluster) { return window.nuanxin.clusterMarker(feature, latlng); }
      const removed = (h.removed || []).indexOf(p.id) >= 0;
      const m = L.circleMarker(latlng, {radius: 3.5, weight: 1, color: removed ? "#111827" : "#fff",
        fillColor: removed ? "#9ca3af" : (p.status === "open" ? "#1d4ed8" : "#6b7280"), fillOpacity: removed ? 0.4 : 0.95,
        bubblingMouseEvents: false, className: removed ? "station-removed" : "station-dot"});
      m.bindTooltip(textNode(p.name));
      return m;
    },
    // hypothetical stations and removed ones as DOM markers (pins), above the canvas layers
    whatifMarker: function (feature, latlng) {
      const p = feature.properties || {};
      const added = p.kind === "added";
      const icon = L.divIcon({className: added ? "whatif-pin whatif-added" : "whatif-pin whatif-removed",
                              html: added ? "+" : "×", iconSize: [20, 20]});
      const m = L.marker(latlng, {icon: icon, keyboard: false, bubblingMouseEvents: false, zIndexOffset: 500});
      m.bindTooltip(textNode(p.name));
      return m;
    },
    siteMarker: function (feature, latlng) {
      const p = feature.properties || {};
      const icon = L.divIcon({className: "site-pin", html: "<span>" + (Number(p.rank) || "") + "</span>",
                              iconSize: [22, 22]});
      const m = L.marker(latlng, {icon: icon, keyboard: false, bubblingMouseEvents: false});
      m.bindTooltip(textNode(p.name));
      return m;
    },
    // The controls in the URL (a control at its default left out), so a link reopens this view; returns the
    // language switch's link, with the same controls, and the note when the link leaves the removed stations out.
    writeUrl: function (c, whatif, state) {
      const defaults = (state && state.url_defaults) || {};
      const limit = ((state && state.url_limits) || {}).removed || 0;
      const w = whatif || {};
      const removed = w.removed || [];
      const tooMany = removed.length > limit;
      const values = [
        ["r", c.radius === "custom" ? c.radius_custom : c.radius], ["mode", c.mode],
        ["a", (c.amenities || []).join(",")], ["t", c.time_kind], ["wd", c.weekday], ["h", c.hour],
        ["hol", c.holiday], ["res", c.h3_res], ["wv", c.week_view], ["k", c.k], ["xd", c.exact_district],
        ["d", c.map_district],
        // the what-if as the reports take it
        ["added", (w.added || []).map(function (p) {
          return Number(p[0]).toFixed(6) + "," + Number(p[1]).toFixed(6);
        }).join(";")],
        ["removed", tooMany ? "" : removed.join(",")],
      ].map(function (e) {
        const same = e[1] != null && String(e[1]) === String(defaults[e[0]]);
        return same ? [e[0], null] : e;
      });
      const note = tooMany ? ((state && state.texts) || {})["planner.url.too_many_removed"] : null;
      return [window.nuanxin.writeQuery(values, state && state.lang), note];
    },
  };

  window.nuanxin = Object.assign({}, window.nuanxin, {planner: planner});
})();
