// Presenting without the network, to a verifier that checks on its own side (an office with the
// `corroborate` program, or a desk that is offline): the verifier gives its domain and a one-time
// challenge; the person chooses exactly which credentials to disclose (nothing is chosen for
// them) and consents; the wallet signs the presentation here, bound to both, logs it, and hands it
// over as a file (download, or the system's share sheet where the browser offers one).

import { t } from "../../common/i18n.js";
import { formatDate } from "../../common/format.js";
import { busy, el, showError, announce, download } from "../../common/ui.js";
import { actingAs, field, wallet } from "../state.js";
import { claimList, claimsOf, did, factName, factTypeOf, summary } from "../view.js";

/** `prefill`: the verifier and challenge of a request link opened without network, and why. */
export async function render(prefill = {}) {
  const w = wallet();
  const me = actingAs();
  const records = (await w.credentials()).map(summary).filter((r) => !me || r.holder === me);
  const full = await Promise.all(records.map((r) => r.credential || w.credential(r.id).catch(() => null)));

  const verifier = el("input", { id: "offline-verifier", required: true, autocomplete: "off", spellcheck: false, "aria-describedby": "offline-verifier-hint", value: prefill.verifier || "" });
  const challenge = el("input", { id: "offline-challenge", required: true, autocomplete: "off", spellcheck: false, "aria-describedby": "offline-challenge-hint", value: prefill.challenge || "" });
  const boxes = records.map((r) => el("input", { type: "checkbox", id: `offline-${r.id}`, value: r.id }));
  const errors = el("div", { "aria-live": "assertive", dataset: { testid: "offline-error" } });
  const submit = el("button", { type: "submit", dataset: { testid: "offline-present" } }, t("offline.sign"));

  const form = el(
    "form",
    { dataset: { testid: "offline-form" }, novalidate: true },
    el("h2", {}, t("offline.toWhom")),
    el("div", { class: "field" }, el("label", { for: verifier.id }, t("offline.verifier")), el("span", { class: "hint", id: "offline-verifier-hint" }, t("offline.verifierHint")), verifier),
    el("div", { class: "field" }, el("label", { for: challenge.id }, t("offline.challenge")), el("span", { class: "hint", id: "offline-challenge-hint" }, t("offline.challengeHint")), challenge),
    el("h2", {}, t("offline.what")),
    records.length
      ? el(
          "ul",
          { class: "cards", dataset: { testid: "offline-credentials" } },
          records.map((r, i) =>
            el(
              "li",
              { class: "consent-credential" },
              el("label", { class: "check", for: boxes[i].id }, boxes[i], t("present.include", { fact: factName(r.factType || factTypeOf(full[i])) })),
              el("p", { class: "meta" }, t("present.from"), " ", did(r.issuer), " — ", t("credentials.received", { date: formatDate(r.received) })),
              full[i] ? claimList(claimsOf(full[i]), "offline-claims", { exact: true }) : null,
            ),
          ),
        )
      : el("p", { class: "meta" }, t("credentials.none")),
    el("p", { class: "hint" }, t("present.wholeCredentials")),
    errors,
    el("div", { class: "actions" }, records.length ? submit : null),
  );

  const screen = el(
    "section",
    { dataset: { testid: "present-offline" } },
    el("h1", {}, t("offline.title")),
    prefill.failure
      ? el("div", { class: "warning", role: "status", dataset: { testid: "offline-fallback" } }, el("p", {}, t("offline.fallback")), el("p", {}, did(prefill.verifier, "offline-link-verifier")))
      : null,
    el("p", { class: "notice" }, t("offline.intro")),
    form,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    const missing = [verifier, challenge].find((input) => !input.value.trim());
    if (missing) {
      missing.setAttribute("aria-invalid", "true");
      missing.focus();
      showError(errors, { code: "invalid", message: t(missing === verifier ? "offline.needVerifier" : "offline.needChallenge") });
      return;
    }
    if (!chosen.length) {
      showError(errors, { code: "invalid", message: t("present.chooseOne") });
      return;
    }
    try {
      const made = await busy(submit, w.presentOffline(verifier.value.trim(), challenge.value.trim(), chosen, me));
      screen.replaceChildren(handOver(made));
      const heading = screen.querySelector("h1");
      heading.setAttribute("tabindex", "-1");
      heading.focus();
      announce(t("offline.done"));
    } catch (failure) {
      showError(errors, failure);
    }
  });
  return screen;
}

/** The signed presentation, to hand over: download, share, or read. */
function handOver(made) {
  const text = JSON.stringify(made.presentation, null, 2);
  const record = made.record || {};
  const name = `presentation-${new Date().toISOString().slice(0, 10)}.json`;
  const save = el("button", { type: "button", dataset: { testid: "offline-download" } }, t("offline.download"));
  save.addEventListener("click", () => download(name, text, "application/json"));
  const file = typeof File === "function" ? new File([text], name, { type: "application/json" }) : null;
  let share = null;
  if (file && navigator.canShare && navigator.canShare({ files: [file] })) {
    share = el("button", { type: "button", class: "secondary" }, t("offline.share"));
    share.addEventListener("click", () => navigator.share({ files: [file], title: t("offline.title") }).catch(() => {}));
  }
  return el(
    "section",
    { class: "stack", dataset: { testid: "offline-done" } },
    el("h1", {}, t("offline.doneTitle")),
    el("p", {}, t("offline.doneText", { count: (field(record, "disclosed") || []).length })),
    el("p", {}, did(field(record, "verifier"))),
    el("div", { class: "actions" }, save, share),
    el("details", {}, el("summary", {}, t("offline.show")), el("pre", { class: "json", dataset: { testid: "offline-json" } }, text)),
    el("p", {}, el("a", { href: "#/log" }, t("present.toLog"))),
  );
}
