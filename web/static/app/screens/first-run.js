// First run: create a wallet (passphrase twice, a label for the first identity; the service is
// this page's origin), restore one from a backup file, or recover one with a backup and the
// shares of trusted contacts. Ends by showing the new identity's DID in full.

import { t } from "../../common/i18n.js";
import { busy, el, readFile, showError, copyButton } from "../../common/ui.js";
import { continueToPending } from "../app.js";
import { kdfProgress, newPassphraseFields } from "../passphrase.js";
import { nextPaint, refreshIdentities, setActingAs, state } from "../state.js";

// One wallet creation at a time in this page: a double Enter or a second form must not start
// another before the first is done (core.js also locks across tabs).
let inFlight = false;

/**
 * Runs a submit of `form` unless one is already running: the form is disabled synchronously,
 * before anything awaits, and enabled again when it fails.
 */
async function submitOnce(form, job) {
  if (inFlight) return;
  inFlight = true;
  const fieldset = form.elements;
  const disabled = [...fieldset].filter((e) => !e.disabled);
  disabled.forEach((e) => (e.disabled = true));
  form.setAttribute("aria-busy", "true");
  try {
    await job();
  } finally {
    inFlight = false;
    form.removeAttribute("aria-busy");
    disabled.forEach((e) => (e.disabled = false));
  }
}

export function render() {
  if (state.wallet && state.justCreated) return el("section", { dataset: { testid: "first-run" } }, el("h1", {}, t("firstRun.title")), doneView());
  const panel = el("div", {});
  const modes = ["create", "restore", "recover"];
  const buttons = modes.map((mode) =>
    el("button", { type: "button", class: "secondary", "aria-pressed": "false", dataset: { testid: `first-run-${mode}` }, onclick: () => show(mode) }, t(`firstRun.mode.${mode}`)),
  );
  function show(mode) {
    buttons.forEach((b, i) => b.setAttribute("aria-pressed", String(modes[i] === mode)));
    panel.replaceChildren(mode === "create" ? createForm() : mode === "restore" ? restoreForm() : recoverForm());
  }
  show("create");
  return el(
    "section",
    { dataset: { testid: "first-run" } },
    el("h1", {}, t("firstRun.title")),
    el("p", {}, t("firstRun.intro")),
    el("div", { class: "tabs", role: "group", "aria-label": t("firstRun.modes") }, buttons),
    panel,
  );
}

async function opened(wallet, container) {
  state.wallet = wallet;
  state.justCreated = true;
  const identities = await refreshIdentities();
  if (identities[0]) setActingAs(identities[0].did);
  container.replaceChildren(doneView());
  container.querySelector("h2").focus();
}

function doneView() {
  const first = state.identities[0] || {};
  return el(
    "section",
    { class: "stack", dataset: { testid: "first-run-done" } },
    el("h2", { tabindex: "-1" }, t("firstRun.done")),
    el("p", {}, t("firstRun.yourDid")),
    el("div", { class: "did-box" }, el("code", { class: "did", dataset: { testid: "my-did" } }, first.did || ""), el("div", { class: "actions" }, copyButton(first.did || ""))),
    el("p", { class: "notice" }, t("firstRun.backupAdvice")),
    el("div", { class: "actions" }, el("button", { type: "button", dataset: { testid: "first-run-continue" }, onclick: () => continueToPending() }, t("firstRun.continue"))),
  );
}

