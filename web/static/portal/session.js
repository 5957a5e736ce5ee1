// Signing in to the service with a key that never leaves the browser, for the attester portal
// and the government dashboard (the dashboard imports this module). Each app keeps a WebWallet
// in its own IndexedDB database holding the operator's or civil servant's identity: the first
// visit creates it under a passphrase and shows its DID, so that an administrator can accredit
// it or make it an operator; later visits unlock it. Signing in asks the wallet for a bearer
// token (a presentation signed with the identity's key) and GET /auth/me for the roles. The
// token is kept in memory only: a reload signs out.

import { IdbStore, WebWallet, loadCore } from "../common/core.js";
import { api } from "../common/api.js";
import { t } from "../common/i18n.js";
import { announce, busy, clear, copyButton, el, showError } from "../common/ui.js";

/** Tests may ask for a fast key derivation with ?fast-kdf=1 (never for real use). */
function fastKdf() {
  return new URLSearchParams(location.search).get("fast-kdf") === "1";
}

let nextId = 0;
function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled input: returns {field, input}. */
export function field(labelKey, attrs = {}, hintKey = null) {
  const id = attrs.id || uid("f");
  const hintId = hintKey ? `${id}-hint` : null;
  const input = el(attrs.tag || "input", { ...attrs, tag: null, id, "aria-describedby": hintId });
  const wrapper = el("div", { class: "field" }, el("label", { for: id }, t(labelKey)), hintKey ? el("span", { class: "hint", id: hintId }, t(hintKey)) : null, input);
  return { field: wrapper, input };
}

export class Session {
  constructor(dbName) {
    this.dbName = dbName;
    this.wallet = null;
    this.identity = null;
    this.token = null;
    this.me = null;
    this.listeners = new Set();
  }

  get signedIn() {
    return this.token !== null && this.me !== null;
  }

  has(role) {
    return Boolean(this.me && Array.isArray(this.me.roles) && this.me.roles.includes(role));
  }

  onChange(listener) {
    this.listeners.add(listener);
  }

  changed() {
    for (const listener of this.listeners) listener(this);
  }

  async store() {
    await loadCore();
    return new IdbStore(this.dbName);
  }

  async exists() {
    return WebWallet.exists(await this.store());
  }

  async adopt(wallet, label) {
    this.wallet = wallet;
    let identities = await wallet.identities();
    if (!identities.length) {
      await wallet.newIdentity(label);
      identities = await wallet.identities();
    }
    this.identity = identities[0];
    this.changed();
  }

  async create(passphrase, label) {
    const store = await this.store();
    const wallet = await WebWallet.create(store, { label, service: location.origin, fastKdf: fastKdf() }, passphrase);
    await this.adopt(wallet, label);
  }

  async unlock(passphrase) {
    const store = await this.store();
    const wallet = await WebWallet.open(store, passphrase, location.origin);
    await this.adopt(wallet, "");
  }

  async signIn() {
    const token = await this.wallet.token();
    const me = await api("GET", "/auth/me", { token });
    this.token = token;
    this.me = me;
    this.changed();
  }

  async signOut() {
    const token = this.token;
    this.token = null;
    this.me = null;
    if (token) {
      try {
        await api("DELETE", "/auth/tokens/current", { token });
      } catch {
        // The token is forgotten here either way; an expired one needs no logout.
      }
    }
    this.changed();
  }

  lock() {
    this.signOut();
    this.wallet = null;
    this.identity = null;
    this.changed();
  }

  /** api() with this session's token; a 401 means the session ended: forget the token. */
  async call(method, path, options = {}) {
    try {
      return await api(method, path, { ...options, token: this.token });
    } catch (failure) {
      if (failure && failure.status === 401 && this.token) {
        this.token = null;
        this.me = null;
        this.changed();
      }
      throw failure;
    }
  }
}

/** The DID, in full, with a copy button. */
function didPanel(session) {
  const did = session.identity ? session.identity.did : "";
  return el(
    "section",
    { class: "card", "aria-labelledby": "my-did-title" },
    el("h2", { id: "my-did-title" }, t("session.yourIdentity")),
    el("p", { class: "hint" }, t("session.didHint")),
    el("p", {}, el("code", { class: "did", dataset: { testid: "my-did" } }, did)),
    el("div", { class: "actions" }, copyButton(did, t("session.copyDid"))),
  );
}

