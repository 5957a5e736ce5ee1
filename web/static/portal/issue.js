// Issuing one residence attestation through POST /credentials/issue, in the chosen hosted
// issuer's name. The Idempotency-Key follows the body: a retry of the same attestation (after a
// lost answer) returns the first credential, an edited form gets a new key.

import { idempotencyKey } from "../common/api.js";
import { formatAddress } from "../common/format.js";
import { t } from "../common/i18n.js";
import { announce, busy, clear, download, el, showError } from "../common/ui.js";
import { FACT_TYPE, ROLES, buildResidence } from "./residence.js";
import { field } from "./session.js";

let lastAttempt = { body: null, key: null };

function keyFor(body) {
  const text = JSON.stringify(body);
  if (lastAttempt.body !== text) lastAttempt = { body: text, key: idempotencyKey() };
  return lastAttempt.key;
}

export function credentialFileName(credential) {
  const id = String(credential.id || "credential").replace(/^urn:uuid:/, "").replace(/[^A-Za-z0-9._-]/g, "_");
  return `residence-${id}.json`;
}

/** Removes the messages showFieldErrors put beside the fields. */
function clearFieldErrors(inputs) {
  for (const input of Object.values(inputs)) {
    input.removeAttribute("aria-invalid");
    const message = document.getElementById(`${input.id}-error`);
    if (message) message.remove();
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== `${input.id}-error`);
    if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    else input.removeAttribute("aria-describedby");
  }
}

/** Each field's problems beside it (and read with it, through aria-describedby). */
function showFieldErrors(inputs, problems) {
  for (const [name, input] of Object.entries(inputs)) {
    const mine = problems.filter((problem) => problem.field === name);
    if (!mine.length) continue;
    input.setAttribute("aria-invalid", "true");
    const id = `${input.id}-error`;
    const message = el("p", { class: "field-error", id, dataset: { testid: "field-error", field: name } }, mine.map((problem) => t(problem.key, problem.params)).join("; "));
    input.after(message);
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
  }
}

export function renderIssue(container, { session, issuer }) {
  clear(container);
  const inputs = {};
  const add = (name, labelKey, attrs = {}, hintKey = null) => {
    const made = field(labelKey, { name, ...attrs }, hintKey);
    inputs[name] = made.input;
    return made.field;
  };
  const roleSelect = add(
    "role",
    "issue.role",
    { tag: "select", required: true },
    "issue.roleHint",
  );
  inputs.role.append(el("option", { value: "" }, t("issue.chooseRole")), ...ROLES.map((role) => el("option", { value: role }, t(`role.${role}`))));
  const factType = field("issue.factType", { tag: "select", name: "factType" });
  factType.input.append(el("option", { value: FACT_TYPE }, t("issue.factType.residence")));

  const errors = el("div", { "aria-live": "assertive" });
  const result = el("div", { "aria-live": "polite" });
  const submit = el("button", { type: "submit", class: "primary" }, t("issue.submit"));
  const form = el(
    "form",
    { novalidate: true, "aria-labelledby": "issue-title" },
    el("h2", { id: "issue-title" }, t("issue.title")),
    el("p", {}, t("issue.intro", { issuer: issuer.name })),
    add("subject", "issue.subject", { type: "text", required: true, autocomplete: "off", spellcheck: "false", class: "mono" }, "issue.subjectHint"),
    factType.field,
    el(
      "fieldset",
      {},
      el("legend", {}, t("issue.address")),
      el("div", { class: "field-row" }, add("street_fr", "issue.streetFr", { type: "text", lang: "fr" }), add("street_nl", "issue.streetNl", { type: "text", lang: "nl" })),
      el(
        "div",
        { class: "field-row" },
        add("house_number", "issue.houseNumber", { type: "text", required: true, maxlength: "16" }),
        add("box", "issue.box", { type: "text", maxlength: "16" }),
        add("postal_code", "issue.postalCode", { type: "text", required: true, maxlength: "16", inputmode: "numeric" }),
      ),
      el("div", { class: "field-row" }, add("municipality_fr", "issue.municipalityFr", { type: "text", lang: "fr" }), add("municipality_nl", "issue.municipalityNl", { type: "text", lang: "nl" })),
      add("country", "issue.country", { type: "text", required: true, value: "BE", maxlength: "2", autocomplete: "country" }, "issue.countryHint"),
    ),
    add("since", "issue.since", { type: "date", required: true }),
    el("fieldset", {}, el("legend", {}, t("issue.relation")), roleSelect, add("relation_since", "issue.relationSince", { type: "date" })),
    el("div", { class: "actions" }, submit),
    errors,
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    clear(result);
    clearFieldErrors(inputs);
    const values = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.value]));
    // A date picker holding an impossible date (31 February) has an empty value: say so.
    const badDates = Object.entries(inputs)
      .filter(([, input]) => input.type === "date" && input.validity.badInput)
      .map(([name]) => name);
    const { credential, problems } = buildResidence(values, issuer.did, { badDates });
    if (problems.length) {
      showFieldErrors(inputs, problems);
      errors.append(
        el(
          "div",
          { class: "error", role: "alert" },
          el("p", {}, t("issue.fixProblems")),
          el("ul", {}, problems.map((problem) => el("li", {}, `${t(`field.${problem.field}`)}: ${t(problem.key, problem.params)}`))),
        ),
      );
      // The first bad field in the order the form shows them.
      const first = form.querySelector('[aria-invalid="true"]');
      if (first) first.focus();
      return;
    }
    const body = { credential };
    try {
      const answer = await busy(submit, session.call("POST", "/credentials/issue", { body, idempotencyKey: keyFor(body) }));
      const vc = answer.verifiableCredential;
      const subject = vc.credentialSubject || {};
      result.append(
        el(
          "section",
          { class: "success", dataset: { testid: "issue-result" }, "aria-labelledby": "issued-title" },
          el("h3", { id: "issued-title", tabindex: "-1" }, t("issue.done")),
          el(
            "dl",
            { class: "fields" },
            el("dt", {}, t("issue.credentialId")),
            el("dd", { class: "mono" }, vc.id),
            el("dt", {}, t("issue.subject")),
            el("dd", { class: "mono" }, subject.id),
            el("dt", {}, t("issue.address")),
            el("dd", {}, formatAddress(subject.residence && subject.residence.address)),
          ),
          el("p", {}, t("issue.downloadHint")),
          el(
            "div",
            { class: "actions" },
            el(
              "button",
              { type: "button", class: "primary", dataset: { testid: "download-credential" }, onclick: () => download(credentialFileName(vc), JSON.stringify(vc, null, 2), "application/json") },
              t("issue.download"),
            ),
            el("button", { type: "button", class: "secondary", onclick: () => renderIssue(container, { session, issuer }) }, t("issue.another")),
          ),
        ),
      );
      announce(t("issue.done"));
      result.querySelector("h3").focus();
    } catch (failure) {
      showError(errors, failure);
    }
  });
  container.append(form, result);
}
