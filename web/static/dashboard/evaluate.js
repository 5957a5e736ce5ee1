// Evaluating a presentation: the civil servant picks a policy, the service makes a one-time
// challenge (POST /presentation-requests), the citizen opens its link (shown as a QR code and as
// text) in their wallet, and this page follows the challenge (GET /decisions?challenge=…, every
// 2 s while the page is open) and opens the decision as soon as it exists. When the citizen's phone
// is offline, the page shows the request's domain and challenge to read out; the wallet signs for
// exactly those ("Present without network") and this page submits the file handed over.

import { loadCore, qrSvg } from "../common/core.js";
import { formatDateTime } from "../common/format.js";
import { t } from "../common/i18n.js";
import { announce, busy, clear, copyButton, el, failureMessage, readFile, showError, svgFromMarkup } from "../common/ui.js";

export const POLL_MS = 2000;

/** The wallet's link for a request; `to` (the verifier's domain) lets a phone without network present for it. */
export function presentationLink(challenge, domain) {
  const to = domain ? `?to=${encodeURIComponent(domain)}` : "";
  return `${location.origin}/app/#/present/${encodeURIComponent(challenge)}${to}`;
}

/** The policies, newest version first within an id. */
export async function loadPolicies(session) {
  const policies = await session.call("GET", "/policies");
  return policies.slice().sort((a, b) => a.id.localeCompare(b.id) || b.version.localeCompare(a.version, undefined, { numeric: true }));
}

export async function renderEvaluate(main, { session }) {
  const errors = el("div", { "aria-live": "assertive" });
  const request = el("div", {});
  main.append(el("h1", {}, t("evaluate.title")), el("p", {}, t("evaluate.intro")), errors, request);
  let policies;
  try {
    policies = await loadPolicies(session);
  } catch (failure) {
    showError(errors, failure);
    return null;
  }
  const select = el(
    "select",
    { id: "policy-choice", required: true, dataset: { testid: "policy-choice" } },
    policies.map((p, i) => el("option", { value: String(i) }, `${p.title} — ${p.id} ${p.version}`)),
  );
  const button = el("button", { type: "submit", class: "primary" }, t("evaluate.ask"));
  const form = el(
    "form",
    { "aria-labelledby": "evaluate-form-title" },
    el("h2", { id: "evaluate-form-title" }, t("evaluate.formTitle")),
    el("div", { class: "field" }, el("label", { for: "policy-choice" }, t("evaluate.policy")), select),
    el("div", { class: "actions" }, button),
  );
  main.insertBefore(form, errors);

  let timer = null;
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    stop();
    showError(errors, null);
    clear(request);
    const policy = policies[Number(select.value)];
    let asked;
    try {
      asked = await busy(button, session.call("POST", "/presentation-requests", { body: { policy: policy.id, version: policy.version } }));
    } catch (failure) {
      showError(errors, failure);
      return;
    }
    const link = presentationLink(asked.challenge, asked.domain);
    const qr = el("figure", { class: "qr", role: "img", "aria-label": t("evaluate.qrLabel") });
    try {
      await loadCore();
      qr.append(svgFromMarkup(qrSvg(link)));
    } catch (failure) {
      qr.append(el("p", { class: "warning" }, failureMessage(failure)));
    }
    const waiting = el("p", { role: "status", "aria-live": "polite", dataset: { testid: "presentation-status" } }, t("evaluate.waiting"));
    request.append(
      el(
        "section",
        { class: "card stack", "aria-labelledby": "request-title" },
        el("h2", { id: "request-title", tabindex: "-1" }, t("evaluate.requestTitle")),
        el(
          "dl",
          { class: "fields" },
          el("dt", {}, t("evaluate.policy")),
          el("dd", {}, `${asked.policy.title} (${asked.policy.id} ${asked.policy.version})`),
          el("dt", {}, t("evaluate.verifier")),
          el("dd", { class: "mono" }, asked.verifier),
          el("dt", {}, t("evaluate.expires")),
          el("dd", {}, formatDateTime(asked.expires)),
        ),
        el("p", {}, t("evaluate.showCitizen")),
        qr,
        el("p", {}, el("a", { href: link, class: "mono", dataset: { testid: "presentation-link" } }, link)),
        el("div", { class: "actions" }, copyButton(link, t("evaluate.copyLink"))),
        waiting,
      ),
      handOver(session, asked),
    );
    request.querySelector("h2").focus();
    announce(t("evaluate.requestMade"));

    const expires = new Date(asked.expires).getTime();
    let reported = false;
    const poll = async () => {
      if (Date.now() > expires) {
        stop();
        waiting.textContent = t("evaluate.expired");
        return;
      }
      try {
        const page = await session.call("GET", `/decisions?challenge=${encodeURIComponent(asked.challenge)}&limit=1`);
        const decision = page.decisions && page.decisions[0];
        if (decision) {
          stop();
          waiting.textContent = t("evaluate.arrived");
          location.hash = `#/decision/${encodeURIComponent(decision.id)}`;
        }
      } catch (failure) {
        if (!reported) waiting.textContent = t("evaluate.pollFailed", { reason: failureMessage(failure) });
        reported = true;
        if (failure && failure.status === 401) stop();
      }
    };
    timer = setInterval(poll, POLL_MS);
  });
  return stop;
}

/** For a phone without network: the values to read out, and the file handed over, submitted. */
function handOver(session, asked) {
  const file = el("input", { id: "offline-file", type: "file", accept: ".json,application/json", dataset: { testid: "offline-file" } });
  const submit = el("button", { type: "submit", class: "secondary", dataset: { testid: "offline-submit" } }, t("evaluate.offlineSubmit"));
  const errors = el("div", { "aria-live": "assertive", dataset: { testid: "offline-error" } });
  const form = el(
    "form",
    {},
    el("div", { class: "field" }, el("label", { for: file.id }, t("evaluate.offlineFile")), file),
    errors,
    el("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      if (!file.files[0]) throw { code: "invalid", message: t("evaluate.offlineChoose") };
      let presentation;
      try {
        presentation = JSON.parse(await readFile(file.files[0]));
      } catch {
        throw { code: "invalid", message: t("evaluate.offlineNotJson") };
      }
      const path = `/presentation-requests/${encodeURIComponent(asked.challenge)}/presentations`;
      const answer = await busy(submit, session.call("POST", path, { body: { presentation } }));
      const decision = answer && answer.decision;
      if (decision && decision.id) location.hash = `#/decision/${encodeURIComponent(decision.id)}`;
    } catch (failure) {
      showError(errors, failure);
    }
  });
  return el(
    "details",
    { class: "card stack", dataset: { testid: "offline-hand-over" } },
    el("summary", {}, t("evaluate.offlineTitle")),
    el("p", {}, t("evaluate.offlineText")),
    el(
      "dl",
      { class: "fields" },
      el("dt", {}, t("evaluate.offlineDomain")),
      el("dd", { class: "mono", dataset: { testid: "offline-domain" } }, asked.domain),
      el("dt", {}, t("evaluate.offlineChallenge")),
      el("dd", { class: "mono", dataset: { testid: "offline-challenge" } }, asked.challenge),
    ),
    el("div", { class: "actions" }, copyButton(asked.challenge)),
    form,
  );
}
