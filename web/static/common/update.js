// Updates of the citizen wallet, under the current release's control. The service worker
// (/app/sw.js) never takes over by itself: when a new one has installed and waits, this module,
// running the CURRENT release, fetches the new release.json and release.sig, checks the signature
// with the release key pinned in the current worker and that it is the release the waiting worker
// installed, and then offers it: the waiting worker activates only when the person accepts (a
// reload in the middle of a half-filled form would lose it). The page is told through onStatus:
//   {version}                     the running release's version (whatever the update state)
//   {state: "current"}            no new release seen in this page
//   {state: "installing"}         a new release is being fetched and checked by its worker
//   {state: "ready", next, accept}  a checked new release waits: accept() activates it, and the
//                                 page reloads into it
//   {state: "refused", code, reason}  a new release failed the check and stays waiting (checked
//                                 again later: a failed check is never taken as final)
//   {state: "failed", code, reason}   a new release failed to install (a file did not match its
//                                 signed hash, or could not be fetched): the worker is gone
//   {state: "error", reason}      the running worker did not answer
// code is one of "signature", "pin", "hash", "fetch", "unsigned", "install" (see sw.js), else
// absent; reason is the English detail.
// When a new worker takes control, every page reloads: modules of the old release must never
// import screens of the new one.
// Residual risks (a waiting worker still activates once every page of the old one is closed):
// docs/threat-model.md, "The web wallet's code".

const SCRIPT = "/app/sw.js";
const SCOPE = "/app/";

function base64urlBytes(text) {
  const base64 = text.trim().replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function base64url(bytes) {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Asks a worker which release it holds: {version, publicKey, manifestSha256}. */
function ask(worker, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => reject(new Error("the service worker did not answer")), timeoutMs);
    channel.port1.onmessage = (event) => {
      clearTimeout(timer);
      if (event.data && event.data.error) reject(new Error(event.data.error));
      else resolve(event.data);
    };
    worker.postMessage({ type: "release" }, [channel.port2]);
  });
}

/** An Error with a code the page translates (update.reason.CODE). */
function failure(code, message) {
  return Object.assign(new Error(message), { code });
}

async function fetchBytes(path) {
  let response;
  try {
    response = await fetch(path, { cache: "no-store", redirect: "error" });
  } catch (error) {
    throw failure("fetch", `${path}: ${error.message}`);
  }
  if (!response.ok) throw failure("fetch", `${path}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/**
 * Checks the release now on the server against the key the current worker pins, and that the
 * waiting worker installed exactly it. Returns the new version; throws with the reason.
 */
async function checkNewRelease(current, waiting) {
  if (!current.publicKey || current.publicKey.startsWith("__")) {
    throw failure("unsigned", "the current release pins no release key");
  }
  const next = await ask(waiting);
  const [bytes, sig] = await Promise.all([fetchBytes("/release.json"), fetchBytes("/release.sig")]);
  const key = await crypto.subtle.importKey(
    "raw",
    base64urlBytes(current.publicKey),
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
    throw failure("signature", "the new release is not signed with the current release key");
  }
  if (base64url(await crypto.subtle.digest("SHA-256", bytes)) !== next.manifestSha256) {
    throw failure("pin", "the waiting version is not the signed release on the server");
  }
  if (next.publicKey !== current.publicKey) {
    // A key change must itself come from a release signed with the old key (checked above);
    // it is allowed, and the next update is checked with the new key.
    console.info("corroborate: the release key changes with this update");
  }
  const manifest = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof manifest.version !== "string") throw failure("pin", "release.json has no version");
  return manifest.version;
}

/**
 * Registers the wallet's service worker and follows its updates. Returns the registration.
 * @param {(status: {state?: string, version?: string|null, next?: string, code?: string,
 *   reason?: string, accept?: () => void}) => void} onStatus
 */
export async function watchForUpdates(onStatus) {
  const registration = await navigator.serviceWorker.register(SCRIPT, {
    scope: SCOPE,
    updateViaCache: "none",
  });
  // Workers whose check succeeded (offered to the person), and those being checked now.
  const handled = new WeakSet();
  const checking = new WeakSet();
  // Whether this page has seen a new release (then "current" is no longer the news).
  let news = false;
  const report = (status) => {
    if (status.state && status.state !== "current") news = true;
    onStatus(status);
  };

  // A new release took over: reload so the whole page comes from it (once; a first install,
  // with no controller before, needs no reload).
  let reloading = false;
  const hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (!hadController || reloading) return;
    reloading = true;
    location.reload();
  });

  // A new worker whose install failed says why (sw.js posts it before giving up).
  let failureSaid = false;
  navigator.serviceWorker.addEventListener("message", (event) => {
    const data = event.data || {};
    if (data.type !== "install-failed") return;
    failureSaid = true;
    report({ state: "failed", code: data.code || "install", reason: data.reason || "" });
  });
  navigator.serviceWorker.startMessages();

  const reportCurrent = async (worker) => {
    try {
      const { version } = await ask(worker);
      onStatus(news ? { version } : { state: "current", version });
    } catch (error) {
      report({ state: "error", reason: error.message });
    }
  };

  const consider = async () => {
    const { active, waiting } = registration;
    // Without an active worker there is nothing to check against: the browser activates the
    // first one by itself.
    if (!waiting || !active || handled.has(waiting) || checking.has(waiting)) return;
    checking.add(waiting);
    try {
      const current = await ask(active);
      const next = await checkNewRelease(current, waiting);
      handled.add(waiting);
      report({ state: "ready", next, accept: () => waiting.postMessage({ type: "activate" }) });
    } catch (error) {
      report({ state: "refused", code: error.code, reason: error.message });
    } finally {
      checking.delete(waiting);
    }
  };

  const follow = (worker) => {
    if (!worker) return;
    let installed = false;
    failureSaid = false;
    if (registration.active) report({ state: "installing" });
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed") {
        installed = true;
        consider();
      }
      // Redundant without ever installing: its install failed (a file did not match the signed
      // release, or the network failed). Replaced later, it is not a failure.
      if (worker.state === "redundant" && !installed && !failureSaid) {
        report({ state: "failed", code: "install", reason: "the new version did not install" });
      }
      // A first install (no earlier release) activates by itself.
      if (worker.state === "activated" && !handled.has(worker)) reportCurrent(worker);
    });
  };

  registration.addEventListener("updatefound", () => follow(registration.installing));
  follow(registration.installing);
  if (registration.active) await reportCurrent(registration.active);
  await consider();
  // The browser looked for a new release when this page loaded, maybe before anything here
  // listened (a failed install would go unseen): look again now that this module follows.
  if (registration.active) registration.update().catch(() => {});
  // Look for a new release now and then while the app stays open (the browser also looks on
  // each navigation).
  setInterval(
    () =>
      registration
        .update()
        .catch(() => {})
        .then(consider),
    60 * 60 * 1000,
  );
  return registration;
}
