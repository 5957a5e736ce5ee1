// Updates of the citizen wallet, under the current release's control. The service worker
// (/app/sw.js) never takes over by itself: when a new one has installed and waits, this module,
// running the CURRENT release, fetches the new release.json and release.sig, checks the signature
// with the release key pinned in the current worker and that it is the release the waiting worker
// installed, and only then tells the waiting worker to activate. The page is told through
// onStatus:
//   {state: "current", version}   the running release
//   {state: "ready", version}     a checked new release is active: reload to use it
//   {state: "refused", reason}    a new release failed the check and stays waiting (checked
//                                 again later: a failed check is never taken as final)
//   {state: "failed", reason}     a new release failed to install (the worker became redundant)
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

async function fetchBytes(path) {
  const response = await fetch(path, { cache: "no-store", redirect: "error" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/**
 * Checks the release now on the server against the key the current worker pins, and that the
 * waiting worker installed exactly it. Returns the new version; throws with the reason.
 */
async function checkNewRelease(current, waiting) {
  if (!current.publicKey || current.publicKey.startsWith("__")) {
    throw new Error("the current release pins no release key");
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
  const signature = base64urlBytes(new TextDecoder().decode(sig));
  if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, signature, bytes))) {
    throw new Error("the new release is not signed with the current release key");
  }
  if (base64url(await crypto.subtle.digest("SHA-256", bytes)) !== next.manifestSha256) {
    throw new Error("the waiting version is not the signed release on the server");
  }
  if (next.publicKey !== current.publicKey) {
    // A key change must itself come from a release signed with the old key (checked above);
    // it is allowed, and the next update is checked with the new key.
    console.info("corroborate: the release key changes with this update");
  }
  const manifest = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof manifest.version !== "string") throw new Error("release.json has no version");
  return manifest.version;
}

/**
 * Registers the wallet's service worker and follows its updates. Returns the registration.
 * @param {(status: {state: string, version?: string|null, reason?: string}) => void} onStatus
 */
export async function watchForUpdates(onStatus) {
  const registration = await navigator.serviceWorker.register(SCRIPT, {
    scope: SCOPE,
    updateViaCache: "none",
  });
  // Workers whose check succeeded (they were told to activate), and those being checked now.
  const handled = new WeakSet();
  const checking = new WeakSet();

  // A new release took over: reload so the whole page comes from it (once; a first install,
  // with no controller before, needs no reload).
  let reloading = false;
  const hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (!hadController || reloading) return;
    reloading = true;
    location.reload();
  });

  const reportCurrent = async (worker) => {
    try {
      onStatus({ state: "current", version: (await ask(worker)).version });
    } catch (error) {
      onStatus({ state: "refused", reason: error.message });
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
      const version = await checkNewRelease(current, waiting);
      handled.add(waiting);
      waiting.postMessage({ type: "activate" });
      onStatus({ state: "ready", version });
    } catch (error) {
      onStatus({ state: "refused", reason: error.message });
    } finally {
      checking.delete(waiting);
    }
  };

  const follow = (worker) => {
    if (!worker) return;
    let installed = false;
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed") {
        installed = true;
        consider();
      }
      // Redundant without ever installing: its install failed (a file did not match the signed
      // release, or the network failed). Replaced later, it is not a failure.
      if (worker.state === "redundant" && !installed) {
        onStatus({ state: "failed", reason: "the new version did not install" });
      }
      // A first install (no earlier release) activates by itself.
      if (worker.state === "activated" && !handled.has(worker)) reportCurrent(worker);
    });
  };

  registration.addEventListener("updatefound", () => follow(registration.installing));
  follow(registration.installing);
  if (registration.active) await reportCurrent(registration.active);
  await consider();
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
