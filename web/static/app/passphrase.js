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

/** Whether this browser offers WebAuthn and this core can use a passkey's PRF output. */
export function passkeySupported() {
  return Boolean(
    window.PublicKeyCredential && navigator.credentials && state.core && state.core.WebWallet && typeof state.core.WebWallet.openWithPasskey === "function",
  );
}

/** False when the browser says outright that it has no PRF (older ones cannot say: null). */
export async function prfOffered() {
  try {
    if (typeof PublicKeyCredential.getClientCapabilities !== "function") return null;
    const capabilities = await PublicKeyCredential.getClientCapabilities();
    return "extension:prf" in capabilities ? Boolean(capabilities["extension:prf"]) : null;
  } catch {
    return null;
  }
}

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64 = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

/** A WebAuthn failure (a DOMException) as a translated failure; ours pass through. */
function webauthnFailure(error) {
  if (error && error.code && error.message && !(error instanceof DOMException)) return error;
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "AbortError") return { code: "cancelled", message: t("passkey.cancelled") };
  if (name === "InvalidStateError") return { code: "passkey_exists", message: t("passkey.exists") };
  if (name === "SecurityError") return { code: "passkey_insecure", message: t("passkey.insecure") };
  return { code: "passkey_failed", message: t("passkey.failed", { reason: (error && error.message) || String(error) }) };
}

/** The PRF output in a credential's `prf` extension result, or null. */
function prfBytes(prf) {
  return prf && prf.results && prf.results.first ? new Uint8Array(prf.results.first) : null;
}

/**
 * Creates a passkey with the PRF extension and asks it for its output on a fresh random input;
 * `enrolled` (credential ids, base64url) are excluded, so one authenticator is not enrolled twice.
 * → `{id, salt, secret}` (id and salt base64url, secret 32 bytes), for `WebWallet.enablePasskey`.
 */
export async function enrollPasskey(label, enrolled = []) {
  const salt = crypto.getRandomValues(new Uint8Array(32));
  try {
    const created = await navigator.credentials.create({
      publicKey: {
        rp: { name: "Corroborate", id: location.hostname },
        user: { id: crypto.getRandomValues(new Uint8Array(16)), name: label || "wallet", displayName: label || "wallet" },
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        pubKeyCredParams: [{ type: "public-key", alg: -8 }, { type: "public-key", alg: -7 }, { type: "public-key", alg: -257 }],
        authenticatorSelection: { residentKey: "preferred", userVerification: "required" },
        excludeCredentials: enrolled.map((id) => ({ type: "public-key", id: unb64(id) })),
        extensions: { prf: { eval: { first: salt } } },
      },
    });
    const prf = created.getClientExtensionResults().prf;
    if (!prf || prf.enabled === false) throw { code: "no_prf", message: t("passkey.noPrf") };
    const id = b64(created.rawId);
    // Some authenticators give the output only when asked with an assertion.
    const secret = prfBytes(prf) || (await passkeySecret([{ id, salt: b64(salt) }])).secret;
    return { id, salt: b64(salt), secret };
  } catch (error) {
    throw webauthnFailure(error);
  }
}

/**
 * Asks one of the enrolled passkeys (`[{id, salt}]`, from `WebWallet.passkeysOf`) for its PRF
 * output on its own input. → `{id, secret}`, the passkey the person used.
 */
export async function passkeySecret(enrolled) {
  if (!enrolled || enrolled.length === 0) throw { code: "no_passkey", message: t("passkey.none") };
  try {
    const evalByCredential = Object.fromEntries(enrolled.map((p) => [p.id, { first: unb64(p.salt) }]));
    const assertion = await navigator.credentials.get({
      publicKey: {
        rpId: location.hostname,
        challenge: crypto.getRandomValues(new Uint8Array(32)),
        allowCredentials: enrolled.map((p) => ({ type: "public-key", id: unb64(p.id) })),
        userVerification: "required",
        extensions: { prf: { evalByCredential } },
      },
    });
    const secret = prfBytes(assertion.getClientExtensionResults().prf);
    if (!secret) throw { code: "no_prf", message: t("passkey.noPrf") };
    return { id: b64(assertion.rawId), secret };
  } catch (error) {
    throw webauthnFailure(error);
  }
}
