// Backup and recovery: download the encrypted backup file; split a recovery secret into shares
// for trusted contacts (any threshold of them, with a backup, recover the wallet); change the
// passphrase.

import { t } from "../../common/i18n.js";
import { busy, el, showError, announce, download, copyButton } from "../../common/ui.js";
import { kdfProgress, newPassphraseFields } from "../passphrase.js";
import { nextPaint, wallet } from "../state.js";

export function render() {
  return el("section", {}, el("h1", {}, t("backup.title")), backupPart(), recoveryPart(), passphrasePart());
}

function backupPart() {
  const errors = el("div", { "aria-live": "assertive" });
  const button = el("button", { type: "button", dataset: { testid: "backup-download" } }, t("backup.download"));
  button.addEventListener("click", async () => {
    showError(errors, null);
    try {
      const bytes = await busy(button, wallet().backup());
      const day = new Date().toISOString().slice(0, 10);
      download(`corroborate-wallet-${day}.backup`, bytes, "application/octet-stream");
      announce(t("backup.downloaded"));
    } catch (failure) {
      showError(errors, failure);
    }
  });
  return el("section", {}, el("h2", {}, t("backup.fileTitle")), el("p", {}, t("backup.fileText")), el("div", { class: "actions" }, button), errors);
}

function recoveryPart() {
  const info = wallet().info();
  const threshold = el("input", { id: "recovery-threshold", type: "number", min: 2, max: 10, value: "3", inputmode: "numeric" });
  const count = el("input", { id: "recovery-shares", type: "number", min: 2, max: 10, value: "5", inputmode: "numeric" });
  const errors = el("div", { "aria-live": "assertive" });
  const out = el("div", { "aria-live": "polite", dataset: { testid: "recovery-shares-out" } });
  const submit = el("button", { type: "submit", class: "secondary", dataset: { testid: "recovery-split" } }, t("backup.split"));
  const form = el(
    "form",
    {},
    el("div", { class: "field-row" }, el("div", { class: "field" }, el("label", { for: threshold.id }, t("backup.threshold")), threshold), el("div", { class: "field" }, el("label", { for: count.id }, t("backup.shares")), count)),
    errors,
    el("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    const k = Number.parseInt(threshold.value, 10);
    const n = Number.parseInt(count.value, 10);
    if (!(k >= 2 && n >= k && n <= 10)) {
      showError(errors, { code: "invalid", message: t("backup.badThreshold") });
      return;
    }
    try {
      const shares = await busy(submit, wallet().splitRecovery(k, n));
      out.replaceChildren(
        el("p", { class: "warning" }, t("backup.sharesWarning", { threshold: k })),
        el("ol", { class: "shares" }, shares.map((share) => el("li", {}, el("code", { class: "did" }, share), " ", copyButton(share)))),
      );
      announce(t("backup.sharesMade", { count: n }));
    } catch (failure) {
      showError(errors, failure);
    }
  });
  return el(
    "section",
    {},
    el("h2", {}, t("backup.recoveryTitle")),
    el("p", {}, t("backup.recoveryText")),
    info && info.recovery ? el("p", { class: "meta" }, t("backup.recoveryNow", { threshold: info.recovery.threshold, shares: info.recovery.shares })) : null,
    form,
    out,
  );
}

function passphrasePart() {
  const fields = newPassphraseFields("change");
  const progress = kdfProgress();
  const errors = el("div", { "aria-live": "assertive" });
  const submit = el("button", { type: "submit", class: "secondary", dataset: { testid: "change-passphrase" } }, t("backup.change"));
  const form = el("form", { novalidate: true }, fields.node, progress.node, errors, el("div", { class: "actions" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      const secret = fields.value();
      progress.show();
      await nextPaint();
      await busy(submit, wallet().changePassphrase(secret));
      progress.hide();
      form.reset();
      errors.replaceChildren(el("p", { class: "success" }, t("backup.changed")));
      announce(t("backup.changed"));
    } catch (failure) {
      progress.hide();
      showError(errors, failure);
    }
  });
  return el("section", {}, el("h2", {}, t("backup.changeTitle")), form);
}
