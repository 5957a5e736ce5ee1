// The trust registry: accreditations with filters (GET /registry/accreditations; administrators
// and government read), one accreditation's history on a timeline (granted, suspended with
// reasons and ends, revoked), and for administrators: accrediting a DID, suspending, ending a
// suspension and revoking, each with its reason. Nothing is rewritten: history only grows.
// When the service refuses a change (the accreditation changed meanwhile: 409; the identity is
// no longer an administrator: 403), the page is read again with the refusal, in the reader's
// language, above it; after a 403 the roles are read again, so the administrator's forms go.

import { idempotencyKey } from "../common/api.js";
import { formatDate, formatDateTime } from "../common/format.js";
import { t } from "../common/i18n.js";
import { announce, busy, clear, confirmDialog, el, failureMessage, scrollRegion, showError } from "../common/ui.js";
import { field } from "../portal/session.js";

export const FACT_TYPES = ["ResidenceAttestation", "BirthAttestation", "ParentageAttestation"];
const PAGE = 50;

/** The state an accreditation is in now. */
export function accreditationState(acc, now = new Date()) {
  const at = (s) => (s ? new Date(s) : null);
  if (acc.revocation && at(acc.revocation.at) <= now) return "revoked";
  if (acc.valid_until && at(acc.valid_until) <= now) return "expired";
  if (at(acc.valid_from) > now) return "future";
  const suspended = (acc.suspensions || []).some((s) => at(s.from) <= now && (!s.until || at(s.until) > now));
  return suspended ? "suspended" : "active";
}

function stateBadge(state) {
  const tone = { active: "ok", suspended: "warn", revoked: "danger", expired: "neutral", future: "neutral" }[state];
  return el("span", { class: `badge ${tone}`, dataset: { testid: "accreditation-state", state } }, t(`acc.state.${state}`));
}

/** A datetime-local or date input → RFC 3339 (UTC), or undefined when empty. */
function instant(value) {
  if (!value) return undefined;
  const date = new Date(value.length === 10 ? `${value}T00:00:00` : value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export async function renderRegistry(main, { session, route }) {
  const q = route.query;
  main.append(el("h1", {}, t("registry.title")), el("p", {}, t("registry.intro")));
  if (session.has("admin")) main.append(accreditForm(session));
  const filters = el(
    "form",
    { class: "filters", role: "search", "aria-label": t("registry.filters") },
    field("registry.did", { type: "text", name: "did", value: q.get("did") || "", class: "mono", spellcheck: "false" }).field,
    field("registry.category", { type: "text", name: "category", value: q.get("category") || "" }).field,
    field("registry.activeAt", { type: "date", name: "active_at", value: q.get("active_at") || "" }, "registry.activeAtHint").field,
    el("div", { class: "actions" }, el("button", { type: "submit", class: "primary" }, t("registry.search"))),
  );
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const name of ["did", "category", "active_at"]) if (filters.elements[name].value.trim()) next.set(name, filters.elements[name].value.trim());
    location.hash = `#/registry?${next}`;
  });
  const errors = el("div", { "aria-live": "assertive" });
  const status = el("p", { role: "status", "aria-live": "polite" }, t("dash.loading"));
  main.append(el("h2", { id: "acc-list-title" }, t("registry.listTitle")), filters, errors, status);

  const params = new URLSearchParams({ limit: String(PAGE) });
  if (q.get("did")) params.set("did", q.get("did"));
  if (q.get("category")) params.set("category", q.get("category"));
  if (q.get("active_at")) params.set("active_at", instant(q.get("active_at")) || "");
  if (q.get("after")) params.set("after", q.get("after"));
  let page;
  try {
    page = await session.call("GET", `/registry/accreditations?${params}`);
  } catch (failure) {
    status.textContent = "";
    showError(errors, failure);
    return null;
  }
  status.textContent = page.accreditations.length ? t("registry.shown", { count: page.accreditations.length }) : t("registry.none");
  if (page.accreditations.length) {
    main.append(
      scrollRegion(
        null,
        el(
          "table",
          { dataset: { testid: "accreditation-list" }, "aria-labelledby": "acc-list-title" },
          el("thead", {}, el("tr", {}, ["registry.did", "registry.category", "registry.controller", "registry.jurisdiction", "registry.validity", "registry.state"].map((k) => el("th", { scope: "col" }, t(k))))),
          el(
            "tbody",
            {},
            page.accreditations.map((acc) =>
              el(
                "tr",
                { dataset: { accreditationId: acc.id } },
                el("td", { class: "mono" }, el("a", { href: `#/accreditation/${encodeURIComponent(acc.id)}` }, acc.did)),
                el("td", {}, acc.category),
                el("td", { class: "mono" }, acc.controller),
                el("td", {}, acc.jurisdiction),
                el("td", {}, acc.valid_until ? t("registry.fromUntil", { from: formatDate(acc.valid_from), until: formatDate(acc.valid_until) }) : t("registry.fromOpen", { from: formatDate(acc.valid_from) })),
                el("td", {}, stateBadge(accreditationState(acc))),
              ),
            ),
          ),
        ),
      ),
    );
  }
  const pager = el("nav", { class: "actions", "aria-label": t("registry.pages") });
  if (q.get("after")) {
    const first = new URLSearchParams(q);
    first.delete("after");
    pager.append(el("a", { class: "button secondary", href: `#/registry?${first}` }, t("registry.first")));
  }
  if (page.next) {
    const next = new URLSearchParams(q);
    next.set("after", page.next);
    pager.append(el("a", { class: "button secondary", href: `#/registry?${next}` }, t("registry.more")));
  }
  main.append(pager);
  return null;
}

