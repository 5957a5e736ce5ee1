// One decision, explained visually from its record (GET /decisions/{id}; the explanation is the
// verifier's Decision JSON without personal claims): the outcome and whether it still holds,
// every attestation as a card (counted or not and why, its category and weights), the counted
// weight against the policy's threshold as a bar and as text, the requirements, the
// independence groups, the contradictions, and the anchoring receipt of its status credential
// (GET /decisions/{id}/receipt: anchored, final, waiting for its batch (409), or none).

import { formatAddress, formatDate, formatDateTime } from "../common/format.js";
import { hasTranslation, t } from "../common/i18n.js";
import { ApiFailure } from "../common/api.js";
import { clear, download, el, failureMessage, showError } from "../common/ui.js";
import { outcomeBadge } from "./decisions.js";

const RECEIPT_RETRY_MS = 3000;

/** A weight ("1.500") as a number. */
export function weightOf(text) {
  const n = Number(text);
  return Number.isFinite(n) ? n : 0;
}

/** A weight for people: no trailing zeros ("1.5", "3"). */
export function showWeight(text) {
  return String(weightOf(text));
}

function inputName(index) {
  return t("decision.inputRef", { n: index });
}

/** A reason's (or rejection's) parameters, readable: inputs as "#n", dates formatted, lists joined. */
function reasonParams(reason) {
  const params = {};
  if ("from" in reason) {
    params.period = reason.until ? t("decision.period", { from: formatDate(reason.from), until: formatDate(reason.until) }) : t("decision.periodOpen", { from: formatDate(reason.from) });
  }
  if ("valid_from" in reason && "issued" in reason) {
    params.validity = reason.valid_until
      ? t("decision.period", { from: formatDate(reason.valid_from), until: formatDate(reason.valid_until) })
      : t("decision.periodOpen", { from: formatDate(reason.valid_from) });
  }
  for (const [key, value] of Object.entries(reason)) {
    if (key === "code") continue;
    if (["input", "of"].includes(key)) params[key] = inputName(value);
    else if (key === "with" || key === "inputs") params[key] = value.map(inputName).join(", ");
    else if (["at", "from", "until", "issued", "valid_from", "valid_until"].includes(key)) params[key] = value ? formatDate(value) : t("decision.openEnded");
    else if (key === "cap") params[key] = showWeight(value);
    else if (key === "shared") params[key] = t(`decision.shared.${value}`);
    else if (key === "whose") params[key] = t(`decision.whose.${value}`);
    else if (key === "same") params[key] = t(`decision.same.${value}`);
    else if (key === "category") params[key] = t(`category.${value}`) !== `category.${value}` ? t(`category.${value}`) : value;
    else if (key === "failure") params[key] = failureText(value);
    else if (Array.isArray(value)) params[key] = value.join(", ");
    else if (value === null || value === undefined) params[key] = "—";
    else params[key] = String(value);
  }
  return params;
}

function failureText(failure) {
  if (!failure || typeof failure !== "object") return String(failure);
  const key = `failure.${failure.code}`;
  const rest = Object.entries(failure)
    .filter(([k]) => k !== "code")
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join("; ");
  const head = hasTranslation(key) ? t(key) : failure.code;
  return rest ? `${head} (${rest})` : head;
}

export function reasonText(reason) {
  const key = `reason.${reason.code}`;
  if (!hasTranslation(key)) return `${reason.code}: ${JSON.stringify(reason)}`;
  if (reason.code === "wrong_fact_type" && !reason.found) return t("reason.wrong_fact_type_unknown", reasonParams(reason));
  if (reason.code === "party_to_fact" && !(reason.may_attest_as || []).length) return t("reason.party_to_fact_none", reasonParams(reason));
  return t(key, reasonParams(reason));
}

function rejectionText(rejection) {
  const key = `rejection.${rejection.code}`;
  return hasTranslation(key) ? t(key, reasonParams(rejection)) : `${rejection.code}: ${JSON.stringify(rejection)}`;
}

function categoryName(category) {
  if (!category) return t("decision.noCategory");
  const key = `category.${category}`;
  return hasTranslation(key) ? t(key) : category;
}

function amountText(amount) {
  return typeof amount === "string" ? showWeight(amount) : String(amount);
}

function requirementText(check) {
  const params = { actual: amountText(check.actual), required: amountText(check.required), categories: (check.categories || []).map(categoryName).join(", ") };
  return t(`rule.${check.rule}`, params);
}

function section(id, title, ...children) {
  return el("section", { "aria-labelledby": id, class: "stack decision-section" }, el("h2", { id }, title), ...children);
}

