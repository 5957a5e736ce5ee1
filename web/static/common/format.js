// Dates, numbers and addresses formatted for the current language. Addresses follow the Belgian
// order ("street number box, postal code municipality"); street and municipality are language
// maps ({fr: "Rue de la Brasserie", nl: "Brouwerijstraat"}) and the current language is chosen
// first.

import { currentLanguage, t } from "./i18n.js";

const FALLBACK_ORDER = ["nl", "fr", "de", "en"];

/** The Intl locale of a language: as written in Belgium ("1 September 2021", 24-hour times). */
function locale(lang = currentLanguage()) {
  return `${lang}-BE`;
}
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** Picks the current language's text from a language map (or returns a plain string as is). */
export function localized(value, lang = currentLanguage()) {
  if (value == null) return "";
  if (typeof value !== "object") return String(value);
  if (value[lang]) return value[lang];
  for (const other of FALLBACK_ORDER) if (value[other]) return value[other];
  const first = Object.values(value).find((v) => typeof v === "string");
  return first ?? "";
}

function toDate(isoOrDate) {
  if (isoOrDate instanceof Date) return { date: isoOrDate, dateOnly: false };
  const text = String(isoOrDate);
  if (DATE_ONLY.test(text)) return { date: new Date(`${text}T00:00:00Z`), dateOnly: true };
  return { date: new Date(text), dateOnly: false };
}

/** A date (and with {time: true} its time) in the current language; date-only values stay on their day. */
export function formatDate(isoOrDate, { time = false } = {}) {
  if (isoOrDate == null || isoOrDate === "") return "";
  const { date, dateOnly } = toDate(isoOrDate);
  if (Number.isNaN(date.getTime())) return String(isoOrDate);
  const options = { dateStyle: "long" };
  if (time && !dateOnly) options.timeStyle = "short";
  if (dateOnly) options.timeZone = "UTC";
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

export function formatDateTime(isoOrDate) {
  return formatDate(isoOrDate, { time: true });
}

export function formatNumber(number, options = {}) {
  return new Intl.NumberFormat(locale(), options).format(number);
}

/** The two lines of a Belgian address: "Brouwerijstraat 27 bus 3" and "1050 Elsene". */
export function addressLines(address, lang = currentLanguage()) {
  if (!address || typeof address !== "object") return [];
  let first = [localized(address.street, lang), address.houseNumber].filter(Boolean).join(" ");
  if (address.box) first += ` ${t("address.boxWord")} ${address.box}`;
  const second = [address.postalCode, localized(address.municipality, lang)].filter(Boolean).join(" ");
  const lines = [first, second].filter(Boolean);
  if (address.country && address.country !== "BE") {
    let country = address.country;
    try {
      country = new Intl.DisplayNames([locale(lang)], { type: "region" }).of(address.country);
    } catch {
      // Keep the code.
    }
    lines.push(country);
  }
  return lines;
}

/** A one-line address in Belgian order, in the current language (or the one given). */
export function formatAddress(address, lang = currentLanguage()) {
  return addressLines(address, lang).join(", ");
}

/** The languages an address is written in (its street's and municipality's maps). */
export function addressLanguages(address) {
  const langs = new Set();
  for (const part of [address && address.street, address && address.municipality]) {
    if (part && typeof part === "object") Object.keys(part).forEach((l) => langs.add(l));
  }
  return [...langs];
}
