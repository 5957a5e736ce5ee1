// Erase my data: says what is erased at the service (each identity's records there) and here (the
// whole wallet on this device), asks for a typed confirmation word, then returns to first run.

import { t } from "../../common/i18n.js";
import { busy, el, showError, announce } from "../../common/ui.js";
import { lock, state, wallet } from "../state.js";

export function render({ go }) {
  const word = t("erase.word");
  const input = el("input", { id: "erase-confirm", type: "text", autocomplete: "off", spellcheck: "false", required: true, "aria-describedby": "erase-confirm-hint" });
  const errors = el("div", { "aria-live": "assertive", dataset: { testid: "erase-error" } });
  const submit = el("button", { type: "submit", class: "danger", dataset: { testid: "erase-button" } }, t("erase.button"));
  const form = el(
    "form",
    { dataset: { testid: "erase-form" } },
    el("div", { class: "field" }, el("label", { for: input.id }, t("erase.confirmLabel")), el("span", { class: "hint", id: "erase-confirm-hint" }, t("erase.confirmHint", { word })), input),
    errors,
    el("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    if (input.value.trim().toLocaleUpperCase() !== word.toLocaleUpperCase()) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
      showError(errors, { code: "invalid", message: t("erase.wrongWord", { word }) });
      return;
    }
    try {
      await busy(submit, wallet().erase());
      lock();
      try {
        localStorage.removeItem("corroborate.identity");
      } catch {
        // Nothing to forget.
      }
      state.store = new state.core.IdbStore("corroborate-wallet");
      announce(t("erase.done"));
      go("welcome");
    } catch (failure) {
      showError(errors, failure);
    }
  });
  return el(
    "section",
    { dataset: { testid: "erase" } },
    el("h1", {}, t("erase.title")),
    el("h2", {}, t("erase.serviceTitle")),
    el("p", {}, t("erase.serviceText")),
    el("h2", {}, t("erase.deviceTitle")),
    el("p", {}, t("erase.deviceText")),
    el("p", { class: "warning" }, t("erase.backupFirst"), " ", el("a", { href: "#/backup" }, t("erase.toBackup"))),
    form,
  );
}
