// What the app keeps in memory while it runs: the core module, the IndexedDB store, the open
// wallet, the identity acting now, and the update state. Nothing here is written to disk except
// the chosen identity's DID (not secret) and the route to return to after unlocking.

import * as core from "../common/core.js";

export const DB_NAME = "corroborate-wallet";
const IDENTITY_KEY = "corroborate.identity";

export const state = {
  core: null,
  store: null,
  wallet: null,
  identities: [],
  update: { state: "unknown", version: null },
  pendingRoute: null,
};

/** Loads the wasm once and opens the store. */
export async function ready() {
  if (!state.core) {
    await core.loadCore();
    state.core = core;
    state.store = new core.IdbStore(DB_NAME);
  }
  return state.core;
}

export function wallet() {
  // "locked", not "no_wallet": there is a wallet on this device, and app.js leads to unlock.
  if (!state.wallet) throw Object.assign(new Error("The wallet is locked."), { name: "WalletFailure", code: "locked" });
  return state.wallet;
}

/** The identity that acts (its DID), or undefined for the wallet's first. */
export function actingAs() {
  let did = null;
  try {
    did = localStorage.getItem(IDENTITY_KEY);
  } catch {
    did = null;
  }
  if (did && state.identities.some((i) => i.did === did)) return did;
  return undefined;
}

export function currentIdentity() {
  const did = actingAs();
  return state.identities.find((i) => i.did === did) || state.identities[0] || null;
}

export function setActingAs(did) {
  try {
    localStorage.setItem(IDENTITY_KEY, did);
  } catch {
    // Only for this page's lifetime then.
  }
}

export async function refreshIdentities() {
  state.identities = state.wallet ? await state.wallet.identities() : [];
  return state.identities;
}

export function lock() {
  if (state.wallet && typeof state.wallet.free === "function") state.wallet.free();
  state.wallet = null;
  state.identities = [];
}

/** Reads a field in camelCase or, from older shapes, snake_case. */
export function field(object, name) {
  if (!object) return undefined;
  if (object[name] !== undefined) return object[name];
  const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return object[snake];
}

/** Lets the browser paint (progress indicators) before a long synchronous step in the core. */
export function nextPaint() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 30)));
}
