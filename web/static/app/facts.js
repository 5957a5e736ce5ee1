// The fact types a citizen can ask attesters for, each described once: its claims as form
// fields (with the rules schemas/<fact>-attestation.json sets on them: required members,
// lengths, patterns, formats), the attester roles its schema allows, and which claims sum it up.
// The request form, the attester's review and the request pages are all drawn from these
// descriptions, so a claim has one label, one message per broken rule and one way to be shown.
//
// Labels, hints and messages are i18n keys derived from a field's key: `facts.<key>` (label),
// `facts.<key>.hint`, and one per rule it can break: `.need` (required and empty), `.bad`
// (format), `.future` (a date after today), `.order` (before the date it must follow).

import { currentLanguage, hasTranslation, t } from "../common/i18n.js";
import { formatDate, localized } from "../common/format.js";
import { el } from "../common/ui.js";
import { claimLabel, claimValue, did, printable } from "./view.js";

// credential-parts.json: text 1–200, code 1–16, a DID or a urn:uuid, a date, a country code.
const TEXT_MAX = 200;
const CODE_MAX = 16;
const SUBJECT_ID =
  /^(?:did:[a-z0-9]+:(?:[A-Za-z0-9._:-]|%[0-9A-Fa-f]{2})*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})|urn:uuid:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(?:[01][0-9]|2[0-3]):[0-5][0-9]$/;
const COUNTRY = /^[A-Z]{2}$/;
// The languages a Belgian place name is asked in (the schema allows any language map).
const NAME_LANGUAGES = ["fr", "nl"];

/**
 * Each fact type: `sections` of the form (a legend and fields; a field list inside an array is
 * one row; `group: true` makes a section all-or-nothing, as an optional object whose members
 * are required), `roles` from the schema's attesterRelation, `summary` the claim paths a list
 * shows, `about` whether the subject is usually someone else than the wallet's owner.
 * Field types: text, code, localized (a language map, asked in French and Dutch), country,
 * date, time, party ({id: DID or urn:uuid}), choice (`options`, labelled `<optionKey>.<value>`).
 */
export const FACTS = {
  ResidenceAttestation: {
    roles: ["neighbour", "landlord", "utility-supplier", "bank", "parcel-carrier", "employer", "municipality-officer", "other"],
    summary: ["residence.address", "residence.since"],
    sections: [
      {
        legend: "facts.section.address",
        display: { path: "residence.address", as: "address" },
        fields: [
          { key: "street", path: "residence.address.street", type: "localized", required: true },
          [
            { key: "houseNumber", path: "residence.address.houseNumber", type: "code", required: true },
            { key: "box", path: "residence.address.box", type: "code" },
          ],
          [
            { key: "postalCode", path: "residence.address.postalCode", type: "code", required: true, pattern: /^\d{4}$/, inputmode: "numeric", autocomplete: "postal-code" },
            // The form asks for Belgian addresses (street and municipality in French and Dutch).
            { key: "country", path: "residence.address.country", type: "country", fixed: "BE" },
          ],
          { key: "municipality", path: "residence.address.municipality", type: "localized", required: true },
          { key: "addressRegisterId", path: "residence.address.addressRegisterId", type: "text", form: false },
        ],
      },
      {
        legend: "facts.section.period",
        fields: [
          [
            { key: "since", path: "residence.since", type: "date", required: true, notFuture: true, hint: true },
            { key: "until", path: "residence.until", type: "date", after: "since", notFuture: true, hint: true },
          ],
        ],
      },
    ],
  },
  BirthAttestation: {
    roles: ["physician", "midwife", "mother", "father", "parent", "hospital", "other"],
    summary: ["birth.date", "birth.place.municipality"],
    about: true,
    sections: [
      {
        legend: "facts.section.birth",
        fields: [
          [
            { key: "birthDate", path: "birth.date", type: "date", required: true, notFuture: true },
            { key: "birthTime", path: "birth.time", type: "time", hint: true },
          ],
        ],
      },
      {
        legend: "facts.section.place",
        fields: [
          { key: "birthMunicipality", path: "birth.place.municipality", type: "localized", required: true },
          [
            { key: "birthCountry", path: "birth.place.country", type: "country", required: true, initial: "BE", hint: true },
            { key: "facility", path: "birth.place.facility", type: "text" },
          ],
        ],
      },
      {
        legend: "facts.section.parents",
        fields: [
          { key: "mother", path: "birth.mother", type: "party", required: true, hint: true },
          { key: "father", path: "birth.father", type: "party", hint: true },
        ],
      },
      {
        legend: "facts.section.childName",
        hint: "facts.section.childName.hint",
        group: true,
        fields: [
          [
            { key: "childGiven", path: "birth.childName.given", type: "text", required: true, autocomplete: "off" },
            { key: "childFamily", path: "birth.childName.family", type: "text", required: true, autocomplete: "off" },
          ],
        ],
      },
    ],
  },
  ParentageAttestation: {
    roles: ["parent", "physician", "midwife", "civil-registrar", "other"],
    summary: ["parentage.relationship", "parentage.since"],
    about: true,
    sections: [
      {
        legend: "facts.section.parentage",
        fields: [
          { key: "parent", path: "parentage.parent", type: "party", required: true, hint: true },
          [
            { key: "relationship", path: "parentage.relationship", type: "choice", required: true, options: ["mother", "father", "parent", "adoptive-parent"], optionKey: "relationship" },
            { key: "parentSince", path: "parentage.since", type: "date", required: true, notFuture: true, hint: true },
          ],
        ],
      },
    ],
  },
};

