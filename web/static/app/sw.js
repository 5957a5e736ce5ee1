// The citizen wallet's service worker (scope /app/): it keeps one signed, hash-checked release
// of the app for offline use, and takes a new one only when common/update.js, running the
// current release, has checked that release's signature with the key pinned here and the person
// has accepted it. A release it cannot install says why to the pages (install-failed: code and
// reason), and leaves no trace.
//
// scripts/build-web writes the two pins below (a copy served unbuilt installs nothing):
//  - the release public key (Ed25519, base64url of the raw 32 bytes): release.json must carry
//    its signature (release.sig);
//  - the SHA-256 of this build's release.json (base64url): this worker installs exactly that
//    release, file by file against its SHA-384 hashes, or refuses to install.
// What this protects and what it cannot (the browser fetches this file itself): see
// docs/threat-model.md, "The web wallet's code".
//
// Requests: the release's files (/app/, /common/, /pkg/, the app's and common i18n JSON) come
// from the cache first, so the wallet opens offline; everything else, the API included, goes to
// the network untouched and is never cached.
/* eslint-env serviceworker */
"use strict";

const RELEASE_PUBLIC_KEY = "__RELEASE_PUBLIC_KEY__";
const RELEASE_MANIFEST_SHA256 = "__RELEASE_MANIFEST_SHA256__";
const CACHE_PREFIX = "corroborate-app:";
const CACHED = [/^\/app\//, /^\/common\//, /^\/pkg\//, /^\/favicon\.svg$/];

function base64urlBytes(text) {
  const base64 = text.trim().replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function base64(bytes, url) {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  const text = btoa(binary);
  return url ? text.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "") : text;
}

/** An Error with a code the page translates (update.reason.CODE, see common/update.js). */
function failure(code, message) {
  return Object.assign(new Error(message), { code });
}

async function fetchBytes(path) {
  let response;
  try {
    response = await fetch(path, { cache: "no-cache", redirect: "error" });
  } catch (error) {
    throw failure("fetch", `${path}: ${error.message}`);
  }
  if (!response.ok) throw failure("fetch", `${path}: HTTP ${response.status}`);
  return { response, bytes: await response.arrayBuffer() };
}

/** release.json and release.sig, checked against both pins; returns the parsed manifest. */
async function fetchPinnedRelease() {
  if (RELEASE_PUBLIC_KEY.startsWith("__") || RELEASE_MANIFEST_SHA256.startsWith("__")) {
    throw failure("unsigned", "this service worker was not built (scripts/build-web pins the release)");
  }
  const [{ bytes }, { bytes: sig }] = await Promise.all([
    fetchBytes("/release.json"),
    fetchBytes("/release.sig"),
  ]);
  const key = await crypto.subtle.importKey(
    "raw",
    base64urlBytes(RELEASE_PUBLIC_KEY),
    { name: "Ed25519" },
    false,
    ["verify"],
  );
  let signature;
  try {
    signature = base64urlBytes(new TextDecoder().decode(sig));
  } catch {
    throw failure("signature", "release.sig is not base64url");
  }
  if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, signature, bytes))) {
    throw failure("signature", "release.json is not signed by the release key");
  }
  const hash = base64(await crypto.subtle.digest("SHA-256", bytes), true);
  if (hash !== RELEASE_MANIFEST_SHA256) {
    throw failure("pin", "release.json is not the release this worker was built for");
  }
  const manifest = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof manifest.version !== "string" || typeof manifest.files !== "object" || !manifest.files) {
    throw failure("pin", "release.json has no version or files");
  }
  return { manifest, bytes, sig };
}

// Both pins name the cache: a worker with other pins (another key, another release) never
// touches this worker's cache, not even when its own install fails and cleans up.
const CACHE_SUFFIX = `:${RELEASE_PUBLIC_KEY}:${RELEASE_MANIFEST_SHA256}`;

function cacheName(version) {
  return `${CACHE_PREFIX}${version}${CACHE_SUFFIX}`;
}

async function ownCache() {
  const name = (await caches.keys()).find((k) => k.startsWith(CACHE_PREFIX) && k.endsWith(CACHE_SUFFIX));
  return name ? caches.open(name) : null;
}

async function install() {
  const { manifest, bytes, sig } = await fetchPinnedRelease();
  const name = cacheName(manifest.version);
  // The same pins as a worker installed before (this file changed otherwise): its complete
  // cache (release.sig is written last) is this release already, and may be the one serving
  // the app now; it is kept as it is.
  if (await caches.has(name)) {
    if (await (await caches.open(name)).match("/release.sig")) return;
    await caches.delete(name);
  }
  const paths = Object.keys(manifest.files).filter((p) => CACHED.some((re) => re.test(p)));
  // Everything is fetched and checked before anything is cached: a refused release leaves
  // no trace.
  const checked = await Promise.all(
    paths.map(async (path) => {
      const expected = manifest.files[path];
      const { response, bytes: body } = await fetchBytes(path);
      const actual = `sha384-${base64(await crypto.subtle.digest("SHA-384", body), false)}`;
      if (actual !== expected) throw failure("hash", `${path} does not match its release hash`);
      const headers = new Headers(response.headers);
      return [path, new Response(body, { status: 200, headers })];
    }),
  );
  const cache = await caches.open(name);
  try {
    for (const [path, response] of checked) await cache.put(path, response);
    await cache.put("/release.json", new Response(bytes, { headers: { "Content-Type": "application/json" } }));
    await cache.put("/release.sig", new Response(sig, { headers: { "Content-Type": "text/plain" } }));
  } catch (error) {
    await caches.delete(name);
    throw error;
  }
}

/** Tells the pages why this worker refuses to install (they show it; the worker then goes). */
async function sayInstallFailed(error) {
  const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const page of pages) {
    page.postMessage({ type: "install-failed", code: error.code || "install", reason: String(error.message) });
  }
}

self.addEventListener("install", (event) => {
  // No skipWaiting here: common/update.js lets a new release take over after checking it.
  event.waitUntil(
    install().catch(async (error) => {
      await sayInstallFailed(error).catch(() => {});
      throw error;
    }),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(CACHE_PREFIX) && !name.endsWith(CACHE_SUFFIX)) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "activate") {
    self.skipWaiting();
  } else if (data.type === "release" && event.ports[0]) {
    const port = event.ports[0];
    (async () => {
      const cache = await ownCache();
      const cached = cache && (await cache.match("/release.json"));
      const version = cached ? (await cached.json()).version : null;
      port.postMessage({ version, publicKey: RELEASE_PUBLIC_KEY, manifestSha256: RELEASE_MANIFEST_SHA256 });
    })().catch((error) => port.postMessage({ error: String(error && error.message) }));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !CACHED.some((re) => re.test(url.pathname))) return;
  const path = url.pathname.endsWith("/") ? `${url.pathname}index.html` : url.pathname;
  event.respondWith(
    (async () => {
      const cache = await ownCache();
      const cached = cache && (await cache.match(path));
      return cached || fetch(request);
    })(),
  );
});