function createForm() {
  const label = el("input", { id: "create-label", value: "me", required: true, autocomplete: "off" });
  const passphrase = newPassphraseFields("create");
  const progress = kdfProgress();
  const errors = el("div", { "aria-live": "assertive" });
  const submit = el("button", { type: "submit", dataset: { testid: "create-wallet" } }, t("firstRun.create"));
  const form = el(
    "form",
    { novalidate: true },
    el("h2", {}, t("firstRun.mode.create")),
    el("div", { class: "field" }, el("label", { for: label.id }, t("firstRun.label")), el("span", { class: "hint" }, t("firstRun.labelHint")), label),
    passphrase.node,
    el("p", { class: "hint" }, t("firstRun.service", { service: location.origin })),
    progress.node,
    errors,
    el("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    showError(errors, null);
    let secret;
    try {
      secret = passphrase.value();
    } catch (failure) {
      showError(errors, failure);
      return;
    }
    const name = label.value.trim() || "me";
    submitOnce(form, () =>
      openWith({ form, submit, progress, errors }, () => state.core.WebWallet.create(state.store, { label: name, service: location.origin }, secret)),
    );
  });
  return form;
}

/**
 * The end all three first-run forms share: shows the key-derivation progress while `make()`
 * makes the wallet (create, restore or recover), then opens it, or shows why it failed.
 */
async function openWith({ form, submit, progress, errors }, make) {
  try {
    progress.show();
    await nextPaint();
    const wallet = await busy(submit, make());
    progress.hide();
    await opened(wallet, form.parentElement);
  } catch (failure) {
    progress.hide();
    showError(errors, failure);
  }
}

function restoreForm() {
  const file = el("input", { id: "restore-file", type: "file", required: true });
  const pass = el("input", { id: "restore-passphrase", type: "password", autocomplete: "current-password", required: true });
  const progress = kdfProgress();
  const errors = el("div", { "aria-live": "assertive" });
  const submit = el("button", { type: "submit", dataset: { testid: "restore-wallet" } }, t("firstRun.restore"));
  const form = el(
    "form",
    {},
    el("h2", {}, t("firstRun.mode.restore")),
    el("p", {}, t("firstRun.restoreIntro")),
    el("div", { class: "field" }, el("label", { for: file.id }, t("firstRun.backupFile")), file),
    el("div", { class: "field" }, el("label", { for: pass.id }, t("firstRun.backupPassphrase")), pass),
    progress.node,
    errors,
    el("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    showError(errors, null);
    const chosen = file.files[0];
    const secret = pass.value;
    if (!chosen) {
      showError(errors, { code: "invalid", message: t("firstRun.chooseFile") });
      return;
    }
    submitOnce(form, () =>
      openWith({ form, submit, progress, errors }, async () =>
        state.core.WebWallet.restore(state.store, await readFile(chosen, "bytes"), secret, location.origin),
      ),
    );
  });
  return form;
}

function recoverForm() {
  const file = el("input", { id: "recover-file", type: "file", required: true });
  const shares = el("textarea", { id: "recover-shares", required: true, rows: 5, autocomplete: "off", spellcheck: "false" });
  const passphrase = newPassphraseFields("recover");
  const progress = kdfProgress();
  const errors = el("div", { "aria-live": "assertive" });
  const submit = el("button", { type: "submit", dataset: { testid: "recover-wallet" } }, t("firstRun.recover"));
  const form = el(
    "form",
    { novalidate: true },
    el("h2", {}, t("firstRun.mode.recover")),
    el("p", {}, t("firstRun.recoverIntro")),
    el("div", { class: "field" }, el("label", { for: file.id }, t("firstRun.backupFile")), file),
    el("div", { class: "field" }, el("label", { for: shares.id }, t("firstRun.shares")), el("span", { class: "hint" }, t("firstRun.sharesHint")), shares),
    passphrase.node,
    progress.node,
    errors,
    el("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    showError(errors, null);
    let secret;
    try {
      if (!file.files[0]) throw { code: "invalid", message: t("firstRun.chooseFile") };
      secret = passphrase.value();
    } catch (failure) {
      showError(errors, failure);
      return;
    }
    const chosen = file.files[0];
    const lines = shares.value.split(/\s+/).map((s) => s.trim()).filter(Boolean);
    submitOnce(form, () =>
      openWith({ form, submit, progress, errors }, async () =>
        state.core.WebWallet.recover(state.store, await readFile(chosen, "bytes"), lines, secret, location.origin),
      ),
    );
  });
  return form;
}