export const FACT_TYPES = Object.keys(FACTS);

/** The roles an attester may state for a fact type (its schema's list). */
export function rolesOf(factType) {
  return (FACTS[factType] && FACTS[factType].roles) || ["other"];
}

function fieldsOf(section) {
  return section.fields.flat();
}

function allFields(fact) {
  return fact.sections.flatMap(fieldsOf);
}

function domId(key) {
  return key.replace(/[A-Z]/g, (c, i) => `${i ? "-" : ""}${c.toLowerCase()}`);
}

function languageName(lang) {
  try {
    return new Intl.DisplayNames([currentLanguage()], { type: "language" }).of(lang) || lang;
  } catch {
    return lang;
  }
}

function countryName(code) {
  try {
    const name = new Intl.DisplayNames([currentLanguage()], { type: "region" }).of(code);
    return name && name !== code ? name : code;
  } catch {
    return code;
  }
}

// ---- The form ----------------------------------------------------------------------------

/**
 * The form of a fact type: `node` (its fieldsets) and `read()`, which checks every field and
 * returns `{claims}` or `{problems}` (each shown under its field, the first one focused).
 * `identities` (the wallet's, {did, label}) are offered for the DIDs of parties.
 */
export function factForm(factType, { identities = [] } = {}) {
  const fact = FACTS[factType];
  const controls = new Map();
  const messages = new Map();
  const listId = `${domId(factType)}-identities`;
  const datalist = el("datalist", { id: listId }, identities.map((i) => el("option", { value: i.did }, printable(i.label || i.did))));

  const wrap = (field, inputs, labelFor, labelText) => {
    const message = el("p", { class: "error", id: `${inputs[0].id}-error`, hidden: true, dataset: { testid: "field-error", field: field.key } });
    const hint = field.hint ? el("span", { class: "hint", id: `${inputs[0].id}-hint` }, t(`facts.${field.key}.hint`)) : null;
    for (const input of inputs) {
      input.setAttribute("aria-describedby", [hint && hint.id, message.id].filter(Boolean).join(" "));
      input.setAttribute("aria-errormessage", message.id);
    }
    messages.set(field.key, { message, inputs });
    return { message, hint, labelNode: el("label", { for: labelFor }, labelText, field.required ? el("span", { "aria-hidden": "true" }, " *") : null) };
  };

  const render = (field) => {
    const id = domId(field.key);
    const common = { required: field.required, autocomplete: field.autocomplete || "off" };
    if (field.type === "localized") {
      // One input per language, side by side; either satisfies a required name.
      const inputs = NAME_LANGUAGES.map((lang) => el("input", { id: `${id}-${lang}`, name: `${id}-${lang}`, lang, maxlength: TEXT_MAX, autocomplete: "off", "aria-required": field.required ? "true" : null }));
      controls.set(field.key, { field, inputs });
      const { message } = wrap(field, inputs, inputs[0].id, "");
      return el(
        "div",
        { class: "field-group" },
        el(
          "div",
          { class: "field-row" },
          inputs.map((input, i) =>
            el(
              "div",
              { class: "field" },
              el("label", { for: input.id }, t("facts.inLanguage", { field: t(`facts.${field.key}`), language: languageName(NAME_LANGUAGES[i]) }), field.required ? el("span", { "aria-hidden": "true" }, " *") : null),
              input,
            ),
          ),
        ),
        message,
      );
    }
    let input;
    if (field.type === "choice") {
      input = el("select", { id, name: id, required: field.required }, el("option", { value: "" }, t("facts.choose")), field.options.map((o) => el("option", { value: o }, t(`${field.optionKey}.${o}`))));
    } else if (field.type === "date") {
      input = el("input", { id, name: id, type: "date", ...common });
    } else if (field.type === "time") {
      input = el("input", { id, name: id, type: "time", ...common });
    } else if (field.type === "country") {
      input = el("input", { id, name: id, ...common, maxlength: 2, autocapitalize: "characters", spellcheck: "false", value: field.fixed || field.initial || "", readonly: Boolean(field.fixed) });
    } else if (field.type === "party") {
      input = el("input", { id, name: id, ...common, maxlength: 512, spellcheck: "false", autocapitalize: "none", list: identities.length ? listId : null });
    } else {
      const max = field.type === "code" ? CODE_MAX : TEXT_MAX;
      input = el("input", { id, name: id, ...common, maxlength: max, inputmode: field.inputmode || null });
    }
    controls.set(field.key, { field, inputs: [input] });
    const { message, hint, labelNode } = wrap(field, [input], id, t(`facts.${field.key}`));
    return el("div", { class: "field" }, labelNode, hint, input, message);
  };

  const sections = fact.sections.map((section) => {
    const rows = section.fields
      .map((entry) => {
        const list = (Array.isArray(entry) ? entry : [entry]).filter((f) => f.form !== false);
        if (!list.length) return null;
        return list.length > 1 ? el("div", { class: "field-row" }, list.map(render)) : render(list[0]);
      })
      .filter(Boolean);
    return el("fieldset", { dataset: { testid: "fact-section" } }, el("legend", {}, t(section.legend)), section.hint ? el("p", { class: "hint" }, t(section.hint)) : null, rows);
  });

  const node = el("div", { class: "stack", dataset: { testid: "fact-fields", factType } }, el("p", { class: "hint" }, t("facts.requiredNote")), sections, identities.length ? datalist : null);

  const valueOf = (key) => {
    const { field, inputs } = controls.get(key);
    if (field.type === "localized") {
      const map = {};
      inputs.forEach((input, i) => {
        if (input.value.trim()) map[NAME_LANGUAGES[i]] = input.value.trim();
      });
      return Object.keys(map).length ? map : null;
    }
    const value = inputs[0].value.trim();
    return value === "" ? null : value;
  };

  function read() {
    const problems = [];
    const claims = {};
    const values = {};
    for (const { message, inputs } of messages.values()) {
      message.hidden = true;
      message.textContent = "";
      inputs.forEach((input) => input.removeAttribute("aria-invalid"));
    }
    for (const section of fact.sections) {
      const fields = fieldsOf(section).filter((f) => f.form !== false);
      const skip = section.group && fields.every((f) => valueOf(f.key) == null);
      if (skip) continue;
      for (const field of fields) {
        let value = valueOf(field.key);
        if (field.type === "country" && value != null) value = value.toUpperCase();
        const problem = check(field, value, values);
        if (problem) {
          problems.push({ key: field.key, message: problem });
          continue;
        }
        if (value == null) continue;
        values[field.key] = value;
        setPath(claims, field.path, field.type === "party" ? { id: value } : value);
      }
    }
    for (const { key, message: text } of problems) {
      const { message, inputs } = messages.get(key);
      message.textContent = text;
      message.hidden = false;
      inputs.forEach((input) => input.setAttribute("aria-invalid", "true"));
    }
    if (problems.length) {
      messages.get(problems[0].key).inputs[0].focus();
      return { problems };
    }
    return { claims };
  }

  return { node, read };
}

