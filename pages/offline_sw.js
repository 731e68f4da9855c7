/* The rider page's service worker, served at /sw.js with scope "/": it keeps the app shell (the page, Dash's
   scripts, the assets) so that the page opens with no signal, and tells the page when the network is gone.
   The last answer itself is kept by the page (assets/rider_offline.js), not here.
   Only the rider page ("/") is kept; every other page (planner, staff, sign-in) goes to the network untouched. */
"use strict";

const VERSION = "__VERSION__";
const SHELL = "nuanxin-shell-" + VERSION;
const PAGES = ["/", "/?lang=en"];
// what the page asks before its first callback, and what the offline page script and an installed app need
const FIXED = ["/_dash-layout", "/_dash-dependencies", "__TEXTS_URL__", "/manifest.webmanifest",
               "/assets/app-icons/icon-192.png", "/assets/app-icons/icon-512.png"];
const NETWORK_FIRST = new Set(FIXED.slice(0, 4));
// a phone that shows a signal but gets nothing through waits this long for the page before the kept one
const PAGE_WAIT_MS = 6000;
const TITLE = __TITLE__;
const ROUTER_OUTPUT = "_pages_store.data";

// the same-origin scripts, styles and icons a page loads, from its HTML
function shellUrls(html) {
  const urls = [];
  const pattern = /\s(?:src|href)="(\/[^"/][^"]*)"/g;
  let match;
  while ((match = pattern.exec(html)) !== null) {
    urls.push(match[1].replace(/&amp;/g, "&"));
  }
  return urls;
}

async function keepShell() {
  const cache = await caches.open(SHELL);
  const urls = new Set(FIXED);
  for (const page of PAGES) {
    const response = await fetch(page, {cache: "no-store"});
    if (!response.ok) { throw new Error("the page answered " + response.status); }
    shellUrls(await response.clone().text()).forEach(function (url) { urls.add(url); });
    await cache.put(page, response);
  }
  await cache.addAll(Array.from(urls));  // all or nothing: never half a shell
}

self.addEventListener("install", function (event) {
  event.waitUntil(keepShell().then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.startsWith("nuanxin-shell-") && n !== SHELL; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function pageKey(url) {
  return url.searchParams.get("lang") === "en" ? "/?lang=en" : "/";
}

async function keptPage(url) {
  const cache = await caches.open(SHELL);
  return (await cache.match(pageKey(url))) || (await cache.match("/")) || Response.error();
}

// the page: from the network while there is one (kept for next time), else the kept one
function page(event, url) {
  const fromNetwork = fetch(event.request).then(async function (response) {
    if (response.ok) {
      const cache = await caches.open(SHELL);
      await cache.put(pageKey(url), response.clone());
    }
    return response;
  });
  event.waitUntil(fromNetwork.catch(function () { return null; }));
  let timer;
  const late = new Promise(function (resolve) { timer = setTimeout(resolve, PAGE_WAIT_MS, null); });
  return Promise.race([fromNetwork.catch(function () { return null; }), late]).then(function (response) {
    clearTimeout(timer);
    return response || keptPage(url);
  });
}

async function networkFirst(request, key) {
  const cache = await caches.open(SHELL);
  try {
    const response = await fetch(request);
    if (response.ok) { await cache.put(key, response.clone()); }
    return response;
  } catch (err) {
    return (await cache.match(key)) || Response.error();
  }
}

// Dash's scripts and the assets carry their version in the URL: kept ones are current
async function cacheFirst(request) {
  const cache = await caches.open(SHELL);
  const kept = await cache.match(request);
  if (kept) { return kept; }
  const response = await fetch(request);
  if (response.ok) { await cache.put(request, response.clone()); }
  return response;
}

// a Dash callback with no network: "nothing to update" (204), so the page stays as it is, and the page
// is told, so that it shows the kept answer. Dash's page router is answered with the page's title only:
// its title callback reads the title the router sets and fails on none.
async function callback(event) {
  const asked = event.request.clone();
  try {
    return await fetch(event.request);
  } catch (err) {
    const client = await self.clients.get(event.clientId);
    if (client) { client.postMessage({type: "nuanxin-offline"}); }
    let output = "";
    try { output = String((await asked.json()).output || ""); } catch (e) { output = ""; }
    if (output.indexOf(ROUTER_OUTPUT) >= 0) {
      return new Response(JSON.stringify({multi: true, response: {_pages_store: {data: {title: TITLE}}}}),
                          {status: 200, headers: {"Content-Type": "application/json"}});
    }
    return new Response(null, {status: 204});
  }
}

function fromRiderPage(request) {
  try { return new URL(request.referrer).pathname === "/"; } catch (err) { return false; }
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST") {
    if (url.pathname === "/_dash-update-component" && fromRiderPage(request)) {
      event.respondWith(callback(event));
    }
    return;
  }
  if (request.method !== "GET") { return; }
  if (request.mode === "navigate") {
    if (url.pathname === "/") { event.respondWith(page(event, url)); }
    return;
  }
  if (NETWORK_FIRST.has(url.pathname)) {
    event.respondWith(networkFirst(request, url.pathname));
  } else if (url.pathname.startsWith("/_dash-component-suites/") || url.pathname.startsWith("/assets/") ||
             url.pathname === "/_favicon.ico") {
    event.respondWith(cacheFirst(request));
  }
});
