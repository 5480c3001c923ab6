"use strict";
// oO's service worker: the page's shell and the last tip, for when the network is gone.
// Network first everywhere: online, people always get the current page and tip. No other API
// response is ever cached (profiles, reasons, reactions stay on the server).
const SHELL = "oo-shell-v1";
const TIP = "oo-tip"; // the page clears it on sign-out (web/app.js)
const ASSETS = ["/", "/static/style.css", "/static/app.js", "/manifest.webmanifest"];
// Bumped when a page signs out: a tip asked for before then is passed on but never kept.
let epoch = 0;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((cache) => cache.addAll(ASSETS))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  const keep = new Set([SHELL, TIP]);
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => !keep.has(n)).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data !== "forget") return;
  epoch++;
  event.waitUntil(caches.delete(TIP));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/api/tip") return event.respondWith(lastTip(event));
  if (ASSETS.includes(url.pathname)) event.respondWith(shell(event, url.pathname));
});

async function shell(event, key) {
  try {
    const response = await fetch(event.request);
    if (response.ok) {
      const copy = response.clone();
      event.waitUntil(caches.open(SHELL).then((cache) => cache.put(key, copy)));
    }
    return response;
  } catch (error) {
    const cached = await caches.match(key, { cacheName: SHELL, ignoreVary: true });
    if (cached) return cached;
    throw error;
  }
}

async function lastTip(event) {
  const at = epoch;
  try {
    const response = await fetch(event.request);
    if (response.status === 200 && at === epoch) {
      const copy = response.clone();
      // Checked again right before the write: a sign-out may arrive while the cache opens.
      const keep = (cache) => at === epoch && cache.put("/api/tip", copy);
      event.waitUntil(caches.open(TIP).then(keep));
    } else if (response.status === 401) {
      // Signed out (or the session ended): the last tip is nobody's business any more.
      event.waitUntil(caches.delete(TIP));
    }
    return response;
  } catch {
    const cached = await caches.match("/api/tip", { cacheName: TIP, ignoreVary: true });
    const problem = { "Content-Type": "application/problem+json" };
    const headers = new Headers(cached ? cached.headers : problem);
    headers.set("X-OO-Offline", "1");
    if (cached) return new Response(await cached.blob(), { status: 200, headers });
    const body = JSON.stringify({ type: "about:blank", title: "offline", status: 503 });
    return new Response(body, { status: 503, headers });
  }
}