/** The message for the first rule `value` breaks, or null. `values` holds the fields read so far. */
function check(field, value, values) {
  const message = (rule, params = {}) => t(`facts.${field.key}.${rule}`, params);
  if (value == null) return field.required ? message("need") : null;
  const texts = typeof value === "object" ? Object.values(value) : [value];
  const max = field.type === "code" ? CODE_MAX : field.type === "party" ? 512 : TEXT_MAX;
  if (texts.some((text) => [...text].length > max)) return t("facts.tooLong", { field: t(`facts.${field.key}`), max });
  switch (field.type) {
    case "code":
      return field.pattern && !field.pattern.test(value) ? message("bad") : null;
    case "country":
      return COUNTRY.test(value) ? null : message("bad");
    case "time":
      return TIME.test(value) ? null : message("bad");
    case "party":
      return SUBJECT_ID.test(value) ? null : message("bad");
    case "choice":
      return field.options.includes(value) ? null : message("need");
    case "date": {
      if (!isDate(value)) return message("bad");
      if (field.notFuture && value > today()) return message("future");
      if (field.after && values[field.after] && value <= values[field.after]) return message("order");
      return null;
    }
    default:
      return null;
  }
}

function isDate(text) {
  const match = DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Today on the person's own calendar, YYYY-MM-DD. */
function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

function setPath(target, path, value) {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) node = node[part] ??= {};
  node[parts[parts.length - 1]] = value;
}

