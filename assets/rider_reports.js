/* The rider page's reports on the phone: the rider code (暖新码) made and kept here, moved by its QR link
   (#code=...), and a photo too large refused before it is sent. Every text goes in as text, never as HTML. */
(function () {
  "use strict";
  // The fragment as the page was opened: the rider page's URL writer replaces the address soon after.
  const START_HASH = window.location.hash;
  let hashTaken = false;
  const NO = function () { return window.dash_clientside.no_update; };
  const MB = 1024 * 1024;

  function normalise(text, cfg) {
    if (typeof text !== "string" || text.length > 64) { return null; }
    const code = text.replace(/[\s\-_.·]+/g, "").toUpperCase()
      .replace(/[IL]/g, "1").replace(/O/g, "0").replace(/U/g, "V");
    if (code.length !== cfg.length) { return null; }
    for (const c of code) { if (cfg.alphabet.indexOf(c) < 0) { return null; } }
    return code;
  }

  function shown(code) { return code.match(/.{1,4}/g).join("-"); }

  function newCode(cfg) {
    const bytes = new Uint8Array(cfg.length);
    window.crypto.getRandomValues(bytes);
    // 256 is a multiple of the alphabet's 32 letters: every letter equally likely
    return Array.from(bytes, function (b) { return cfg.alphabet[b % cfg.alphabet.length]; }).join("");
  }

  function clicked() {
    const ctx = window.dash_clientside.callback_context;
    return (ctx.triggered || []).some(function (t) { return typeof t.value === "number" && t.value > 0; });
  }

  const reports = {
    // On opening the page with the QR code's link (…/#code=XXXX): keep the code, clear the fragment, say so.
    adopt: function (cfg, current) {
      if (hashTaken || !cfg) { return [NO(), NO(), NO()]; }
      hashTaken = true;
      const found = /(?:^#|&)code=([0-9A-Za-z\-]{16,40})/.exec(START_HASH || "");
      const code = found ? normalise(found[1], cfg) : null;
      if (window.location.hash) {
        window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
      }
      if (!code) { return [NO(), NO(), NO()]; }
      const old = normalise(current, cfg);
      let message = cfg.texts["rider.code.moved"];
      if (old && old !== code) { message += cfg.texts["rider.code.replaced"].replace("{old}", shown(old)); }
      return [code, message, false];
    },
    // "我的暖新码": the first time, the code is made here, on the phone.
    openCode: function (n1, n2, n3, current, cfg) {
      if (!clicked() || !cfg) { return [NO(), NO()]; }
      return [normalise(current, cfg) ? NO() : newCode(cfg), false];
    },
    codeLine: function (current, cfg) {
      if (!cfg) { return [NO(), NO()]; }
      const code = normalise(current, cfg);
      if (!code) { return [cfg.texts["rider.report.without_code"], false]; }
      return [cfg.texts["rider.report.with_code"].replace("{code}", shown(code)), true];
    },
    // A photo larger than the server takes is refused here, before it is sent over the phone's network.
    checkPhoto: function (contents, name, cfg) {
      if (!contents || !cfg) { return [NO(), NO(), NO()]; }
      if (contents.length > cfg.max_base64) {
        const size = (contents.length * 3 / 4 / MB).toFixed(1);
        const why = cfg.photo_big.replace("{size}", size).replace("{mb}", String(cfg.mb));
        return [null, cfg.texts["rider.report.photo_error"].replace("{what}", why), null];
      }
      return [{name: typeof name === "string" ? name : "", contents: contents}, "", null];
    },
    closed: function (n) { return n ? true : NO(); },
    amenityHidden: function (kind) { return kind !== "facility_broken"; },
  };

  window.nuanxinReports = reports;
})();
