// Searching the decisions this verifier made (GET /decisions): by outcome, policy, whether the
// decision still holds, and a period. The filters live in the route's query, so a search can be
// bookmarked and the browser's back button returns to it.

import { formatDateTime } from "../common/format.js";
import { t } from "../common/i18n.js";
import { el, scrollRegion, showError } from "../common/ui.js";
import { loadPolicies } from "./evaluate.js";

export const OUTCOMES = ["established", "insufficient", "disputed", "rejected"];
const PAGE = 25;

export function outcomeBadge(outcome, attrs = {}) {
  const tone = { established: "ok", insufficient: "warn", disputed: "danger", rejected: "danger" }[outcome] || "neutral";
  return el("span", { class: `badge ${tone}`, ...attrs }, t(`outcome.${outcome}`));
}

/** A date input's day → the RFC 3339 instant it starts (local midnight), or the next day's for an end. */
function dayStart(day, next = false) {
  if (!day) return null;
  const date = new Date(`${day}T00:00:00`);
  if (Number.isNaN(date.getTime())) return null;
  if (next) date.setDate(date.getDate() + 1);
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function select(id, label, options, value) {
  return el(
    "div",
    { class: "field" },
    el("label", { for: id }, label),
    el("select", { id, name: id }, options.map(([v, text]) => el("option", { value: v, selected: v === value }, text))),
  );
}

export async function renderDecisions(main, { session, route }) {
  const q = route.query;
  const offset = Math.max(0, Number(q.get("offset")) || 0);
  main.append(el("h1", {}, t("decisions.title")));
  const errors = el("div", { "aria-live": "assertive" });
  let policyIds = [];
  try {
    policyIds = [...new Set((await loadPolicies(session)).map((p) => p.id))];
  } catch {
    // The policy filter then offers only "any"; the search still works.
  }
  const form = el(
    "form",
    { class: "filters", role: "search", "aria-label": t("decisions.filters") },
    select("outcome", t("decisions.outcome"), [["", t("decisions.any")], ...OUTCOMES.map((o) => [o, t(`outcome.${o}`)])], q.get("outcome") || ""),
    select("policy", t("decisions.policy"), [["", t("decisions.any")], ...policyIds.map((p) => [p, p])], q.get("policy") || ""),
    select("holds", t("decisions.holds"), [["", t("decisions.any")], ["true", t("decisions.holdsYes")], ["false", t("decisions.holdsNo")]], q.get("holds") || ""),
    el("div", { class: "field" }, el("label", { for: "from" }, t("decisions.from")), el("input", { type: "date", id: "from", name: "from", value: q.get("from") || "" })),
    el("div", { class: "field" }, el("label", { for: "to" }, t("decisions.to")), el("input", { type: "date", id: "to", name: "to", value: q.get("to") || "" })),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, t("decisions.search"))),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of ["outcome", "policy", "holds", "from", "to"]) {
      const value = form.elements[name].value;
      if (value) next.set(name, value);
    }
    location.hash = `#/decisions?${next}`;
  });
  const status = el("p", { role: "status", "aria-live": "polite" }, t("dash.loading"));
  const results = el("div", {});
  main.append(form, errors, status, results);

  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  for (const name of ["outcome", "policy", "holds"]) if (q.get(name)) params.set(name, q.get(name));
  const from = dayStart(q.get("from"));
  const until = dayStart(q.get("to"), true);
  if (from) params.set("from", from);
  if (until) params.set("until", until);
  let page;
  try {
    page = await session.call("GET", `/decisions?${params}`);
  } catch (failure) {
    status.textContent = "";
    showError(errors, failure);
    return null;
  }
  status.textContent = page.total === 0 ? t("decisions.none") : t("decisions.range", { from: offset + 1, to: offset + page.decisions.length, total: page.total });
  if (!page.decisions.length) return null;
  results.append(
    scrollRegion(
      null,
      el(
        "table",
        { dataset: { testid: "decision-list" } },
        el("caption", { class: "visually-hidden" }, t("decisions.title")),
        el("thead", {}, el("tr", {}, ["decisions.decidedAt", "decisions.outcome", "decisions.policy", "decisions.subject", "decisions.holds"].map((k) => el("th", { scope: "col" }, t(k))))),
        el(
          "tbody",
          {},
          page.decisions.map((d) =>
            el(
              "tr",
              { dataset: { decisionId: d.id, outcome: d.outcome } },
              el("td", {}, el("a", { href: `#/decision/${encodeURIComponent(d.id)}` }, formatDateTime(d.decided_at))),
              el("td", {}, outcomeBadge(d.outcome)),
              el("td", {}, `${d.policy} ${d.policy_version}`),
              el("td", { class: "mono" }, d.erased ? t("decisions.erased") : d.subject || "—"),
              el("td", {}, d.holds ? t("decisions.holdsYes") : t("decisions.holdsNo")),
            ),
          ),
        ),
      ),
    ),
  );
  const pager = el("nav", { class: "actions", "aria-label": t("decisions.pages") });
  const link = (o, label) => {
    const next = new URLSearchParams(q);
    next.set("offset", String(o));
    return el("a", { class: "button secondary", href: `#/decisions?${next}` }, label);
  };
  if (offset > 0) pager.append(link(Math.max(0, offset - PAGE), t("decisions.newer")));
  if (offset + page.decisions.length < page.total) pager.append(link(offset + PAGE, t("decisions.older")));
  results.append(pager);
  return null;
}
