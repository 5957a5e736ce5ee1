// Request an attestation: the fact type (residence first), its claims as a form (a Belgian address
// with street and municipality in French and Dutch, and since when), the attesters' DIDs and/or a
// one-time link, a note and an expiry. Then the link as a QR code, text and share button.

import { t } from "../../common/i18n.js";
import { busy, el, showError, announce } from "../../common/ui.js";
import { linkBox } from "../link.js";
import { actingAs, field, wallet } from "../state.js";

const FACT_TYPES = ["ResidenceAttestation", "BirthAttestation", "ParentageAttestation"];

export async function render(context) {
  if (context.param) {
    const requests = await import("./requests.js");
    return requests.renderOne(context);
  }
  const input = (id, attrs = {}) => el("input", { id, name: id, ...attrs });
  const fields = {
    factType: el("select", { id: "fact-type" }, FACT_TYPES.map((f) => el("option", { value: f }, t(`fact.${f}`)))),
    streetFr: input("street-fr", { autocomplete: "off", lang: "fr" }),
    streetNl: input("street-nl", { autocomplete: "off", lang: "nl" }),
    houseNumber: input("house-number", { required: true, autocomplete: "off", inputmode: "text" }),
    box: input("box", { autocomplete: "off" }),
    postalCode: input("postal-code", { required: true, inputmode: "numeric", pattern: "[0-9]{4}", autocomplete: "postal-code" }),
    municipalityFr: input("municipality-fr", { autocomplete: "off", lang: "fr" }),
    municipalityNl: input("municipality-nl", { autocomplete: "off", lang: "nl" }),
    country: input("country", { value: "BE", readonly: true }),
    since: input("since", { type: "date", required: true }),
    claimsJson: el("textarea", { id: "claims-json", rows: 8, spellcheck: "false" }),
    to: el("textarea", { id: "attesters", rows: 3, spellcheck: "false", autocomplete: "off" }),
    open: el("input", { id: "open-link", type: "checkbox", checked: true }),
    note: el("textarea", { id: "note", rows: 3 }),
    days: input("expires-days", { type: "number", min: 1, max: 30, value: "14", inputmode: "numeric" }),
  };
  const field_ = (control, key, hint) => {
    if (hint) control.setAttribute("aria-describedby", `${control.id}-hint`);
    return el("div", { class: "field" }, el("label", { for: control.id }, t(key)), hint ? el("span", { class: "hint", id: `${control.id}-hint` }, t(hint)) : null, control);
  };
  const residence = el(
    "fieldset",
    { dataset: { testid: "residence-fields" } },
    el("legend", {}, t("request.address")),
    el("div", { class: "field-row" }, field_(fields.streetFr, "request.streetFr"), field_(fields.streetNl, "request.streetNl")),
    el("div", { class: "field-row" }, field_(fields.houseNumber, "request.houseNumber"), field_(fields.box, "request.box")),
    el("div", { class: "field-row" }, field_(fields.postalCode, "request.postalCode"), field_(fields.country, "request.country")),
    el("div", { class: "field-row" }, field_(fields.municipalityFr, "request.municipalityFr"), field_(fields.municipalityNl, "request.municipalityNl")),
    field_(fields.since, "request.since", "request.sinceHint"),
  );
  const other = el("div", { hidden: true }, field_(fields.claimsJson, "request.claimsJson", "request.claimsJsonHint"));
  fields.factType.addEventListener("change", () => {
    const isResidence = fields.factType.value === "ResidenceAttestation";
    residence.hidden = !isResidence;
    other.hidden = isResidence;
  });

  const errors = el("div", { "aria-live": "assertive", dataset: { testid: "request-error" } });
  const submit = el("button", { type: "submit", dataset: { testid: "request-create" } }, t("request.create"));
  const result = el("div", { "aria-live": "polite" });
  const form = el(
    "form",
    { novalidate: true, dataset: { testid: "request-form" } },
    field_(fields.factType, "request.factType"),
    residence,
    other,
    el(
      "fieldset",
      {},
      el("legend", {}, t("request.who")),
      field_(fields.to, "request.attesters", "request.attestersHint"),
      el("label", { class: "check", for: fields.open.id }, fields.open, t("request.openLink")),
    ),
    field_(fields.note, "request.note", "request.noteHint"),
    field_(fields.days, "request.days"),
    errors,
    el("div", { class: "actions" }, submit),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      const ask = readForm(fields);
      const created = await busy(submit, wallet().requestCreate(ask, actingAs()));
      announce(t("request.created"));
      const link = field(created, "link");
      result.replaceChildren(
        el(
          "section",
          { class: "stack", dataset: { testid: "request-created" } },
          el("h2", { tabindex: "-1" }, t("request.createdTitle")),
          el("p", {}, t("request.createdText")),
          link ? linkBox(link) : null,
          el("p", {}, el("a", { href: `#/request/${encodeURIComponent(field(created, "id"))}`, dataset: { testid: "request-progress-link" } }, t("request.followProgress"))),
        ),
      );
      form.hidden = true;
      result.querySelector("h2").focus();
    } catch (failure) {
      showError(errors, failure);
    }
  });

  return el("section", {}, el("h1", {}, t("request.title")), el("p", {}, t("request.intro")), form, result);
}

function languageMap(fr, nl) {
  const map = {};
  if (fr.value.trim()) map.fr = fr.value.trim();
  if (nl.value.trim()) map.nl = nl.value.trim();
  return map;
}

function invalid(control, key) {
  control.setAttribute("aria-invalid", "true");
  control.focus();
  return { code: "invalid", message: t(key) };
}

function readForm(f) {
  for (const control of Object.values(f)) control.removeAttribute && control.removeAttribute("aria-invalid");
  const factType = f.factType.value;
  let claims;
  if (factType === "ResidenceAttestation") {
    const street = languageMap(f.streetFr, f.streetNl);
    const municipality = languageMap(f.municipalityFr, f.municipalityNl);
    if (!Object.keys(street).length) throw invalid(f.streetFr, "request.needStreet");
    if (!f.houseNumber.value.trim()) throw invalid(f.houseNumber, "request.needNumber");
    if (!/^\d{4}$/.test(f.postalCode.value.trim())) throw invalid(f.postalCode, "request.needPostalCode");
    if (!Object.keys(municipality).length) throw invalid(f.municipalityFr, "request.needMunicipality");
    if (!f.since.value) throw invalid(f.since, "request.needSince");
    const address = { street, houseNumber: f.houseNumber.value.trim(), postalCode: f.postalCode.value.trim(), municipality, country: "BE" };
    if (f.box.value.trim()) address.box = f.box.value.trim();
    claims = { residence: { address, since: f.since.value } };
  } else {
    try {
      claims = JSON.parse(f.claimsJson.value);
    } catch {
      throw invalid(f.claimsJson, "request.badJson");
    }
  }
  const to = f.to.value.split(/\s+/).map((s) => s.trim()).filter(Boolean);
  const bad = to.find((d) => !d.startsWith("did:"));
  if (bad) throw invalid(f.to, "request.badDid");
  if (!to.length && !f.open.checked) throw invalid(f.to, "request.needAttester");
  const ask = { factType, claims, to, open: f.open.checked };
  const days = Number.parseInt(f.days.value, 10);
  if (Number.isFinite(days) && days > 0) ask.expiresInDays = days;
  if (f.note.value.trim()) ask.note = f.note.value.trim();
  return ask;
}
