// The wallet core (Rust, compiled to WebAssembly), loaded once. Pages use it only through this
// module: `const core = await loadCore(); const w = await core.WebWallet.open(store, pass);`
// Failures are Errors named "WalletFailure" with a stable `code` (see isWalletFailure).
//
// What this module adds to the wasm class:
// - create, restore, recover and erase run under a cross-tab Web Lock named after the store's
//   database, so two tabs (or a double submit) never write two wallets into one database;
// - a failure of a store that another tab erased meanwhile has code "reload".
import init, { WebWallet, qrSvg } from "../pkg/corroborate_wallet_web.js";
import { IdbStore } from "./idb-store.js";

let loading = null;

export function loadCore() {
  if (!loading) {
    loading = init({ module_or_path: new URL("../pkg/corroborate_wallet_web_bg.wasm", import.meta.url) }).then(() => ({
      WebWallet,
      IdbStore,
      qrSvg,
    }));
  }
  return loading;
}

export function isWalletFailure(error) {
  return error instanceof Error && error.name === "WalletFailure" && typeof error.code === "string";
}

/** The store each open wallet works on (for erase's lock and for "reload" failures). */
const stores = new WeakMap();

function lockName(store) {
  return `corroborate:${store.dbName}`;
}

/** Runs `job` holding the store's lock in every tab of this origin (where Web Locks exist). */
function exclusive(store, job) {
  if (!store || !store.dbName || !globalThis.navigator || !navigator.locks) return job();
  return navigator.locks.request(lockName(store), () => job());
}

function reloadIfDead(store, error) {
  if (store && store.dead && isWalletFailure(error) && error.code === "storage") {
    error.code = "reload";
  }
  return error;
}

async function guarded(store, job) {
  try {
    const result = await job();
    if (result instanceof WebWallet) stores.set(result, store);
    return result;
  } catch (error) {
    throw reloadIfDead(store, error);
  }
}

const raw = {
  create: WebWallet.create,
  open: WebWallet.open,
  openWithPasskey: WebWallet.openWithPasskey,
  restore: WebWallet.restore,
  recover: WebWallet.recover,
  erase: WebWallet.prototype.erase,
};

// The wasm class's statics and methods, wrapped in place so `WebWallet` stays the one class.
WebWallet.create = (store, options, passphrase) =>
  exclusive(store, () => guarded(store, () => raw.create.call(WebWallet, store, options, passphrase)));
WebWallet.restore = (store, ...rest) => exclusive(store, () => guarded(store, () => raw.restore.call(WebWallet, store, ...rest)));
WebWallet.recover = (store, ...rest) => exclusive(store, () => guarded(store, () => raw.recover.call(WebWallet, store, ...rest)));
WebWallet.open = (store, ...rest) => guarded(store, () => raw.open.call(WebWallet, store, ...rest));
WebWallet.openWithPasskey = (store, ...rest) => guarded(store, () => raw.openWithPasskey.call(WebWallet, store, ...rest));
WebWallet.prototype.erase = function erase() {
  const store = stores.get(this);
  return exclusive(store, () => guarded(store, () => raw.erase.call(this)));
};

// Every other asynchronous method: a dead store's failure becomes "reload".
for (const name of Object.getOwnPropertyNames(WebWallet.prototype)) {
  const method = WebWallet.prototype[name];
  if (name === "constructor" || name === "erase" || typeof method !== "function") continue;
  if (["info", "lock", "free"].includes(name) || name.startsWith("__")) continue;
  WebWallet.prototype[name] = function (...args) {
    const result = method.apply(this, args);
    if (!result || typeof result.then !== "function") return result;
    return result.catch((error) => {
      throw reloadIfDead(stores.get(this), error);
    });
  };
}

export { WebWallet, IdbStore, qrSvg };