/** Renders the sign-in steps into container: create or unlock, then sign in. */
export async function renderSignIn(session, container, { defaultLabel }) {
  clear(container);
  const errors = el("div", { "aria-live": "assertive" });
  const heading = el("h1", { tabindex: "-1" }, t("session.title"));
  container.append(heading);

  if (session.wallet) {
    const button = el("button", { type: "button", class: "primary" }, t("session.signIn"));
    button.addEventListener("click", async () => {
      showError(errors, null);
      try {
        await busy(button, session.signIn());
        announce(t("session.signedIn"));
      } catch (failure) {
        showError(errors, failure);
      }
    });
    const lockButton = el("button", { type: "button", class: "secondary", onclick: () => session.lock() }, t("session.lock"));
    container.append(didPanel(session), el("p", {}, t("session.signInHint")), el("div", { class: "actions" }, button, lockButton), errors);
    return;
  }

  const status = el("p", { role: "status" }, t("session.opening"));
  container.append(status);
  let exists;
  try {
    exists = await session.exists();
  } catch (failure) {
    status.remove();
    container.append(errors);
    showError(errors, failure);
    return;
  }
  status.remove();

  if (!exists) {
    const label = field("session.label", { type: "text", value: defaultLabel, required: true, autocomplete: "off" }, "session.labelHint");
    const pass = field("session.newPassphrase", { type: "password", required: true, minlength: "10", autocomplete: "new-password" }, "session.passphraseHint");
    const again = field("session.repeatPassphrase", { type: "password", required: true, autocomplete: "new-password" });
    const submit = el("button", { type: "submit", class: "primary" }, t("session.create"));
    const form = el(
      "form",
      { "aria-labelledby": "create-title", novalidate: true },
      el("h2", { id: "create-title" }, t("session.createTitle")),
      el("p", {}, t("session.createIntro")),
      fastKdf() ? el("p", { class: "warning" }, t("session.fastKdfWarning")) : null,
      label.field,
      pass.field,
      again.field,
      el("div", { class: "actions" }, submit),
      errors,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(errors, null);
      if (pass.input.value.length < 10) {
        pass.input.setAttribute("aria-invalid", "true");
        showError(errors, { message: t("session.passphraseTooShort") });
        pass.input.focus();
        return;
      }
      if (pass.input.value !== again.input.value) {
        again.input.setAttribute("aria-invalid", "true");
        showError(errors, { message: t("session.passphraseMismatch") });
        again.input.focus();
        return;
      }
      try {
        announce(t("session.creating"));
        await busy(submit, session.create(pass.input.value, label.input.value.trim() || defaultLabel));
        announce(t("session.created"));
      } catch (failure) {
        showError(errors, failure);
      }
    });
    container.append(form);
    label.input.focus();
    return;
  }

  const pass = field("session.passphrase", { type: "password", required: true, autocomplete: "current-password" });
  const submit = el("button", { type: "submit", class: "primary" }, t("session.unlock"));
  const form = el(
    "form",
    { "aria-labelledby": "unlock-title", novalidate: true },
    el("h2", { id: "unlock-title" }, t("session.unlockTitle")),
    el("p", {}, t("session.unlockIntro")),
    pass.field,
    el("div", { class: "actions" }, submit),
    errors,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      await busy(submit, session.unlock(pass.input.value));
    } catch (failure) {
      pass.input.setAttribute("aria-invalid", "true");
      showError(errors, failure && failure.code === "wrong_passphrase" ? { message: t("session.wrongPassphrase") } : failure);
      pass.input.focus();
    }
  });
  container.append(form);
  pass.input.focus();
}

/** The header's signed-in box: the DID (shortened, full in its title), roles, sign out. */
export function signedInBox(session) {
  if (!session.signedIn) return null;
  const did = session.me.did;
  const short = did.length > 28 ? `${did.slice(0, 16)}…${did.slice(-8)}` : did;
  const roles = (session.me.roles || []).map((role) => t(`session.role.${role}`)).join(", ");
  return el(
    "div",
    { class: "signed-in" },
    el("span", { class: "mono", title: did }, short),
    el("span", { class: "badge neutral" }, roles || t("session.noRole")),
    el("button", { type: "button", class: "secondary", onclick: () => session.signOut() }, t("session.signOut")),
  );
}
