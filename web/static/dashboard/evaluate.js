// Evaluating a presentation: the civil servant picks a policy, the service makes a one-time
// challenge (POST /presentation-requests), the citizen opens its link (shown as a QR code and as
// text) in their wallet, and this page follows the challenge (GET /decisions?challenge=…, every
// 2 s while the page is open) and opens the decision as soon as it exists.

import { loadCore, qrSvg } from "../common/core.js";
import { formatDateTime } from "../common/format.js";
import { t } from "../common/i18n.js";
import { announce, busy, clear, copyButton, el, failureMessage, showError, svgFromMarkup } from "../common/ui.js";

export const POLL_MS = 2000;

export function presentationLink(challenge) {
  return `${location.origin}/app/#/present/${encodeURIComponent(challenge)}`;
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
    const link = presentationLink(asked.challenge);
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
