// Translations shared by the three apps. Each page loads the common dictionary and its own app's
// dictionary for the current language, with English loaded beside it as the fallback. Strings
// are looked up by key; `{name}` placeholders are filled from params.

export const LANGUAGES = ["nl", "fr", "de", "en"];
const STORAGE_KEY = "corroborate.lang";
const NATIVE_NAMES = { nl: "Nederlands", fr: "Français", de: "Deutsch", en: "English" };

let appName = null;
let language = "en";
let current = {};
let english = {};

function chooseLanguage() {
  let stored = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage may be unavailable (private mode); fall back to the browser's languages.
  }
  if (LANGUAGES.includes(stored)) return stored;
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const primary = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(primary)) return primary;
  }
  return "en";
}

async function fetchDictionary(url) {
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) return {};
    return await response.json();
  } catch {
    return {};
  }
}

async function loadDictionaries(lang) {
  const urls = [new URL(`./i18n/${lang}.json`, import.meta.url)];
  if (appName) urls.push(new URL(`../${appName}/i18n/${lang}.json`, import.meta.url));
  const parts = await Promise.all(urls.map(fetchDictionary));
  return Object.assign({}, ...parts);
}

/** Loads the common and the app's dictionaries for the current language; sets <html lang>. */
export async function initI18n(app = null) {
  appName = app;
  language = chooseLanguage();
  [english, current] = await Promise.all([
    loadDictionaries("en"),
    language === "en" ? Promise.resolve(null) : loadDictionaries(language),
  ]);
  if (current === null) current = english;
  document.documentElement.lang = language;
}

/** The text for `key` in the current language (else English, else the key itself). */
export function t(key, params = {}) {
  let text = current[key] ?? english[key] ?? key;
  for (const [name, value] of Object.entries(params)) {
    text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

/** Whether a key has a translation (in the current language or English). */
export function hasTranslation(key) {
  return key in current || key in english;
}

export function currentLanguage() {
  return language;
}

/** Fills `[data-i18n]` text and `[data-i18n-attr="attr:key,attr:key"]` attributes under root. */
export function applyI18n(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(",")) {
      const [attr, key] = pair.split(":").map((s) => s.trim());
      if (attr && key) node.setAttribute(attr, t(key));
    }
  }
}

let switches = 0;

/** Switches language, remembers it, re-applies static text and fires "languagechange" on window. */
export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) return;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not remembered; still switch for this page.
  }
  // Two quick switches: only the last one's dictionary may land, whichever loads first.
  const mine = ++switches;
  const dictionary = lang === "en" ? english : await loadDictionaries(lang);
  if (mine !== switches) return;
  language = lang;
  current = dictionary;
  document.documentElement.lang = lang;
  applyI18n(document);
  window.dispatchEvent(new Event("languagechange"));
}

/** A labelled <select> of the languages, each named in its own language. */
export function languageSwitcher() {
  const id = `language-${Math.random().toString(36).slice(2, 8)}`;
  const wrapper = document.createElement("div");
  wrapper.className = "language-switcher";
  const label = document.createElement("label");
  label.htmlFor = id;
  label.dataset.i18n = "common.language";
  label.textContent = t("common.language");
  const select = document.createElement("select");
  select.id = id;
  for (const lang of LANGUAGES) {
    const option = document.createElement("option");
    option.value = lang;
    option.lang = lang;
    option.textContent = NATIVE_NAMES[lang];
    option.selected = lang === language;
    select.append(option);
  }
  select.addEventListener("change", () => setLanguage(select.value));
  // Pages build a new switcher with each screen: one taken off the page stops listening.
  let shown = false;
  const follow = () => {
    if (wrapper.isConnected) shown = true;
    else if (shown) window.removeEventListener("languagechange", follow);
    select.value = language;
  };
  window.addEventListener("languagechange", follow);
  wrapper.append(label, select);
  return wrapper;
}
