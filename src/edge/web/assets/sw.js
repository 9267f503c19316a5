// sw.js — the workbench's service worker: keeps the page and its modules so the workbench opens
// without a connection, and sends the outbox's signed envelopes when the server answers again.
// Must never cache an API answer (they are personal and change) and never alter an envelope.

const CACHE = "custody-workbench-v2";
const SHELL = ["/", "/app/app.css", "/app/app.js", "/app/keys.js", "/app/api.js", "/app/forms.js", "/app/i18n.js", "/app/scan.js", "/app/id.json", "/app/en.json", "/app/schemas.json", "/app/types.json", "/app/icon.svg", "/app/manifest.webmanifest", "/app/zxing-0.23.0.min.js", "/app/zxing-LICENSE.txt"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n)))).then(() => self.clients.claim()),
  );
});

/** The page and its files: the network first (a new version is seen at once), the copy offline. */
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (!(url.pathname === "/" || url.pathname.startsWith("/app/"))) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok && SHELL.includes(url.pathname)) {
          const copy = response.clone();
          caches.open(CACHE).then((c) => c.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname).then((r) => r || Response.error())),
  );
});

/** Where the browser supports it, a background sync also sends the outbox (the page does too). */
self.addEventListener("sync", (event) => {
  if (event.tag === "custody-outbox") event.waitUntil(notifyPages());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.kind === "outbox" && self.registration.sync) {
    self.registration.sync.register("custody-outbox").catch(() => {});
  }
});

async function notifyPages() {
  for (const client of await self.clients.matchAll()) client.postMessage({ kind: "flush" });
}
