/* The authenticator app's service worker: the offline shell, in a versioned cache.
   Calls to the device API (api/) are never cached. */
"use strict";
const VERSION = "{{ version }}";
const PREFIX = "toopher-app-";
const CACHE = PREFIX + VERSION;
const SHELL = {{ shell_files|safe }};
{% if has_push %}
try {
  importScripts("sw-push.js");
} catch (error) {
  console.warn("sw-push.js could not be loaded", error);
}
{% endif %}
const scope = () => self.registration.scope;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((name) => new Request(name, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith(PREFIX) && key !== CACHE).map((key) => caches.delete(key)),
      ))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !request.url.startsWith(scope())) {
    return;
  }
  const path = request.url.slice(scope().length);
  if (path.startsWith("api/")) {
    return; // the device API: always the network, never a cache
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("./", { cacheName: CACHE })));
    return;
  }
  event.respondWith(
    caches.match(request, { cacheName: CACHE, ignoreSearch: true })
      .then((cached) => cached || fetch(request)),
  );
});
