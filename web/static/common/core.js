// The wallet core (Rust, compiled to WebAssembly), loaded once. Pages use it only through this
// module: `const core = await loadCore(); const w = await core.WebWallet.open(store, pass);`
// Failures are Errors named "WalletFailure" with a stable `code` (see isWalletFailure).
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

export { WebWallet, IdbStore, qrSvg };
