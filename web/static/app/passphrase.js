// Passphrase fields (entered twice, with a strength hint), the progress shown while Argon2id
// derives the key (a second or two at the wallet's strong parameters), and passkey (WebAuthn PRF)
// support, offered only when both the browser and the core have it.

import { t } from "../common/i18n.js";
import { el } from "../common/ui.js";
import { state } from "./state.js";

export const MIN_LENGTH = 10;

/** "weak" | "fair" | "strong", from length and variety (a hint, not a guarantee). */
export function strength(passphrase) {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((r) => r.test(passphrase)).length;
  const words = passphrase.trim().split(/\s+/).filter(Boolean).length;
  if (passphrase.length < MIN_LENGTH) return "weak";
  if (passphrase.length >= 20 || (words >= 4 && passphrase.length >= 16) || (passphrase.length >= 14 && classes >= 3)) return "strong";
  return "fair";
}

/** Two passphrase inputs with a live strength hint; value() returns the passphrase or throws a message. */
export function newPassphraseFields(prefix) {
  const first = el("input", { id: `${prefix}-passphrase`, type: "password", autocomplete: "new-password", required: true, "aria-describedby": `${prefix}-strength ${prefix}-hint` });
  const second = el("input", { id: `${prefix}-passphrase2`, type: "password", autocomplete: "new-password", required: true });
  const hint = el("p", { id: `${prefix}-strength`, class: "strength", "aria-live": "polite" });
  first.addEventListener("input", () => {
    const level = strength(first.value);
    hint.className = `strength ${level}`;
    hint.textContent = first.value ? t(`passphrase.${level}`) : "";
  });
  const node = el(
    "div",
    { class: "stack" },
    el("div", { class: "field" }, el("label", { for: first.id }, t("passphrase.new")), el("span", { class: "hint", id: `${prefix}-hint` }, t("passphrase.hint", { min: MIN_LENGTH })), first, hint),
    el("div", { class: "field" }, el("label", { for: second.id }, t("passphrase.repeat")), second),
  );
  return {
    node,
    value() {
      if (first.value.length < MIN_LENGTH) {
        first.setAttribute("aria-invalid", "true");
        first.focus();
        throw { code: "invalid", message: t("passphrase.tooShort", { min: MIN_LENGTH }) };
      }
      first.removeAttribute("aria-invalid");
      if (first.value !== second.value) {
        second.setAttribute("aria-invalid", "true");
        second.focus();
        throw { code: "invalid", message: t("passphrase.mismatch") };
      }
      second.removeAttribute("aria-invalid");
      return first.value;
    },
  };
}

/** An indeterminate progress bar with a live message, shown while the key is derived. */
export function kdfProgress() {
  const node = el("div", { class: "stack", role: "status", "aria-live": "polite", hidden: true, dataset: { testid: "kdf-progress" } });
  return {
    node,
    show(messageKey = "passphrase.deriving") {
      node.hidden = false;
      node.replaceChildren(el("p", {}, t(messageKey)), el("progress", { "aria-label": t(messageKey) }));
    },
    hide() {
      node.hidden = true;
      node.replaceChildren();
    },
  };
}

const PASSKEY_KEY = "corroborate.passkey";

export function passkeySupported() {
  return Boolean(
    window.PublicKeyCredential && navigator.credentials && state.core && state.core.WebWallet && typeof state.core.WebWallet.openWithSecret === "function",
  );
}

export function passkeyEnrolled() {
  try {
    return Boolean(localStorage.getItem(PASSKEY_KEY));
  } catch {
    return false;
  }
}

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64 = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

/** Creates a passkey with the PRF extension and returns its PRF secret (32 bytes). */
export async function enrollPasskey(label) {
  const salt = crypto.getRandomValues(new Uint8Array(32));
  const created = await navigator.credentials.create({
    publicKey: {
      rp: { name: "Corroborate", id: location.hostname },
      user: { id: crypto.getRandomValues(new Uint8Array(16)), name: label || "wallet", displayName: label || "wallet" },
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      pubKeyCredParams: [{ type: "public-key", alg: -7 }, { type: "public-key", alg: -257 }],
      authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
      extensions: { prf: { eval: { first: salt } } },
    },
  });
  const prf = created.getClientExtensionResults().prf;
  if (!prf || prf.enabled === false) throw { code: "invalid", message: t("passkey.noPrf") };
  const record = { id: b64(created.rawId), salt: b64(salt) };
  const secret = prf.results && prf.results.first ? new Uint8Array(prf.results.first) : await passkeySecret(record);
  localStorage.setItem(PASSKEY_KEY, JSON.stringify(record));
  return secret;
}

/** Asks the enrolled passkey for its PRF secret. */
export async function passkeySecret(record = JSON.parse(localStorage.getItem(PASSKEY_KEY) || "null")) {
  if (!record) throw { code: "not_found", message: t("passkey.none") };
  const assertion = await navigator.credentials.get({
    publicKey: {
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      allowCredentials: [{ type: "public-key", id: unb64(record.id) }],
      userVerification: "required",
      extensions: { prf: { eval: { first: unb64(record.salt) } } },
    },
  });
  const prf = assertion.getClientExtensionResults().prf;
  if (!prf || !prf.results || !prf.results.first) throw { code: "invalid", message: t("passkey.noPrf") };
  return new Uint8Array(prf.results.first);
}

export function forgetPasskey() {
  try {
    localStorage.removeItem(PASSKEY_KEY);
  } catch {
    // Nothing kept.
  }
}
