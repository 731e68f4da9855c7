/* The rider page with no signal: registers the service worker (/sw.js), keeps the last answer on the phone
   (the result rows as shown, and each station's open intervals for the next days from
   /api/v1/stations/hours), and when Dash's requests fail shows that answer in a panel of its own,
   marked "离线 · 更新于 HH:MM", with open or closed worked out from the phone's clock and the kept intervals.
   Every text is put into the page as text (textContent), never as HTML. */
(function () {
  "use strict";
  if (window.location.pathname !== "/") { return; }  // the assets load on every page: the rider page only

  const KEY = "nuanxin.lastAnswer";
  const TEXTS_URL = "/offline-texts.json";
  const HOURS_URL = "/api/v1/stations/hours";
  const DAYS = 7;
  const MAX_STATIONS = 20;
  const HOUR = 3600 * 1000, DAY = 24 * HOUR;
  const CHINA = 8 * HOUR;  // Asia/Shanghai: UTC+8, no summer time
  const CLOSING_SOON_MINUTES = 30;
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function lang() {
    return new URLSearchParams(window.location.search).get("lang") === "en" ? "en" : "zh";
  }

  function textOf(el) { return el ? (el.textContent || "").trim() : ""; }

  function fill(text, values) {
    return String(text || "").replace(/\{(\w+)\}/g, function (all, name) {
      return values && values[name] !== undefined ? String(values[name]) : all;
    });
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else if (attrs[k] !== null) { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  // ---- times as the page says them (pages/phrasing.py's when and status_text) --------------------------

  function chinaDay(ms) { return Math.floor((ms + CHINA) / DAY); }
  function chinaDate(ms) { return new Date(ms + CHINA); }  // read with the getUTC… methods
  function clock(ms) {
    const d = chinaDate(ms);
    return String(d.getUTCHours()).padStart(2, "0") + ":" + String(d.getUTCMinutes()).padStart(2, "0");
  }
  function weekday(ms) { return (chinaDate(ms).getUTCDay() + 6) % 7; }  // 0 = Monday

  function when(ms, now, T, bareToday) {
    const days = chinaDay(ms) - chinaDay(now);
    const c = clock(ms), d = chinaDate(ms);
    if (days === 0) { return bareToday ? c : fill(T["when.today"], {clock: c}); }
    if (days === 1) { return fill(T["when.tomorrow"], {clock: c}); }
    if (days > 1 && days < 7) { return fill(T["when.weekday"], {weekday: T["weekday." + weekday(ms)], clock: c}); }
    return fill(T["when.date"], {month: d.getUTCMonth() + 1, day: d.getUTCDate(), mon: MONTHS[d.getUTCMonth()],
                                 clock: c});
  }

  function savedAt(answer, now, T) {
    const ms = Date.parse(answer.saved);
    if (chinaDay(ms) === chinaDay(now)) { return clock(ms); }
    const d = chinaDate(ms);
    return fill(T["offline.date_time"], {month: d.getUTCMonth() + 1, day: d.getUTCDate(),
                                         mon: MONTHS[d.getUTCMonth()], clock: clock(ms)});
  }

  // open or closed at the phone's time, from the kept intervals
  function stateAt(station, now, answer) {
    const start = Date.parse(answer.saved), end = Date.parse(answer.end);
    const at = Math.max(now, start);  // a phone clock behind the server's: the kept window starts at its start
    if (at >= end) { return {state: "beyond"}; }
    const intervals = (station && station.intervals) || [];
    for (let i = 0; i < intervals.length; i++) {
      const opens = Date.parse(intervals[i].opens), closes = Date.parse(intervals[i].closes);
      if (at < opens) { return {state: "closed", opens: opens}; }
      if (at < closes) {
        if (closes >= end) { return {state: "open", closes: null}; }  // still open where the kept hours end
        const minutes = Math.max(0, Math.ceil((closes - at) / 60000));
        return {state: minutes <= CLOSING_SOON_MINUTES ? "closing_soon" : "open", closes: closes, minutes: minutes};
      }
    }
    return {state: "closed", opens: null};
  }

  function statusText(s, now, answer, T) {
    if (s.state === "beyond") { return fill(T["offline.beyond"], {when: when(Date.parse(answer.end), now, T)}); }
    if (s.state === "closing_soon") { return fill(T["status.closing_soon"], {n: s.minutes}); }
    if (s.state === "open") {
      return s.closes === null ? T["status.open"] : fill(T["status.open_until"], {when: when(s.closes, now, T, true)});
    }
    return s.opens === null ? T["status.closed"] : fill(T["status.closed_until"], {when: when(s.opens, now, T)});
  }

  // ---- keeping the last answer --------------------------------------------------------------------------

  function readRows() {
    return Array.from(document.querySelectorAll("#rider-results .result")).map(function (button) {
      let id = null;
      try { id = JSON.parse(button.id).id; } catch (e) { id = null; }
      return {
        id: id,
        rank: textOf(button.querySelector(".rank")),
        name: textOf(button.querySelector(".result-name")),
        distance: textOf(button.querySelector(".distance")),
        eta: textOf(button.querySelector(".eta")),
        amenities: Array.from(button.querySelectorAll(".amenity-icon")).map(function (img) {
          return img.getAttribute("alt") || "";
        }).filter(Boolean),
      };
    }).filter(function (r) { return typeof r.id === "string" && r.id; });
  }

  let texts = null;
  function loadTexts() {
    if (!texts) {
      texts = fetch(TEXTS_URL).then(function (r) {
        if (!r.ok) { throw new Error("texts " + r.status); }
        return r.json();
      }).catch(function (err) { texts = null; throw err; });
    }
    return texts;
  }

  let asked = 0;
  let keptSignature = null;
  function keep() {
    if (shown || !document.getElementById("rider-results")) { return; }
    const rows = readRows().slice(0, MAX_STATIONS);
    const where = textOf(document.getElementById("rider-where-text"));
    const signature = JSON.stringify([rows, where, lang()]);
    if (signature === keptSignature) { return; }
    const mine = ++asked;
    const hours = rows.length
      ? fetch(HOURS_URL + "?ids=" + encodeURIComponent(rows.map(function (r) { return r.id; }).join(",")) +
              "&days=" + DAYS, {cache: "no-store"}).then(function (r) {
          if (!r.ok) { throw new Error("hours " + r.status); }
          return r.json();
        })
      : Promise.resolve(null);
    Promise.all([hours, loadTexts()]).then(function (got) {
      if (mine !== asked) { return; }  // a newer answer is on its way
      const body = got[0], now = Date.now();
      const answer = {
        saved: body ? body.start : new Date(now).toISOString(),
        end: body ? body.end : new Date(now + DAYS * DAY).toISOString(),
        lang: lang(), where: where, rows: rows, stations: body ? body.stations : [], texts: got[1],
      };
      window.localStorage.setItem(KEY, JSON.stringify(answer));
      keptSignature = signature;
      document.documentElement.setAttribute("data-offline-kept", answer.saved);
    }).catch(function () { /* no network: the answer kept before stays */ });
  }

  function keptAnswer() {
    try {
      const answer = JSON.parse(window.localStorage.getItem(KEY) || "null");
      return answer && Array.isArray(answer.rows) && answer.texts ? answer : null;
    } catch (e) { return null; }
  }

  let pending = null;
  new MutationObserver(function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(keep, 400);  // the list is drawn in a few steps: keep it once it settles
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});

  // ---- the offline panel ----------------------------------------------------------------------------------

  let shown = false;
  let opener = null;

  function stationsById(answer) {
    const out = {};
    (answer.stations || []).forEach(function (s) { if (s && typeof s.id === "string") { out[s.id] = s; } });
    return out;
  }

  function daySpans(station, dayStart, T) {
    const dayEnd = dayStart + DAY;
    const spans = [];
    ((station && station.intervals) || []).forEach(function (iv) {
      const o = Date.parse(iv.opens), c = Date.parse(iv.closes);
      if (c <= dayStart || o >= dayEnd) { return; }
      const long = c - o >= DAY;
      if (o <= dayStart && c >= dayEnd) { spans.push(T["rider.card.all_day"]); return; }
      if (o < dayStart) {  // carried over from the day before: shown there, unless longer than a day
        if (long) { spans.push("00:00–" + clock(c)); }
        return;
      }
      spans.push(clock(o) + "–" + (long || c === dayEnd ? "24:00" : clock(c)));
    });
    return spans;
  }

  function weekTable(station, answer, now, T) {
    const start = Date.parse(answer.saved), end = Date.parse(answer.end);
    const rows = [];
    const today = chinaDay(now);
    for (let day = chinaDay(start); day * DAY - CHINA + DAY <= end || day === chinaDay(start); day++) {
      const dayStart = day * DAY - CHINA;
      const d = chinaDate(dayStart);
      const label = T["weekday." + weekday(dayStart)] + " " + (d.getUTCMonth() + 1) + "/" + d.getUTCDate() +
        (day === today ? " · " + T["rider.card.today"] : "");
      const spans = daySpans(station, dayStart, T);
      rows.push(el("tr", {"class": day === today ? "today" : null}, [
        el("th", {text: label}), el("td", {text: spans.length ? spans.join(", ") : T["rider.card.closed_day"]})]));
    }
    return el("table", {"class": "week"}, [el("tbody", {}, rows)]);
  }

  // the card is a dialog with a Back entry of its own, as the online card is: Back closes it, not the page
  function closeCard(fromBack) {
    const card = document.getElementById("rider-offline-card");
    if (!card || card.hidden) { return false; }
    card.hidden = true;
    if (!fromBack && window.history.state && window.history.state.nuanxinOfflineCard) { window.history.back(); }
    const back = opener && document.getElementById(opener);
    if (back) { back.focus({preventScroll: true}); }
    return true;
  }

  function openCard(row, answer, T) {
    const card = document.getElementById("rider-offline-card");
    const station = stationsById(answer)[row.id];
    const now = Date.now();
    const s = stateAt(station, now, answer);
    const body = card.querySelector(".offline-card-body");
    body.replaceChildren();
    body.appendChild(el("h2", {"class": "card-title", id: "rider-offline-card-title", text: row.name}));
    body.appendChild(el("p", {"class": "status status-" + (s.state === "beyond" ? "closed" : s.state),
                              text: statusText(s, now, answer, T)}));
    if (station && station.status === "closed_temporarily") {
      body.appendChild(el("p", {"class": "temporary",
                                text: T["offline.temporary"] + (station.status_note ? " · " + station.status_note : "")}));
    }
    if (station && station.address) { body.appendChild(el("p", {"class": "address", text: station.address})); }
    if (station && station.phone && /^[0-9+\-() ]{3,32}$/.test(station.phone)) {
      body.appendChild(el("a", {"class": "btn call", href: "tel:" + station.phone.replace(/[^0-9+]/g, ""),
                                text: T["rider.card.call"] + " " + station.phone}));
    }
    if (row.amenities.length) { body.appendChild(el("p", {"class": "offline-amenities", text: row.amenities.join(" · ")})); }
    body.appendChild(el("h3", {text: T["offline.days"]}));
    if (station && station.opening_hours) { body.appendChild(el("p", {"class": "oh-raw", text: station.opening_hours})); }
    body.appendChild(weekTable(station, answer, now, T));
    body.appendChild(el("p", {"class": "offline-hours-note",
                              text: fill(T["offline.hours_note"], {time: savedAt(answer, now, T)})}));
    opener = "rider-offline-row-" + row.id;
    if (card.hidden) { window.history.pushState({nuanxinOfflineCard: true}, "", window.location.href); }
    card.hidden = false;
    card.focus({preventScroll: true});
  }

  function rowItem(row, answer, now, T) {
    const s = stateAt(stationsById(answer)[row.id], now, answer);
    const button = el("button", {"class": "result", type: "button", id: "rider-offline-row-" + row.id}, [
      el("span", {"class": "rank", text: row.rank}),
      el("span", {"class": "result-body"}, [
        el("span", {"class": "result-name", text: row.name}),
        el("span", {"class": "result-meta"}, [
          el("span", {"class": "distance", text: row.distance}),
          el("span", {"class": "eta", text: row.eta}),
          el("span", {"class": "status status-" + (s.state === "beyond" ? "closed" : s.state),
                      text: statusText(s, now, answer, T)}),
        ]),
        row.amenities.length ? el("span", {"class": "offline-amenities", text: row.amenities.join(" · ")}) : null,
      ]),
    ]);
    button.addEventListener("click", function () { openCard(row, answer, T); });
    return el("li", {}, [button]);
  }

  function render(answer, T) {
    const now = Date.now();
    const panel = el("section", {id: "rider-offline", "class": "offline-panel lang-" + lang(),
                                 lang: lang() === "en" ? "en" : "zh-CN", "aria-labelledby": "rider-offline-title"});
    const badge = answer ? fill(T["offline.badge"], {time: savedAt(answer, now, T)}) : null;
    panel.appendChild(el("header", {"class": "offline-header"}, [
      el("span", {"class": "offline-app", text: T["app.title"]}),
      badge ? el("span", {"class": "offline-badge", id: "rider-offline-badge", role: "status", text: badge}) : null,
    ]));
    if (!answer) {
      panel.appendChild(el("p", {"class": "offline-nothing", role: "status", text: T["offline.nothing"]}));
    } else {
      panel.appendChild(el("h2", {id: "rider-offline-title", text: T["offline.title"]}));
      if (answer.where) { panel.appendChild(el("p", {"class": "where", text: answer.where})); }
      panel.appendChild(el("p", {"class": "offline-intro", text: T["offline.intro"]}));
      panel.appendChild(answer.rows.length
        ? el("ol", {"class": "results", id: "rider-offline-results", role: "list"},
             answer.rows.map(function (r) { return rowItem(r, answer, now, T); }))
        : el("p", {"class": "none", text: T["rider.none"]}));
    }
    const retry = el("button", {"class": "btn btn-primary offline-retry", type: "button", text: T["offline.retry"]});
    retry.addEventListener("click", function () { window.location.reload(); });
    panel.appendChild(retry);
    const close = el("button", {"class": "card-close", type: "button", title: T["rider.card.close"],
                                "aria-label": T["rider.card.close"], text: "×"});
    close.addEventListener("click", function () { closeCard(false); });
    panel.appendChild(el("aside", {id: "rider-offline-card", "class": "card offline-card", role: "dialog",
                                   tabindex: "-1", hidden: "", "aria-labelledby": "rider-offline-card-title"},
                         [close, el("div", {"class": "offline-card-body"})]));
    const old = document.getElementById("rider-offline");
    if (old) { old.remove(); }
    document.body.appendChild(panel);  // beside Dash's root, never inside what React draws
    document.documentElement.classList.add("nuanxin-offline");
  }

  function showOffline() {
    if (shown) { return; }
    shown = true;
    const answer = keptAnswer();
    const want = lang();
    const ready = answer && answer.texts && answer.texts[want] ? Promise.resolve(answer.texts)
      : loadTexts();  // nothing kept yet: the labels from the worker's copy
    ready.then(function (all) { render(answer, all[want] || all.zh); }).catch(function () { shown = false; });
  }

  function hideOffline() {
    const panel = document.getElementById("rider-offline");
    if (!panel || !document.getElementById("rider-results")) { return; }  // nothing else to show yet
    panel.remove();
    document.documentElement.classList.remove("nuanxin-offline");
    shown = false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && closeCard(false)) { event.preventDefault(); }
  });
  window.addEventListener("popstate", function (event) {
    if (closeCard(true)) { event.stopImmediatePropagation(); }
  }, true);
  window.addEventListener("offline", showOffline);
  window.addEventListener("online", hideOffline);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "nuanxin-offline") { showOffline(); }
    });
    navigator.serviceWorker.register("/sw.js", {scope: "/"}).catch(function () { /* no worker: online only */ });
  }
  if (navigator.onLine === false) { showOffline(); }
})();