function accreditForm(session) {
  const f = {
    did: field("registry.did", { type: "text", required: true, class: "mono", spellcheck: "false", autocomplete: "off" }, "registry.didHint"),
    category: field("registry.category", { type: "text", required: true, pattern: "[a-z0-9-]{1,64}" }, "registry.categoryHint"),
    controller: field("registry.controller", { type: "text", required: true }, "registry.controllerHint"),
    person: field("registry.person", { type: "text" }, "registry.personHint"),
    household: field("registry.household", { type: "text" }),
    jurisdiction: field("registry.jurisdiction", { type: "text", required: true, value: "BE" }),
    valid_from: field("registry.validFrom", { type: "date" }, "registry.validFromHint"),
    valid_until: field("registry.validUntil", { type: "date" }, "registry.validUntilHint"),
    basis: field("registry.basis", { tag: "textarea", rows: "2" }),
  };
  const types = FACT_TYPES.map((type) => {
    const id = `fact-${type}`;
    return { type, input: el("input", { type: "checkbox", id, value: type, checked: type === "ResidenceAttestation" }), id };
  });
  const errors = el("div", { "aria-live": "assertive" });
  const submit = el("button", { type: "submit", class: "primary" }, t("registry.accredit"));
  let attempt = { body: null, key: null };
  const form = el(
    "form",
    { novalidate: true, "aria-labelledby": "accredit-title" },
    f.did.field,
    f.category.field,
    el("fieldset", {}, el("legend", {}, t("registry.factTypes")), types.map((x) => el("div", { class: "check" }, x.input, el("label", { for: x.id }, t(`factType.${x.type}`))))),
    el("div", { class: "field-row" }, f.controller.field, f.jurisdiction.field),
    el("div", { class: "field-row" }, f.person.field, f.household.field),
    el("div", { class: "field-row" }, f.valid_from.field, f.valid_until.field),
    f.basis.field,
    el("div", { class: "actions" }, submit),
    errors,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    const value = (name) => f[name].input.value.trim();
    const body = {
      did: value("did"),
      category: value("category"),
      fact_types: types.filter((x) => x.input.checked).map((x) => x.type),
      controller: value("controller"),
      jurisdiction: value("jurisdiction"),
    };
    for (const name of ["person", "household", "basis"]) if (value(name)) body[name] = value(name);
    for (const name of ["valid_from", "valid_until"]) if (value(name)) body[name] = instant(value(name));
    const missing = ["did", "category", "controller", "jurisdiction"].filter((name) => !body[name]);
    if (missing.length || !body.fact_types.length) {
      for (const name of missing) f[name].input.setAttribute("aria-invalid", "true");
      showError(errors, { message: t("registry.missing") });
      return;
    }
    const text = JSON.stringify(body);
    if (attempt.body !== text) attempt = { body: text, key: idempotencyKey() };
    try {
      const made = await busy(submit, session.call("POST", "/registry/accreditations", { body, idempotencyKey: attempt.key }));
      announce(t("registry.accredited", { did: made.did }));
      location.hash = `#/accreditation/${encodeURIComponent(made.id)}`;
    } catch (failure) {
      showError(errors, failure);
    }
  });
  return el("details", { class: "card", dataset: { testid: "accredit" } }, el("summary", { id: "accredit-title" }, t("registry.accreditTitle")), form);
}