/** The bar of counted weight per attestation against the threshold, with a text equivalent. */
function weightFigure(explanation, colourOf) {
  const check = (explanation.requirements || []).find((r) => r.rule === "min_weight");
  const threshold = check ? weightOf(check.required) : 0;
  const total = weightOf(explanation.totals && explanation.totals.weight);
  const scale = Math.max(threshold, total, 0.001) * 1.15;
  const counted = (explanation.inputs || []).filter((i) => i.counted && weightOf(i.effective_weight) > 0);
  const bar = el("div", { class: "weight-bar", "aria-hidden": "true" });
  for (const input of counted) {
    const w = weightOf(input.effective_weight);
    bar.append(el("div", { class: `weight-segment ${colourOf(input.category)}`, style: null, title: `${inputName(input.index)}: ${showWeight(input.effective_weight)}`, dataset: { width: String((w / scale) * 100) } }, showWeight(input.effective_weight)));
  }
  const marker = el("div", { class: "weight-threshold", dataset: { left: String((threshold / scale) * 100) } });
  if (threshold > 0) bar.append(marker);
  const met = check ? check.met : false;
  const text = t(met ? "decision.weightMet" : "decision.weightNotMet", { weight: showWeight(explanation.totals.weight), threshold: showWeight(check ? check.required : "0") });
  const figure = el(
    "figure",
    { class: "weight-figure" },
    bar,
    el("figcaption", {}, el("strong", { dataset: { testid: "decision-weight", weight: showWeight(explanation.totals.weight), threshold: String(threshold), met: String(met) } }, text)),
  );
  // Widths are set through the CSSOM (allowed by a strict style-src), never as inline style attributes.
  for (const node of [...bar.children]) {
    if (node.dataset.width) node.style.width = `${node.dataset.width}%`;
    if (node.dataset.left) node.style.left = `${node.dataset.left}%`;
  }
  const categories = [...new Set(counted.map((i) => i.category))];
  if (categories.length) {
    figure.append(el("ul", { class: "legend", "aria-label": t("decision.legend") }, categories.map((c) => el("li", {}, el("span", { class: `swatch ${colourOf(c)}`, "aria-hidden": "true" }), categoryName(c)))));
  }
  return figure;
}

function attestationCard(input, colourOf) {
  const notes = (input.reasons || []).filter((r) => r.code === "decayed" || r.code === "capped");
  const why = (input.reasons || []).filter((r) => !(r.code === "decayed" || r.code === "capped"));
  const headingId = `input-${input.index}`;
  return el(
    "article",
    {
      class: ["card", "attestation-card", input.counted ? "counted" : "not-counted"],
      "aria-labelledby": headingId,
      dataset: { testid: "attestation-card", counted: String(input.counted), category: input.category || "", index: String(input.index) },
    },
    el(
      "div",
      { class: "head" },
      el("h3", { id: headingId }, t("decision.inputTitle", { n: input.index, category: categoryName(input.category) })),
      el("span", { class: input.counted ? "badge ok" : "badge danger", dataset: { testid: "counted" } }, input.counted ? t("decision.counted") : t("decision.notCounted")),
    ),
    el(
      "dl",
      { class: "fields" },
      el("dt", {}, t("decision.issuer")),
      el("dd", { class: "mono" }, input.issuer || "—"),
      el("dt", {}, t("decision.category")),
      el("dd", {}, el("span", { class: `swatch ${colourOf(input.category)}`, "aria-hidden": "true" }), categoryName(input.category)),
      el("dt", {}, t("decision.entity")),
      el("dd", { class: "mono" }, input.entity || "—"),
      el("dt", {}, t("decision.issued")),
      el("dd", {}, input.valid_from ? formatDate(input.valid_from) : "—"),
      el("dt", {}, t("decision.weight")),
      el("dd", {}, t("decision.weightOf", { effective: showWeight(input.effective_weight), base: showWeight(input.base_weight) })),
    ),
    why.length ? el("p", { class: "why" }, input.counted ? t("decision.notes") : t("decision.whyNot")) : null,
    why.length ? el("ul", { class: "reasons" }, why.map((r) => el("li", { dataset: { reason: r.code } }, reasonText(r)))) : null,
    notes.length ? el("p", { class: "why" }, t("decision.reduced")) : null,
    notes.length ? el("ul", { class: "reasons" }, notes.map((r) => el("li", { dataset: { reason: r.code } }, reasonText(r)))) : null,
  );
}

