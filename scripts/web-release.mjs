// The signed release of the web front ends, run by scripts/build-web over web/dist:
//
// 1. every <script type="module" src> and <link rel="stylesheet" href> of every HTML page gets
//    integrity="sha384-…" of the file it names (so a page never runs a script it was not built
//    with);
// 2. release.json = {version, files: {"/app/app.js": "sha384-…", …}} over every file (its URL
//    path), except release.json and release.sig themselves and app/sw.js (which pins the
//    manifest's hash, so cannot be listed in it: the browser checks sw.js itself, see
//    docs/threat-model.md);
// 3. release.sig = base64url(Ed25519 signature of release.json's exact bytes);
// 4. app/sw.js gets the release public key (base64url of the raw 32 bytes) where
//    __RELEASE_PUBLIC_KEY__ is, and base64url(SHA-256(release.json)) where
//    __RELEASE_MANIFEST_SHA256__ is.
//
// The key: a PKCS#8 PEM Ed25519 private key in the file named by CORROBORATE_RELEASE_KEY, else a
// development key made once in ~/.config/corroborate/release-dev.key.
//
// What this gives (docs/threat-model.md, "The web wallet's code"): the wallet's service worker
// installs a release only if every file matches its hash here, and then serves only those checked
// bytes, so a file changed on the server without a new sw.js is never served; update.js lets a
// new worker activate only after checking this signature with the current key. What it cannot:
// a hostile server can serve another sw.js that calls skipWaiting() and lies about its pins, so
// the check in update.js only catches accidental or partial deployments; SRI (step 1) covers
// entry scripts and stylesheets, not dynamically imported modules or the wasm, on the portal and
// dashboard. The real defence is a check out of band (a browser extension, or a native shell
// pinning the release key).
//
// Usage: node scripts/web-release.mjs --dist web/dist --version 0.1.0+abc1234

import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: { dist: { type: "string" }, version: { type: "string" } },
});
if (!args.dist || !args.version) {
  fail("usage: web-release.mjs --dist DIR --version VERSION");
}
const dist = path.resolve(args.dist);
const UNLISTED = new Set(["/release.json", "/release.sig", "/app/sw.js"]);

function fail(message) {
  console.error(`web-release: ${message}`);
  process.exit(1);
}

function sri(bytes) {
  return `sha384-${crypto.createHash("sha384").update(bytes).digest("base64")}`;
}

/** Every file under `dir`, as URL paths ("/app/app.js"), sorted. */
function walk(dir, prefix = "") {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const urlPath = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...walk(path.join(dir, entry.name), urlPath));
    else if (entry.isFile()) out.push(urlPath);
  }
  return out.sort();
}

const onDisk = (urlPath) => path.join(dist, ...urlPath.split("/").filter(Boolean));

/** The URL path a page's reference names, or null for another origin or a data: URL. */
function resolve(reference, pageUrlPath) {
  const base = new URL(pageUrlPath, "https://release.invalid");
  const url = new URL(reference, base);
  return url.origin === base.origin ? decodeURIComponent(url.pathname) : null;
}