/** The history of an accreditation as timeline events, oldest first. */
export function timelineEvents(acc) {
  const events = [{ at: acc.valid_from, kind: "granted", acc }];
  for (const s of acc.suspensions || []) {
    events.push({ at: s.from, kind: "suspension", s });
    if (s.until) events.push({ at: s.until, kind: "resumed", s });
  }
  if (acc.valid_until) events.push({ at: acc.valid_until, kind: "expires" });
  if (acc.revocation) events.push({ at: acc.revocation.at, kind: "revocation", r: acc.revocation });
  return events.sort((a, b) => new Date(a.at) - new Date(b.at));
}

function eventItem(event) {
  const when = el("time", { datetime: event.at }, formatDateTime(event.at));
  switch (event.kind) {
    case "granted":
      return el(
        "li",
        { class: "granted", dataset: { event: "granted" } },
        el("strong", {}, t("acc.event.granted")),
        " ",
        when,
        el("div", {}, t("acc.event.grantedBy", { by: event.acc.granted_by, at: formatDateTime(event.acc.granted_at) })),
        event.acc.basis ? el("div", {}, t("acc.event.basis", { basis: event.acc.basis })) : null,
        event.acc.source_decision ? el("div", {}, t("acc.event.source"), " ", el("a", { href: `#/decision/${encodeURIComponent(event.acc.source_decision)}` }, event.acc.source_decision)) : null,
      );
    case "suspension":
      return el(
        "li",
        { class: "suspension", dataset: { event: "suspension" } },
        el("strong", {}, t("acc.event.suspended")),
        " ",
        when,
        el("div", {}, t("acc.event.reason", { reason: event.s.reason })),
        el("div", { class: "hint" }, t("acc.event.recorded", { by: event.s.suspended_by, at: formatDateTime(event.s.recorded_at) })),
        event.s.until ? null : el("div", {}, t("acc.event.untilFurtherNotice")),
      );
    case "resumed":
      return el(
        "li",
        { class: "resumed", dataset: { event: "resumed" } },
        el("strong", {}, t("acc.event.suspensionEnds")),
        " ",
        when,
        el("div", {}, t("acc.event.ends", { reason: event.s.reason })),
        event.s.ended_by ? el("div", { class: "hint" }, t("acc.event.endedBy", { by: event.s.ended_by, at: formatDateTime(event.s.end_recorded_at) })) : null,
      );
    case "expires":
      return el("li", { class: "expires", dataset: { event: "expires" } }, el("strong", {}, t("acc.event.expires")), " ", when);
    default:
      return el(
        "li",
        { class: "revocation", dataset: { event: "revocation" } },
        el("strong", {}, event.r.for_cause ? t("acc.event.revokedForCause") : t("acc.event.revoked")),
        " ",
        when,
        el("div", {}, t("acc.event.reason", { reason: event.r.reason })),
        el("div", { class: "hint" }, t("acc.event.recorded", { by: event.r.revoked_by, at: formatDateTime(event.r.recorded_at) })),
      );
  }
}

