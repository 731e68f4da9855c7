/* The page's state in its URL, shared by the pages that keep one (window.nuanxin.writeQuery):
   history.replaceState, so a change adds no Back entry and keeps the entry's own state; the return
   value is the language switch's link to the same view in the other language. */
(function () {
  "use strict";

  // entries: [[name, value], …] in the URL's order; null, undefined and "" are left out, an array
  // gives the name once per item. lang: the page's language ("zh", the default, is left out).
  function writeQuery(entries, lang) {
    const q = new URLSearchParams();
    entries.forEach(function (entry) {
      [].concat(entry[1]).forEach(function (v) {
        if (v !== null && v !== undefined && v !== "") { q.append(entry[0], String(v)); }
      });
    });
    if (lang && lang !== "zh") { q.set("lang", lang); }
    const text = q.toString();
    window.history.replaceState(window.history.state, "", window.location.pathname + (text ? "?" + text : ""));
    q.set("lang", lang === "en" ? "zh" : "en");
    return window.location.pathname + "?" + q.toString();
  }

  window.nuanxin = Object.assign({}, window.nuanxin, {writeQuery: writeQuery});
})();