/** The attributes of one start tag, in order: [[name, value|null], …]. */
function attributes(tag) {
  const found = [];
  const pattern = /([^\s"'<>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  const inner = tag.replace(/^<\w+/, "").replace(/\/?>$/, "");
  for (const m of inner.matchAll(pattern)) {
    found.push([m[1].toLowerCase(), m[2] ?? m[3] ?? m[4] ?? null]);
  }
  return found;
}

/** Adds (or replaces) integrity on module scripts and stylesheets; returns the new HTML. */
function addIntegrity(html, pageUrlPath) {
  return html.replace(/<(script|link)\b[^>]*>/gi, (tag, name) => {
    const attrs = attributes(tag);
    const get = (n) => attrs.find(([k]) => k === n)?.[1];
    let reference;
    if (name.toLowerCase() === "script" && get("type") === "module") reference = get("src");
    const rel = (get("rel") || "").toLowerCase().split(/\s+/);
    if (name.toLowerCase() === "link" && rel.includes("stylesheet")) reference = get("href");
    if (!reference) return tag;
    const target = resolve(reference, pageUrlPath);
    if (!target) fail(`${pageUrlPath}: ${reference} is not on this origin (no CDN: the CSP refuses it)`);
    if (!fs.existsSync(onDisk(target))) fail(`${pageUrlPath}: ${reference} names ${target}, which is not built`);
    const kept = attrs
      .filter(([k]) => k !== "integrity")
      .map(([k, v]) => (v === null ? k : `${k}="${v}"`));
    kept.push(`integrity="${sri(fs.readFileSync(onDisk(target)))}"`);
    return `<${name} ${kept.join(" ")}>`;
  });
}

function releaseKey() {
  const named = process.env.CORROBORATE_RELEASE_KEY;
  let file = named;
  if (!file) {
    const dir = path.join(os.homedir(), ".config", "corroborate");
    file = path.join(dir, "release-dev.key");
    if (!fs.existsSync(file)) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const { privateKey } = crypto.generateKeyPairSync("ed25519");
      fs.writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), {
        mode: 0o600,
        flag: "wx",
      });
      console.error(`web-release: made a development release key in ${file}`);
    }
    console.error(
      "web-release: WARNING: signing with the development key (set CORROBORATE_RELEASE_KEY to " +
        "the release key's PEM file for a real release)",
    );
  }
  let key;
  try {
    key = crypto.createPrivateKey(fs.readFileSync(file));
  } catch (error) {
    fail(`${file} is not a PEM private key: ${error.message}`);
  }
  if (key.asymmetricKeyType !== "ed25519") fail(`${file} is not an Ed25519 key`);
  return key;
}

const files = walk(dist);

// 1. Integrity attributes (before hashing: the pages' final bytes are what the release lists).
for (const urlPath of files.filter((f) => f.endsWith(".html"))) {
  const html = fs.readFileSync(onDisk(urlPath), "utf8");
  const updated = addIntegrity(html, urlPath);
  if (updated !== html) fs.writeFileSync(onDisk(urlPath), updated);
}

// 2. The manifest.
const listed = {};
for (const urlPath of files) {
  if (!UNLISTED.has(urlPath)) listed[urlPath] = sri(fs.readFileSync(onDisk(urlPath)));
}
const manifest = Buffer.from(`${JSON.stringify({ version: args.version, files: listed }, null, 1)}\n`);
fs.writeFileSync(onDisk("/release.json"), manifest);

// 3. The signature.
const key = releaseKey();
const signature = crypto.sign(null, manifest, key);
fs.writeFileSync(onDisk("/release.sig"), signature.toString("base64url"));

// 4. The pins in the service worker.
const sw = onDisk("/app/sw.js");
if (fs.existsSync(sw)) {
  const publicKey = crypto.createPublicKey(key).export({ format: "jwk" }).x;
  const manifestHash = crypto.createHash("sha256").update(manifest).digest("base64url");
  const source = fs.readFileSync(sw, "utf8");
  if (!source.includes("__RELEASE_PUBLIC_KEY__") || !source.includes("__RELEASE_MANIFEST_SHA256__")) {
    fail("app/sw.js lacks the placeholders __RELEASE_PUBLIC_KEY__ and __RELEASE_MANIFEST_SHA256__");
  }
  fs.writeFileSync(
    sw,
    source
      .replaceAll("__RELEASE_PUBLIC_KEY__", publicKey)
      .replaceAll("__RELEASE_MANIFEST_SHA256__", manifestHash),
  );
} else {
  console.error("web-release: WARNING: no app/sw.js to pin the release in");
}
console.error(`web-release: ${args.version}: ${Object.keys(listed).length} files, signed`);