/** Inputs grouped by the entity that controls their attester; one counts per entity. */
function independenceGroups(inputs) {
  const groups = new Map();
  for (const input of inputs) {
    const key = input.entity || null;
    if (!key) continue;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(input);
  }
  const dependent = inputs.filter((i) => (i.reasons || []).some((r) => r.code === "not_independent" || r.code === "same_household_as_subject" || r.code === "self_attestation"));
  return el(
    "div",
    { class: "stack" },
    el(
      "div",
      { class: "groups", dataset: { testid: "independence-groups" } },
      [...groups.entries()].map(([entity, members]) =>
        el(
          "div",
          { class: "card" },
          el("h3", {}, el("span", { class: "mono" }, entity)),
          el(
            "ul",
            {},
            members.map((m) => el("li", {}, `${inputName(m.index)} — ${categoryName(m.category)}: `, m.counted ? t("decision.counted") : t("decision.notCounted"))),
          ),
        ),
      ),
    ),
    dependent.length
      ? el("ul", {}, dependent.flatMap((i) => i.reasons.filter((r) => ["not_independent", "same_household_as_subject", "self_attestation"].includes(r.code)).map((r) => el("li", {}, `${inputName(i.index)}: ${reasonText(r)}`))))
      : el("p", {}, t("decision.allIndependent")),
  );
}

function contradictions(inputs, outcome) {
  const lines = [];
  for (const input of inputs) {
    for (const r of input.reasons || []) {
      if (r.code === "conflicting" || r.code === "overridden_by") lines.push(el("li", { dataset: { reason: r.code } }, `${inputName(input.index)}: ${reasonText(r)}`));
    }
  }
  if (!lines.length) return el("p", { dataset: { testid: "contradictions" } }, t("decision.noContradiction"));
  return el(
    "div",
    { dataset: { testid: "contradictions" } },
    el("p", { class: outcome === "disputed" ? "error" : "notice" }, outcome === "disputed" ? t("decision.disputedExplained") : t("decision.settled")),
    el("ul", {}, lines),
  );
}

async function receiptPanel(container, { session, decision }) {
  clear(container);
  const state = el("p", { role: "status", "aria-live": "polite", dataset: { testid: "receipt-state", state: "loading" } }, t("receipt.loading"));
  const actions = el("div", { class: "actions" });
  container.append(state, actions);
  const setState = (name, text) => {
    state.dataset.state = name;
    state.textContent = text;
  };
  if (!decision.status_credential_id) {
    setState("none", t("receipt.noStatus"));
    return null;
  }
  let retry = null;
  const load = async () => {
    clear(actions);
    try {
      const receipt = await session.call("GET", `/decisions/${encodeURIComponent(decision.id)}/receipt`);
      const anchor = receipt.anchor || {};
      if (anchor.state === "final") setState("final", t("receipt.final", { connector: anchor.connector || "" }));
      else setState("anchored", t("receipt.anchored", { connector: anchor.connector || "", state: anchor.state || "" }));
      actions.append(
        el(
          "button",
          { type: "button", class: "secondary", dataset: { testid: "receipt-download" }, onclick: () => download(`receipt-${decision.id}.json`, JSON.stringify(receipt, null, 2), "application/json") },
          t("receipt.download"),
        ),
      );
      if (anchor.state !== "final") retry = setTimeout(load, RECEIPT_RETRY_MS * 3);
    } catch (failure) {
      if (failure instanceof ApiFailure && failure.status === 409) {
        setState("waiting", t("receipt.waiting"));
        retry = setTimeout(load, RECEIPT_RETRY_MS);
      } else if (failure instanceof ApiFailure && failure.status === 404) {
        setState("not-configured", t("receipt.notConfigured"));
      } else {
        setState("error", t("receipt.failed", { reason: failureMessage(failure) }));
      }
    }
    actions.append(el("button", { type: "button", class: "secondary", onclick: () => { if (retry) clearTimeout(retry); load(); } }, t("receipt.refresh")));
  };
  await load();
  return () => retry && clearTimeout(retry);
}

