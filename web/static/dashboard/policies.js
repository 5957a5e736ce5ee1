// The policies decisions are made under (GET /policies): every id and version, and one policy's
// rules in words (accepted categories and weights, caps, the threshold and other requirements,
// independence, freshness, how contradictions are settled) beside its raw JSON.

import { t } from "../common/i18n.js";
import { el, scrollRegion, showError } from "../common/ui.js";
import { loadPolicies } from "./evaluate.js";
import { showWeight } from "./decision.js";

function categoryName(category) {
  const key = `category.${category}`;
  const text = t(key);
  return text === key ? category : text;
}

export async function renderPolicies(main, { session }) {
  const errors = el("div", { "aria-live": "assertive" });
  main.append(el("h1", {}, t("policies.title")), el("p", {}, t("policies.intro")), errors);
  let policies;
  try {
    policies = await loadPolicies(session);
  } catch (failure) {
    showError(errors, failure);
    return null;
  }
  main.append(
    scrollRegion(
      null,
      el(
        "table",
        { dataset: { testid: "policy-list" } },
        el("caption", { class: "visually-hidden" }, t("policies.title")),
        el("thead", {}, el("tr", {}, ["policies.name", "policies.id", "policies.version", "policies.owner", "policies.factType"].map((k) => el("th", { scope: "col" }, t(k))))),
        el(
          "tbody",
          {},
          policies.map((p) =>
            el(
              "tr",
              {},
              el("td", {}, el("a", { href: `#/policy/${encodeURIComponent(p.id)}/${encodeURIComponent(p.version)}` }, p.title)),
              el("td", { class: "mono" }, p.id),
              el("td", {}, p.version),
              el("td", {}, p.owner),
              el("td", {}, p.fact_type),
            ),
          ),
        ),
      ),
    ),
  );
  return null;
}

function rulesOf(p) {
  const rows = [];
  rows.push(el("li", {}, t("policy.rule.minWeight", { weight: showWeight(p.min_weight) })));
  if (p.min_categories) rows.push(el("li", {}, t("policy.rule.minCategories", { count: p.min_categories })));
  if (p.min_entities) rows.push(el("li", {}, t("policy.rule.minEntities", { count: p.min_entities })));
  for (const r of p.require || []) rows.push(el("li", {}, t("policy.rule.anyOf", { count: r.min, categories: r.any_of.map(categoryName).join(", ") })));
  if ((p.jurisdictions || []).length) rows.push(el("li", {}, t("policy.rule.jurisdictions", { list: p.jurisdictions.join(", ") })));
  if ((p.agree || []).length) rows.push(el("li", {}, t("policy.rule.agree", { paths: p.agree.join(", ") })));
  return rows;
}

function independenceOf(p) {
  const i = p.independence || {};
  const rows = [];
  for (const flag of ["exclude_subject_household", "one_per_entity", "one_per_person", "one_per_household"]) {
    if (i[flag]) rows.push(el("li", {}, t(`policy.independence.${flag}`)));
  }
  return rows.length ? el("ul", {}, rows) : el("p", {}, t("policy.independence.none"));
}

function freshnessOf(p) {
  const f = p.freshness || {};
  const rows = [];
  if (f.max_age_days) rows.push(el("li", {}, t("policy.freshness.maxAge", { days: f.max_age_days })));
  if (f.decay) rows.push(el("li", {}, t("policy.freshness.decay", { full: f.decay.full_weight_days, zero: f.decay.zero_weight_days })));
  return rows.length ? el("ul", {}, rows) : el("p", {}, t("policy.freshness.none"));
}

function conflictsOf(p) {
  const c = p.conflicts || {};
  const by = c.override_by || [];
  return el("p", { dataset: { testid: "policy-conflicts" } }, by.length ? t("policy.conflicts.override", { categories: by.map(categoryName).join(", ") }) : t("policy.conflicts.none"));
}

export async function renderPolicy(main, { session, route }) {
  const [id, version] = route.args;
  const errors = el("div", { "aria-live": "assertive" });
  main.append(el("p", {}, el("a", { href: "#/policies" }, t("policies.back"))), errors);
  let policies;
  try {
    policies = await loadPolicies(session);
  } catch (failure) {
    showError(errors, failure);
    return null;
  }
  const p = policies.find((x) => x.id === id && x.version === version);
  if (!p) {
    main.append(el("h1", {}, t("policy.unknownTitle")), el("p", { class: "error", role: "alert" }, t("policy.unknown", { id, version })));
    return null;
  }
  const versions = policies.filter((x) => x.id === id);
  const caps = p.caps || {};
  main.append(
    el("h1", {}, p.title),
    el(
      "dl",
      { class: "fields" },
      el("dt", {}, t("policies.id")),
      el("dd", { class: "mono" }, p.id),
      el("dt", {}, t("policies.version")),
      el("dd", {}, versions.length > 1 ? versions.map((v, i) => [i ? ", " : "", v.version === version ? el("strong", { "aria-current": "page" }, v.version) : el("a", { href: `#/policy/${encodeURIComponent(v.id)}/${encodeURIComponent(v.version)}` }, v.version)]) : p.version),
      el("dt", {}, t("policies.owner")),
      el("dd", {}, p.owner),
      el("dt", {}, t("policies.factType")),
      el("dd", {}, p.fact_type),
    ),
    el("p", { lang: "en" }, p.description),
    el("h2", {}, t("policy.categoriesTitle")),
    scrollRegion(
      t("policy.categoriesTitle"),
      el(
        "table",
        { dataset: { testid: "policy-categories" } },
        el("thead", {}, el("tr", {}, ["policy.category", "policy.weight", "policy.cap", "policy.onlyParties"].map((k) => el("th", { scope: "col" }, t(k))))),
        el(
          "tbody",
          {},
          Object.entries(p.categories || {}).map(([name, c]) =>
            el(
              "tr",
              {},
              el("th", { scope: "row" }, categoryName(name)),
              el("td", {}, showWeight(c.weight)),
              el("td", {}, caps[name] !== undefined ? showWeight(caps[name]) : "—"),
              el("td", {}, c.only_parties ? t("policy.yes") : t("policy.no")),
            ),
          ),
        ),
      ),
    ),
    el("h2", {}, t("policy.requirementsTitle")),
    el("ul", { dataset: { testid: "policy-threshold" } }, rulesOf(p)),
    (p.parties || []).length ? [el("h2", {}, t("policy.partiesTitle")), el("ul", {}, p.parties.map((party) => el("li", {}, t("policy.party", { role: party.role, path: party.path, categories: (party.may_attest_as || []).map(categoryName).join(", ") || "—" }))))] : null,
    el("h2", {}, t("policy.independenceTitle")),
    independenceOf(p),
    el("h2", {}, t("policy.freshnessTitle")),
    freshnessOf(p),
    el("h2", {}, t("policy.conflictsTitle")),
    conflictsOf(p),
    el("details", {}, el("summary", {}, t("policy.raw")), el("pre", { class: "raw", dataset: { testid: "policy-raw" } }, JSON.stringify(p, null, 2))),
  );
  return null;
}
