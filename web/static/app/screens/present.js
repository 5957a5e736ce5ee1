// Presenting to a verifier: a consent screen listing exactly what would be disclosed (each
// credential and all its claims), to whom, under which policy (title, id, version, owner), until
// when, with a warning where the credentials disagree. Consent sends; the decision and the status
// credential kept come back.

import { t } from "../../common/i18n.js";
import { formatDateTime } from "../../common/format.js";
import { busy, el, showError, announce } from "../../common/ui.js";
import { actingAs, field, wallet } from "../state.js";
import { claimList, claimsOf, did, factName, outcomeBadge, printable, summary } from "../view.js";

export async function render({ param, go }) {
  const w = wallet();
  // `CHALLENGE?to=DOMAIN`: the dashboard's link names the verifier too, for a phone without network.
  const [challenge, to] = (param || "").split("?to=");
  // Without a verifier's request to answer: present offline, to a verifier that checks itself.
  if (!challenge) return (await import("./present-offline.js")).render();
  let shown;
  try {
    shown = await w.presentShow(challenge, actingAs());
  } catch (failure) {
    // The request cannot be read without the network: sign for it here, for the file to hand over.
    if (failure && failure.code === "network" && to) return (await import("./present-offline.js")).render({ verifier: to, challenge, failure });
    throw failure;
  }
  const ask = shown.ask || {};
  const disclose = (shown.disclose || []).map(summary);
  const disagreements = shown.disagreements || [];
  const full = await Promise.all(disclose.map((d) => d.credential || w.credential(d.id).catch(() => null)));

  const errors = el("div", { "aria-live": "assertive", dataset: { testid: "present-error" } });
  const outcome = el("div", { "aria-live": "polite" });
  const boxes = disclose.map((d) => el("input", { type: "checkbox", id: `disclose-${d.id}`, checked: true, value: d.id }));
  const consent = el("button", { type: "button", dataset: { testid: "consent-button" } }, t("present.consent"));
  const declineButton = el("button", { type: "button", class: "secondary", dataset: { testid: "present-decline" } }, t("present.decline"));

  const credentialsList = disclose.length
    ? el(
        "ul",
        { class: "cards", dataset: { testid: "disclosed" } },
        disclose.map((d, i) =>
          el(
            "li",
            { class: "consent-credential", dataset: { testid: "disclosed-credential", id: d.id } },
            el("label", { class: "check", for: boxes[i].id }, boxes[i], t("present.include", { fact: factName(d.factType) })),
            el("p", { class: "meta" }, t("present.from"), " ", did(d.issuer)),
            full[i] ? claimList(claimsOf(full[i]), "disclosed-claims", { exact: true }) : null,
          ),
        ),
      )
    : el("p", { class: "warning" }, t("present.nothing", { fact: factName(ask.factType) }));

  consent.addEventListener("click", async () => {
    showError(errors, null);
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!chosen.length) {
      showError(errors, { code: "invalid", message: t("present.chooseOne") });
      return;
    }
    try {
      // Exactly what this screen listed and the person kept, for the verifier and policy it
      // named: the core sends nothing if the request changed since.
      const sent = await busy(
        consent,
        w.presentSend(challenge, chosen, { verifier: ask.verifier, policy: ask.policy, policyVersion: ask.policyVersion }, actingAs()),
      );
      screen.replaceChildren(outcomeView(sent, ask));
      const heading = screen.querySelector("h1");
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    } catch (failure) {
      showError(errors, failure);
    }
  });
  declineButton.addEventListener("click", () => {
    announce(t("present.declined"));
    go("credentials");
  });

  const screen = el(
    "section",
    { dataset: { testid: "consent" } },
    el("h1", {}, t("present.title")),
    el("p", { class: "notice" }, t("present.intro")),
    el("h2", {}, t("present.toWhom")),
    el(
      "dl",
      { class: "fields", dataset: { testid: "consent-ask" } },
      el("dt", {}, t("present.owner")),
      el("dd", { dataset: { testid: "policy-owner" } }, printable(ask.policyOwner || ""), ask.domain ? ` (${printable(ask.domain)})` : ""),
      el("dt", {}, t("present.verifier")),
      el("dd", {}, did(ask.verifier, "verifier")),
      el("dt", {}, t("present.policy")),
      el("dd", { dataset: { testid: "policy" } }, el("strong", {}, printable(ask.policyTitle || "")), el("br"), el("code", {}, printable(ask.policy || "")), " ", t("present.version", { version: printable(ask.policyVersion || "") })),
      el("dt", {}, t("present.fact")),
      el("dd", {}, factName(ask.factType)),
      el("dt", {}, t("present.expires")),
      el("dd", {}, ask.expires ? formatDateTime(ask.expires) : "—"),
    ),
    el("h2", {}, t("present.whatDisclosed", { count: disclose.length })),
    el("p", { class: "hint" }, t("present.wholeCredentials")),
    credentialsList,
    disagreements.length
      ? el("div", { class: "warning", role: "alert", dataset: { testid: "disagreements" } }, t("present.disagree", { fields: disagreements.map(printable).join(", ") }))
      : null,
    errors,
    el("div", { class: "actions" }, disclose.length ? consent : null, declineButton),
    outcome,
  );
  return screen;
}

function outcomeView(sent, ask) {
  const decision = sent.decision || {};
  const status = sent.status ? summary(sent.status) : null;
  const result = decision.outcome || (decision.decision && decision.decision.outcome);
  return el(
    "section",
    { class: "stack", dataset: { testid: "present-done" } },
    el("h1", {}, t("present.doneTitle")),
    el("p", { class: "outcome", dataset: { testid: "decision-outcome", outcome: result || "" } }, t("present.outcome"), " ", outcomeBadge(result)),
    el("p", {}, t("present.decidedBy", { owner: printable(ask.policyOwner || ""), policy: printable(ask.policyTitle || ask.policy || "") })),
    status && status.id
      ? el("p", { class: "success", dataset: { testid: "status-kept" } }, t("present.statusKept"), " ", el("a", { href: `#/credential/${encodeURIComponent(status.id)}` }, t("present.seeStatus")))
      : el("p", { class: "meta" }, t("present.noStatus")),
    el("p", {}, el("a", { href: "#/log" }, t("present.toLog"))),
  );
}