/** The message for a change the service refused. */
function refusal(failure) {
  if (failure && failure.code === "conflict") return { message: t("acc.refusedConflict") };
  if (failure && failure.code === "forbidden") return { message: t("acc.refusedForbidden") };
  return { message: failureMessage(failure) };
}

/** After a refusal for the role: is the identity still allowed to read the registry's records? */
function mayRead(session) {
  return session.has("admin") || session.has("government");
}

export async function renderAccreditation(main, { session, route, failure = null }) {
  const id = route.args[0];
  const errors = el("div", { "aria-live": "assertive", dataset: { testid: "accreditation-errors" } });
  main.append(el("p", {}, el("a", { href: "#/registry" }, t("registry.back"))), el("h1", {}, t("acc.title")), errors);
  if (failure) showError(errors, failure);
  let acc;
  try {
    acc = await session.call("GET", `/registry/accreditations/${encodeURIComponent(id)}`);
  } catch (readFailure) {
    // After a refusal its explanation stays, and the failed read follows it.
    if (failure) errors.append(el("p", { class: "error" }, failureMessage(readFailure)));
    else showError(errors, readFailure);
    return null;
  }
  const reload = async (failed = null) => {
    let shown = null;
    if (failed) {
      shown = refusal(failed);
      // Refused for the role: read the roles again, so the forms it no longer may use go.
      if (failed.code === "forbidden") {
        try {
          session.me = await session.call("GET", "/auth/me");
          if (!mayRead(session)) shown = { message: t("acc.refusedForbiddenNoRead") };
        } catch {
          // The refusal is shown either way.
        }
      }
    }
    clear(main);
    await renderAccreditation(main, { session, route, failure: shown });
    if (shown) main.querySelector('[data-testid="accreditation-errors"]').scrollIntoView({ block: "center" });
  };
  main.append(
    el(
      "section",
      { class: "card", "aria-labelledby": "acc-details" },
      el("h2", { id: "acc-details" }, t("acc.details")),
      el(
        "dl",
        { class: "fields" },
        el("dt", {}, t("registry.did")),
        el("dd", { class: "mono" }, acc.did),
        el("dt", {}, t("registry.state")),
        el("dd", {}, stateBadge(accreditationState(acc))),
        el("dt", {}, t("registry.category")),
        el("dd", {}, acc.category),
        el("dt", {}, t("registry.factTypes")),
        el("dd", {}, acc.fact_types.join(", ")),
        el("dt", {}, t("registry.controller")),
        el("dd", { class: "mono" }, acc.controller),
        acc.person ? [el("dt", {}, t("registry.person")), el("dd", { class: "mono" }, acc.person)] : null,
        acc.household ? [el("dt", {}, t("registry.household")), el("dd", { class: "mono" }, acc.household)] : null,
        acc.area ? [el("dt", {}, t("registry.area")), el("dd", {}, acc.area)] : null,
        el("dt", {}, t("registry.jurisdiction")),
        el("dd", {}, acc.jurisdiction),
        el("dt", {}, t("registry.id")),
        el("dd", { class: "mono" }, acc.id),
      ),
    ),
    el("section", { "aria-labelledby": "acc-history" }, el("h2", { id: "acc-history" }, t("acc.history")), el("ol", { class: "timeline", dataset: { testid: "accreditation-timeline" } }, timelineEvents(acc).map(eventItem))),
  );
  if (session.has("admin") && !acc.revocation) main.append(adminActions(session, acc, reload));
  return null;
}

