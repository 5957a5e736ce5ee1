// How the wallet shows credentials and claims to a person: every claim labelled and formatted in
// the current language, addresses in Belgian order, language maps in the current language, and
// control or bidirectional-override characters shown escaped so a note cannot hide or reorder
// what someone reviews before signing.

import { hasTranslation, t } from "../common/i18n.js";
import { addressLanguages, formatAddress, formatDate } from "../common/format.js";
import { el } from "../common/ui.js";
import { field } from "./state.js";

const LANG_KEYS = new Set(["nl", "fr", "de", "en"]);
const DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/;

/** The text with control and bidi-override characters escaped (line breaks kept). */
export function printable(text) {
  return String(text).replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    `\\u{${c.codePointAt(0).toString(16)}}`,
  );
}

function isAddress(value) {
  return value && typeof value === "object" && "postalCode" in value && ("street" in value || "municipality" in value);
}

function isLanguageMap(value) {
  return value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0 && Object.keys(value).every((k) => LANG_KEYS.has(k));
}

/** A label for a claim path ("residence.address" → "Address"), else the path itself. */
export function claimLabel(path) {
  const key = `claim.${path}`;
  if (hasTranslation(key)) return t(key);
  const last = path.split(".").pop();
  return hasTranslation(`claim.${last}`) ? t(`claim.${last}`) : path;
}

const VALUE_KEYS = { role: "role", outcome: "outcome", factType: "fact", relationship: "value" };

/** A claim's value as text for the current language; with exact, an address in each of its languages. */
export function claimValue(path, value, exact = false) {
  if (value == null) return "";
  if (isAddress(value)) {
    const langs = addressLanguages(value);
    if (!exact || langs.length < 2) return printable(formatAddress(value));
    return langs.map((lang) => `${printable(formatAddress(value, lang))} (${lang})`).join("\n");
  }
  const prefix = VALUE_KEYS[path.split(".").pop()];
  if (prefix && typeof value === "string" && hasTranslation(`${prefix}.${value}`)) return t(`${prefix}.${value}`);
  if (isLanguageMap(value)) {
    return Object.entries(value)
      .map(([lang, text]) => `${printable(text)} (${lang})`)
      .join(" / ");
  }
  if (typeof value === "string" && DATE.test(value)) return formatDate(value, { time: value.length > 10 });
  if (typeof value === "string" && hasTranslation(`value.${value}`)) return t(`value.${value}`);
  if (Array.isArray(value)) return value.map((v) => claimValue(path, v)).join(", ");
  return printable(typeof value === "object" ? JSON.stringify(value) : value);
}

/** Flattens claims into [path, value] rows: addresses and language maps stay whole. */
export function claimRows(claims, prefix = "") {
  const rows = [];
  if (!claims || typeof claims !== "object") return rows;
  for (const [key, value] of Object.entries(claims)) {
    // The subject's own id is shown apart; a party's id (a parent's DID) is disclosed like any claim.
    if (key === "id" && !prefix) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value) && !isAddress(value) && !isLanguageMap(value)) {
      rows.push(...claimRows(value, path));
    } else {
      rows.push([path, value]);
    }
  }
  return rows;
}

/** A <dl> of claims, each labelled; with exact (review before signing), every language of an address. */
export function claimList(claims, testid = "claims", { exact = false } = {}) {
  return el(
    "dl",
    { class: "fields", dataset: { testid } },
    claimRows(claims).map(([path, value]) => [el("dt", {}, claimLabel(path)), el("dd", { class: "preline", dataset: { claim: path } }, claimValue(path, value, exact))]),
  );
}

/** A fact type's name in the current language. */
export function factName(factType) {
  const key = `fact.${factType}`;
  return hasTranslation(key) ? t(key) : printable(factType || "");
}

export function issuerOf(vc) {
  if (!vc) return "";
  return typeof vc.issuer === "object" && vc.issuer ? vc.issuer.id : vc.issuer;
}

export function factTypeOf(vc) {
  const types = (vc && vc.type) || [];
  return (Array.isArray(types) ? types : [types]).find((x) => x !== "VerifiableCredential") || "";
}

/** The claims of a credential (its subject without id), for display. */
export function claimsOf(vc) {
  const subject = vc && vc.credentialSubject;
  if (!subject) return {};
  const { id, ...rest } = Array.isArray(subject) ? subject[0] : subject;
  return rest;
}

/** The outcome of a status credential's derived status, as a badge. */
export function outcomeBadge(outcome) {
  const kind = outcome === "established" ? "ok" : outcome === "disputed" ? "warn" : outcome ? "danger" : "neutral";
  return el("span", { class: `badge ${kind}`, dataset: { testid: "outcome" } }, outcome ? t(`outcome.${outcome}`) : t("outcome.unknown"));
}

/** A DID in full, in monospace, selectable. */
export function did(value, testid = null) {
  return el("code", { class: "did", dataset: testid ? { testid } : {} }, printable(value || ""));
}

/** The credential's record summary: kind, fact type, issuer, received, statusCheckedAt. */
export function summary(record) {
  return {
    id: field(record, "id"),
    kind: field(record, "kind"),
    factType: field(record, "factType"),
    issuer: field(record, "issuer"),
    holder: field(record, "holder"),
    received: field(record, "received"),
    statusCheckedAt: field(record, "statusCheckedAt"),
    credential: field(record, "credential"),
  };
}