export async function renderDecision(main, { session, route }) {
  const id = route.args[0];
  const errors = el("div", { "aria-live": "assertive" });
  const heading = el("h1", {}, t("decision.title"));
  main.append(heading, errors);
  let decision;
  try {
    decision = await session.call("GET", `/decisions/${encodeURIComponent(id)}`);
  } catch (failure) {
    showError(errors, failure);
    return null;
  }
  const explanation = decision.explanation || {};
  const inputs = explanation.inputs || [];
  const categories = [...new Set(inputs.map((i) => i.category).filter(Boolean))].sort();
  const colourOf = (category) => (category ? `cat-${categories.indexOf(category) % 6}` : "");

  const established = decision.established && decision.established.residence;
  main.append(
    el(
      "section",
      { class: "card stack", "aria-labelledby": "status-title", dataset: { testid: "decision-status" } },
      el("h2", { id: "status-title" }, t("decision.status")),
      el("p", {}, outcomeBadge(decision.outcome, { class: `badge outcome outcome-${decision.outcome}`, dataset: { testid: "decision-outcome", outcome: decision.outcome } })),
      explanation.summary ? el("p", { lang: "en" }, explanation.summary) : null,
      el(
        "dl",
        { class: "fields" },
        el("dt", {}, t("decision.policy")),
        el("dd", {}, el("a", { href: `#/policy/${encodeURIComponent(decision.policy)}/${encodeURIComponent(decision.policy_version)}` }, `${decision.policy} ${decision.policy_version}`)),
        el("dt", {}, t("decision.decidedAt")),
        el("dd", {}, formatDateTime(decision.decided_at)),
        el("dt", {}, t("decision.subject")),
        el("dd", { class: "mono" }, decision.erased ? t("decisions.erased") : decision.subject || "—"),
        el("dt", {}, t("decision.validity")),
        el("dd", { dataset: { testid: "decision-holds", holds: String(decision.holds) } }, decision.holds ? t("decision.holds") : t("decision.noLongerHolds")),
        decision.reevaluation ? el("dt", {}, t("decision.reevaluation")) : null,
        decision.reevaluation ? el("dd", {}, reevaluationText(decision.reevaluation)) : null,
        established && established.address ? el("dt", {}, t("decision.establishedAddress")) : null,
        established && established.address ? el("dd", {}, formatAddress(established.address)) : null,
        established && established.since ? el("dt", {}, t("decision.establishedSince")) : null,
        established && established.since ? el("dd", {}, formatDate(established.since)) : null,
        el("dt", {}, t("decision.statusCredential")),
        el("dd", { class: "mono" }, decision.status_credential_id || t("decision.noStatusCredential")),
      ),
    ),
  );
  const receipt = el("div", {});
  main.append(section("receipt-title", t("receipt.title"), el("p", { class: "hint" }, t("receipt.intro")), receipt));

  if ((explanation.rejected_because || []).length) {
    main.append(section("rejected-title", t("decision.rejectedTitle"), el("ul", {}, explanation.rejected_because.map((r) => el("li", {}, rejectionText(r))))));
  }
  main.append(
    section(
      "weight-title",
      t("decision.weightTitle"),
      weightFigure(explanation, colourOf),
      el(
        "ul",
        { class: "requirements", dataset: { testid: "requirements" } },
        (explanation.requirements || []).map((check) =>
          el("li", { dataset: { rule: check.rule, met: String(check.met) } }, el("span", { class: check.met ? "badge ok" : "badge danger" }, check.met ? t("decision.met") : t("decision.notMet")), " ", requirementText(check)),
        ),
      ),
      el("p", {}, t("decision.totals", { categories: (explanation.totals.categories || []).map(categoryName).join(", ") || "—", entities: explanation.totals.entities ?? 0 })),
    ),
    section("inputs-title", t("decision.inputsTitle", { count: inputs.length }), inputs.length ? el("div", { class: "cards" }, inputs.map((i) => attestationCard(i, colourOf))) : el("p", {}, t("decision.noInputs"))),
    section("groups-title", t("decision.groupsTitle"), el("p", { class: "hint" }, t("decision.groupsIntro")), independenceGroups(inputs)),
    section("conflicts-title", t("decision.conflictsTitle"), contradictions(inputs, decision.outcome)),
    el("details", {}, el("summary", {}, t("decision.raw")), el("pre", { class: "raw" }, JSON.stringify(explanation, null, 2))),
  );
  return receiptPanel(receipt, { session, decision });
}

function reevaluationText(r) {
  if (typeof r !== "object" || r === null) return String(r);
  const withdrawn = (r.withdrawn || []).map((w) => (w.because ? `${inputName(w.index)} (${w.because})` : inputName(w.index))).join(", ");
  return t("decision.reevaluated", {
    at: r.at ? formatDateTime(r.at) : "—",
    outcome: r.outcome ? t(`outcome.${r.outcome}`) : "—",
    weight: r.totals ? showWeight(r.totals.weight) : "—",
    withdrawn: withdrawn || "—",
  });
}