function adminActions(session, acc, reload) {
  const section = el("section", { class: "stack", "aria-labelledby": "acc-actions" }, el("h2", { id: "acc-actions" }, t("acc.actions")));
  const base = `/registry/accreditations/${encodeURIComponent(acc.id)}`;

  const open = (acc.suspensions || []).filter((s) => !s.until);
  for (const s of open) {
    const errors = el("div", { "aria-live": "assertive" });
    const button = el("button", { type: "button", class: "secondary" }, t("acc.endSuspension"));
    button.addEventListener("click", async () => {
      if (!(await confirmDialog(t("acc.confirmEnd", { reason: s.reason })))) return;
      try {
        await busy(button, session.call("POST", `${base}/suspensions/${encodeURIComponent(s.id)}/end`, { body: {} }));
        announce(t("acc.ended"));
        reload();
      } catch (failure) {
        reload(failure);
      }
    });
    section.append(el("div", { class: "card" }, el("p", {}, t("acc.openSuspension", { from: formatDateTime(s.from), reason: s.reason })), button, errors));
  }

  {
    const reason = field("acc.reason", { tag: "textarea", rows: "2", required: true });
    const from = field("acc.from", { type: "datetime-local" }, "acc.fromHint");
    const until = field("acc.until", { type: "datetime-local" }, "acc.untilHint");
    const errors = el("div", { "aria-live": "assertive" });
    const submit = el("button", { type: "submit", class: "secondary" }, t("acc.suspend"));
    const form = el("form", { novalidate: true, "aria-labelledby": "suspend-title" }, el("h3", { id: "suspend-title" }, t("acc.suspendTitle")), reason.field, el("div", { class: "field-row" }, from.field, until.field), el("div", { class: "actions" }, submit), errors);
    const key = idempotencyKey();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(errors, null);
      if (!reason.input.value.trim()) {
        reason.input.setAttribute("aria-invalid", "true");
        showError(errors, { message: t("acc.reasonRequired") });
        return;
      }
      const body = { reason: reason.input.value.trim() };
      if (instant(from.input.value)) body.from = instant(from.input.value);
      if (instant(until.input.value)) body.until = instant(until.input.value);
      try {
        await busy(submit, session.call("POST", `${base}/suspensions`, { body, idempotencyKey: key }));
        announce(t("acc.suspended"));
        reload();
      } catch (failure) {
        if (failure && failure.status === 400) showError(errors, failure);
        else reload(failure);
      }
    });
    section.append(form);
  }

  {
    const reason = field("acc.reason", { tag: "textarea", rows: "2", required: true });
    const at = field("acc.at", { type: "datetime-local" }, "acc.atHint");
    const forCause = el("input", { type: "checkbox", id: "for-cause" });
    const errors = el("div", { "aria-live": "assertive" });
    const submit = el("button", { type: "submit", class: "danger" }, t("acc.revoke"));
    const form = el(
      "form",
      { novalidate: true, "aria-labelledby": "revoke-title" },
      el("h3", { id: "revoke-title" }, t("acc.revokeTitle")),
      reason.field,
      at.field,
      el("div", { class: "check" }, forCause, el("label", { for: "for-cause" }, t("acc.forCause"))),
      el("p", { class: "hint" }, t("acc.forCauseHint")),
      el("div", { class: "actions" }, submit),
      errors,
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      showError(errors, null);
      if (!reason.input.value.trim()) {
        reason.input.setAttribute("aria-invalid", "true");
        showError(errors, { message: t("acc.reasonRequired") });
        return;
      }
      if (!(await confirmDialog(t(forCause.checked ? "acc.confirmRevokeForCause" : "acc.confirmRevoke", { did: acc.did }), { danger: true, confirmLabel: t("acc.revoke") }))) return;
      const body = { reason: reason.input.value.trim(), for_cause: forCause.checked };
      if (instant(at.input.value)) body.at = instant(at.input.value);
      try {
        await busy(submit, session.call("POST", `${base}/revocation`, { body }));
        announce(t("acc.revokedDone"));
        reload();
      } catch (failure) {
        if (failure && failure.status === 400) showError(errors, failure);
        else reload(failure);
      }
    });
    section.append(form);
  }
  return section;
}
