// Languages in the citizen wallet: switching between English, Dutch, French and German changes
// the texts on screen and <html lang>, formats dates and the Belgian address for the language
// (a street named in French and Dutch shows in the reader's), survives a reload, and keeps what
// the person had typed in a half-filled form.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { World } from "../lib/world.mjs";
import { webDist } from "../lib/service.mjs";
import { launch, person, shot } from "../lib/browser.mjs";
import * as app from "../lib/citizen-app.mjs";
import { waitForCount } from "../lib/expect.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const read = (part, lang) => JSON.parse(readFileSync(join(webDist, part, "i18n", `${lang}.json`), "utf8"));
const dictionaries = Object.fromEntries(["en", "nl", "fr", "de"].map((lang) => [lang, { ...read("common", lang), ...read("app", lang) }]));
const text = (lang, key, params = {}) =>
  Object.entries(params).reduce((s, [name, value]) => s.split(`{${name}}`).join(value), dictionaries[lang][key]);

// The residence attested (Rue de la Brasserie / Brouwerijstraat 27, Ixelles / Elsene, since
// 2021-09-01), as each language shows it: the reader's language first, else Dutch, else French.
const EXPECTED = {
  en: { since: "1 September 2021", address: "Brouwerijstraat 27, 1050 Elsene" },
  nl: { since: "1 september 2021", address: "Brouwerijstraat 27, 1050 Elsene" },
  fr: { since: "1 septembre 2021", address: "Rue de la Brasserie 27, 1050 Ixelles" },
  de: { since: "1. September 2021", address: "Brouwerijstraat 27, 1050 Elsene" },
};

test("languages: en, nl, fr and de switch texts, <html lang>, dates and addresses; the choice survives a reload; typing survives a switch", async (t) => {
  const world = await World.create({ neighbours: false });
  t.after(() => world.dispose());
  const url = world.service.url;
  const citizen = await person(browser, "citizen");
  t.after(() => citizen.context.close());
  const { page } = citizen;
  const switcher = page.locator("#tools .language-switcher select");
  const choose = async (lang) => {
    await switcher.selectOption(lang);
    await page.waitForFunction((l) => document.documentElement.lang === l, lang);
  };

  // First run, half filled, in English; switched to Dutch: the form is Dutch and keeps it all.
  await page.goto(`${url}/app/`);
  await page.getByTestId("first-run").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
  await page.fill("#create-label", "Citizen");
  await page.fill("#create-passphrase", app.APP_PASSPHRASE);
  await page.fill("#create-passphrase2", app.APP_PASSPHRASE);
  await choose("nl");
  await page.locator("h1", { hasText: text("nl", "firstRun.title") }).waitFor();
  assert.equal(await page.inputValue("#create-label"), "Citizen");
  assert.equal(await page.inputValue("#create-passphrase"), app.APP_PASSPHRASE);
  assert.equal(await page.inputValue("#create-passphrase2"), app.APP_PASSPHRASE);
  assert.equal(await page.evaluate(() => Boolean(document.activeElement?.closest(".language-switcher"))), true, "focus stays on the switcher");
  await page.getByTestId("create-wallet").click();
  const did = (await page.getByTestId("my-did").textContent({ timeout: 60_000 })).trim();
  await page.getByTestId("first-run-continue").click();

  const vc = await world.hosted(world.utilityDesk, world.utility, did, "utility-supplier", 27);
  const file = join(world.service.dir, "utility-27.json");
  writeFileSync(file, JSON.stringify(vc));
  await app.importCredential(page, url, file);

  // Each language: the heading, the menu, <html lang>, the date and the address on the card.
  for (const lang of ["en", "nl", "fr", "de"]) {
    await choose(lang);
    await page.locator("h1", { hasText: text(lang, "credentials.title") }).waitFor();
    assert.equal((await page.locator("nav#nav a").first().innerText()).trim(), text(lang, "nav.credentials"));
    assert.equal(await waitForCount(page.locator('[data-testid="credential"]'), 1), 1);
    const card = (await page.getByTestId("credential").innerText()).replace(/\s+/g, " ");
    const since = text(lang, "credentials.since", { date: EXPECTED[lang].since });
    assert.ok(card.includes(since), `${lang}: "${since}" in ${card}`);
    assert.ok(card.includes(EXPECTED[lang].address), `${lang}: "${EXPECTED[lang].address}" in ${card}`);
    assert.equal(await page.title(), `${text(lang, "credentials.title")} — Corroborate`);
    await shot(page, `language-${lang}`);
  }

  // The choice is kept: after a reload the (locked) wallet speaks French.
  await choose("fr");
  await page.reload();
  await page.getByTestId("unlock-screen").waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "fr");
  assert.equal(await switcher.inputValue(), "fr");
  await page.locator("h1", { hasText: text("fr", "unlock.title") }).waitFor();
  await page.fill("#unlock-passphrase", app.APP_PASSPHRASE);
  await page.getByTestId("unlock").click();
  await page.locator("h1", { hasText: text("fr", "credentials.title") }).waitFor();

  // A half-filled request keeps what was typed and chosen when switched to German.
  await app.go(page, url, "request");
  await page.getByTestId("request-form").waitFor();
  const otherFact = await page.locator("#fact-type").evaluate((select) => select.options[1].value);
  await page.selectOption("#fact-type", otherFact);
  await page.fill("#attesters", world.neighbour25.did);
  await page.uncheck("#open-link");
  await page.fill("#note", "Wij wonen hier sinds september 2021.");
  await page.fill("#expires-days", "7");
  await choose("de");
  await page.locator("h1", { hasText: text("de", "request.title") }).waitFor();
  assert.equal(await page.locator('label[for="note"]').innerText(), text("de", "request.note"));
  assert.equal(await page.inputValue("#fact-type"), otherFact);
  assert.equal(await page.inputValue("#attesters"), world.neighbour25.did);
  assert.equal(await page.isChecked("#open-link"), false);
  assert.equal(await page.inputValue("#note"), "Wij wonen hier sinds september 2021.");
  assert.equal(await page.inputValue("#expires-days"), "7");
  await shot(page, "language-form-kept");

  // Back to English: the same form, the same values.
  await choose("en");
  await page.locator("h1", { hasText: text("en", "request.title") }).waitFor();
  assert.equal(await page.inputValue("#attesters"), world.neighbour25.did);
  assert.equal(await page.inputValue("#note"), "Wij wonen hier sinds september 2021.");

  // A request just made keeps its one-time link across a switch; a later visit starts afresh.
  const made = await app.requestResidence(page, url, { number: 27, attesters: [world.neighbour25.did] });
  await choose("nl");
  await page.locator("h2", { hasText: text("nl", "request.createdTitle") }).waitFor();
  assert.equal(await page.getByTestId("request-link").inputValue(), made.link);
  await choose("en");
  await app.go(page, url, "credentials");
  await app.go(page, url, "request");
  await page.getByTestId("request-form").waitFor();
  assert.equal(await page.getByTestId("request-created").count(), 0, "a new visit shows a new form");
  assert.deepEqual(citizen.problems, [], `no page errors (failed requests: ${citizen.failures.join("; ")})`);
});