function getPath(source, path) {
  return path.split(".").reduce((node, part) => (node && typeof node === "object" ? node[part] : undefined), source);
}

// ---- Showing claims ------------------------------------------------------------------------

/** A field's value as the reader sees it: text, or a node for identifiers. */
function shown(field, value, exact) {
  switch (field.type) {
    case "localized":
      if (typeof value !== "object" || value === null) return printable(value);
      if (!exact) return printable(localized(value));
      return Object.entries(value)
        .map(([lang, text]) => `${printable(text)} (${languageName(lang)})`)
        .join("\n");
    case "date":
      return formatDate(value);
    case "time":
      return formatTime(value);
    case "country":
      return `${countryName(value)} (${printable(value)})`;
    case "party":
      return did(value && typeof value === "object" ? value.id : value);
    case "choice":
      return hasTranslation(`${field.optionKey}.${value}`) ? t(`${field.optionKey}.${value}`) : printable(value);
    default:
      return printable(value);
  }
}

function formatTime(value) {
  if (!TIME.test(String(value))) return printable(value);
  const [hours, minutes] = String(value).split(":").map(Number);
  // The schema's time is on a 24-hour clock; it is shown so in every language.
  return new Intl.DateTimeFormat(currentLanguage(), { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "UTC" }).format(new Date(Date.UTC(2000, 0, 1, hours, minutes)));
}

/** Every leaf path of claims (language maps and addresses whole; a party's id as its own leaf). */
function leafPaths(claims) {
  const paths = [];
  const walk = (value, prefix) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [key, inner] of Object.entries(value)) walk(inner, prefix ? `${prefix}.${key}` : key);
    } else {
      paths.push(prefix);
    }
  };
  walk(claims, "");
  return paths;
}

/**
 * The claims of a request or credential as a labelled list (a <dl>), drawn from the fact's
 * description: with `exact` (review before signing), every language of a name. Whatever the
 * description does not know is still listed, by its path: nothing that would be signed is hidden.
 */
export function factClaims(factType, claims, { testid = "claims", exact = false } = {}) {
  const fact = FACTS[factType];
  const rows = [];
  const covered = new Set();
  const row = (path, label, value) => rows.push(el("dt", {}, label), el("dd", { class: "preline", dataset: { claim: path } }, value));
  if (fact && claims && typeof claims === "object") {
    for (const section of fact.sections) {
      const fields = fieldsOf(section);
      if (section.display && section.display.as === "address") {
        const address = getPath(claims, section.display.path);
        if (address !== undefined) {
          row(section.display.path, t(section.legend), claimValue(section.display.path, address, exact));
          // The formatted address shows these (a country other than Belgium by name); anything
          // else in it is listed on its own.
          for (const f of fields) if (f.form !== false) covered.add(f.path);
        }
      }
      for (const field of fields) {
        if (covered.has(field.path)) continue;
        const value = getPath(claims, field.path);
        if (value === undefined) continue;
        row(field.path, t(`facts.${field.key}`), shown(field, value, exact));
        covered.add(field.path);
        if (field.type === "party") covered.add(`${field.path}.id`);
      }
    }
  }
  for (const path of leafPaths(claims || {})) {
    if ([...covered].some((c) => path === c || path.startsWith(`${c}.`))) continue;
    const value = getPath(claims, path);
    row(path, claimLabel(path), claimValue(path, value, exact));
  }
  return el("dl", { class: "fields", dataset: { testid } }, rows);
}

/** A one-line summary of a fact's claims (its `summary` paths), for lists. */
export function factSummary(factType, claims) {
  const fact = FACTS[factType];
  if (!fact || !claims) return "";
  const fields = allFields(fact);
  return fact.summary
    .map((path) => {
      const value = getPath(claims, path);
      if (value === undefined) return null;
      if (path.endsWith(".address")) return claimValue(path, value);
      const field = fields.find((f) => f.path === path);
      const text = field ? shown(field, value, false) : claimValue(path, value);
      return typeof text === "string" ? text : text.textContent;
    })
    .filter(Boolean)
    .join(" · ");
}
