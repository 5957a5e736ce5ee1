// Birth and parentage through the citizen app's fact forms, in headless Chromium against the real
// service: a mother makes an identity for her child in her phone wallet and, acting as the child,
// asks a physician for a birth attestation and then a parentage one. Bad input is refused field
// by field, with the field's own message, and nothing reaches the service; a good request reaches
// the physician's CLI wallet holding exactly the claims typed; the physician, having moved that
// wallet to a browser in French, reviews the claims as labelled, translated fields and signs; the
// mother collects.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Service, CliWallet, PASSPHRASE } from "../lib/service.mjs";
import { launch, person, shot, DESK } from "../lib/browser.mjs";
import * as app from "../lib/citizen-app.mjs";
import { waitForCount } from "../lib/expect.mjs";

const DAY = 24 * 3600 * 1000;
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
// Born four days ago (in any time zone, yesterday or earlier): the forms refuse dates to come.
const BORN = isoDay(Date.now() - 4 * DAY);
const TOMORROW = isoDay(Date.now() + 2 * DAY);
/** A day as the page's own formatting helper writes it in the page's language (never as typed). */
async function longDate(page, lang, day) {
  assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
  const text = await page.evaluate(async (d) => (await import("/common/format.js")).formatDate(d), day);
  assert.ok(text && !text.includes(day) && text.includes(day.slice(0, 4)), `${day} written out in ${lang}: ${text}`);
  return text;
}

let browser;
let service;
let physician;
let mother;
let doctor;
let motherDid;
let childDid;
let posted;

before(async () => {
  browser = await launch();
  service = await Service.start();
  const admin = CliWallet.create(service, "admin");
  service.admins = [{ name: "e2e administrator", did: admin.did }];
  await service.run();
  physician = CliWallet.create(service, "physician");
  await service.api("POST", "/registry/accreditations", admin.token(), {
    did: physician.did,
    category: "physician",
    fact_types: ["BirthAttestation", "ParentageAttestation"],
    controller: "psn-physician",
    jurisdiction: "BE",
    valid_from: new Date(Date.now() - 30 * DAY).toISOString().replace(/\.\d+Z$/, "Z"),
  });

  // The mother's phone: her wallet, then an identity for her child, which acts from then on.
  mother = await person(browser, "mother");
  posted = [];
  mother.page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/attestation-requests") posted.push(request.url());
  });
  motherDid = await app.createWallet(mother.page, service.url, "Mother");
  await app.go(mother.page, service.url, "settings");
  await mother.page.fill("#new-identity-label", "Léa");
  await mother.page.getByTestId("new-identity").click();
  await mother.page.waitForFunction((first) => {
    const shown = document.querySelector('[data-testid="my-did"]');
    return shown && shown.textContent.trim() !== first;
  }, motherDid);
  childDid = (await mother.page.getByTestId("my-did").textContent()).trim();
  assert.notEqual(childDid, motherDid, "the child has an identity of her own");

  // The physician's wallet, moved from the CLI to a browser that speaks French.
  doctor = await person(browser, "physician", { device: DESK, locale: "fr-BE" });
  const restored = await app.restoreWallet(doctor.page, service.url, physician.backup(), PASSPHRASE);
  assert.equal(restored, physician.did);
});

after(async () => {
  for (const p of [mother, doctor]) if (p) await p.context.close();
  await browser?.close();
  await service?.dispose();
});

/** Opens the request form on a fact type; the form says whom the request is about. */
async function openForm(factType) {
  const page = mother.page;
  await app.go(page, service.url, "request");
  await page.getByTestId("request-form").waitFor();
  await page.selectOption("#fact-type", factType);
  assert.match(await page.getByTestId("request-about").innerText(), new RegExp(`Léa\\s+${childDid}`), "the request is about the acting identity, the child");
  return page;
}

/** Submits; returns the messages shown under fields, by field key. */
async function submitRefused(page) {
  const before = posted.length;
  await page.getByTestId("request-create").click();
  const alert = page.getByTestId("request-error").getByRole("alert");
  await alert.waitFor();
  assert.equal((await alert.innerText()).trim(), "Some fields need correcting: see the message under each.");
  const messages = {};
  for (const node of await page.locator('[data-testid="field-error"]:visible').all()) {
    messages[await node.getAttribute("data-field")] = (await node.innerText()).trim();
  }
  assert.equal(posted.length, before, "nothing was sent to the service");
  return messages;
}

/** Submits a good request; returns its id. */
async function submitted(page) {
  await page.getByTestId("request-create").click();
  await page.getByTestId("request-created").waitFor();
  const href = await page.getByTestId("request-progress-link").getAttribute("href");
  return decodeURIComponent(href.replace(/^#\/request\//, ""));
}

/** The attester opens the request from their inbox; returns its card's summary. */
async function openFromInbox(page, id) {
  await app.go(page, service.url, "inbox");
  const card = page.locator(`[data-testid="inbox-item"][data-id="${id}"]`);
  await card.waitFor();
  const summary = (await card.getByTestId("inbox-summary").innerText()).trim();
  await card.getByRole("link").click();
  return summary;
}

/** The review's claims as {path: [label, value]}, from the labelled list. */
async function reviewed(page) {
  const list = page.getByTestId("review-claims");
  await list.waitFor();
  return list.evaluate((dl) => {
    const rows = {};
    for (const dd of dl.querySelectorAll("dd")) rows[dd.dataset.claim] = [dd.previousElementSibling.textContent.trim(), dd.textContent.trim()];
    return rows;
  });
}

function inboxHolds(id) {
  const inbox = physician.json("attest", "inbox");
  return inbox.some((r) => r.id === id);
}

test("a birth asked through its form: refused field by field, then signed by a physician who reads it in French", async () => {
  const page = await openForm("BirthAttestation");

  // Empty: each required field says what it needs (the country is prefilled with BE).
  let messages = await submitRefused(page);
  assert.deepEqual(messages, {
    birthDate: "Give the date of birth.",
    birthMunicipality: "Give the municipality of birth in French or Dutch.",
    mother: "Give the mother's DID.",
  });
  assert.equal(await page.locator("#birth-date").getAttribute("aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement.id), "birth-date", "the first field to correct has the focus");
  await shot(page, "facts-birth-refused-empty");

  // Wrong: a date to come, a country that is no code, a mother who is no DID, half a name.
  await page.fill("#birth-date", TOMORROW);
  await page.fill("#birth-municipality-fr", "Ixelles");
  await page.fill("#birth-country", "B");
  await page.fill("#mother", "Sophie Janssens");
  await page.fill("#child-given", "Léa");
  messages = await submitRefused(page);
  assert.deepEqual(messages, {
    birthDate: "The date of birth cannot be in the future.",
    birthCountry: "Write the country of birth as its two-letter code, for example BE.",
    mother: "Name the mother by a DID (did:…) or a urn:uuid: identifier.",
    childFamily: "Give the child's family name as well, or leave both names empty.",
  });
  await shot(page, "facts-birth-refused-wrong");

  // Right: the country may be typed in lower case; it is sent as its code.
  await page.fill("#birth-date", BORN);
  await page.fill("#birth-time", "04:37");
  await page.fill("#birth-municipality-nl", "Elsene");
  await page.fill("#birth-country", "be");
  await page.fill("#facility", "Clinique des Étangs");
  await page.fill("#mother", motherDid);
  await page.fill("#child-family", "Janssens");
  await page.fill("#attesters", physician.did);
  await page.uncheck("#open-link");
  const id = await submitted(page);
  assert.equal(posted.length, 1, "one request was sent");
  assert.deepEqual(await page.locator('[data-testid="field-error"]:visible').count(), 0);

  // The physician's CLI wallet finds it, holding exactly what was typed, about the child.
  assert.ok(inboxHolds(id), "the request is in the physician's inbox");
  const view = physician.json("attest", "show", id);
  assert.equal(view.subject, childDid);
  assert.equal(view.fact_type ?? view.factType, "BirthAttestation");
  assert.deepEqual(view.claims, {
    birth: {
      date: BORN,
      time: "04:37",
      place: { municipality: { fr: "Ixelles", nl: "Elsene" }, country: "BE", facility: "Clinique des Étangs" },
      mother: { id: motherDid },
      childName: { given: "Léa", family: "Janssens" },
    },
  });

  // In the browser, in French: every claim labelled, the date in French, both place names.
  const summary = await openFromInbox(doctor.page, id);
  assert.equal(summary, `${await longDate(doctor.page, "fr", BORN)} · Ixelles`);
  const rows = await reviewed(doctor.page);
  assert.deepEqual(rows, {
    "birth.date": ["Date de naissance", await longDate(doctor.page, "fr", BORN)],
    "birth.time": ["Heure de naissance", "04:37"],
    "birth.place.municipality": ["Commune de naissance", "Ixelles (français)\nElsene (néerlandais)"],
    "birth.place.country": ["Pays de naissance", "Belgique (BE)"],
    "birth.place.facility": ["Hôpital ou maternité", "Clinique des Étangs"],
    "birth.mother": ["Mère (son DID)", motherDid],
    "birth.childName.given": ["Prénom", "Léa"],
    "birth.childName.family": ["Nom de famille", "Janssens"],
  });
  await shot(doctor.page, "facts-birth-review-fr");
  await app.sign(doctor.page, { role: "physician", since: BORN });

  // The mother, still acting as the child, collects: one attestation kept.
  const collected = await app.collect(page, service.url, id);
  assert.equal(await waitForCount(page.getByTestId("kept"), 1), 1, collected);
  const claims = page.getByTestId("request-claims");
  assert.match(await claims.locator('[data-claim="birth.mother"]').innerText(), new RegExp(motherDid));
  assert.equal((await claims.locator('[data-claim="birth.date"]').innerText()).trim(), await longDate(page, "en", BORN));
  await shot(page, "facts-birth-collected");

  for (const p of [mother, doctor]) assert.deepEqual(p.problems, [], `no page errors for ${p.name} (failed requests: ${p.failures.join("; ")})`);
});

test("parentage asked through its form: refused field by field, then signed and collected", async () => {
  const page = await openForm("ParentageAttestation");
  const sent = posted.length;

  let messages = await submitRefused(page);
  assert.deepEqual(messages, {
    parent: "Give the parent's DID.",
    relationship: "Choose the relationship.",
    parentSince: "Give the day since which they are a parent.",
  });
  await page.fill("#parent", "did:key:");
  await page.selectOption("#relationship", "mother");
  await page.fill("#parent-since", TOMORROW);
  messages = await submitRefused(page);
  assert.deepEqual(messages, {
    parent: "Name the parent by a DID (did:…) or a urn:uuid: identifier.",
    parentSince: "That day cannot be in the future.",
  });

  // The wallet's own identities are offered for the parent's DID.
  const offered = await page.locator("#parentage-attestation-identities option").evaluateAll((options) => options.map((o) => o.value));
  assert.ok(offered.includes(motherDid), `the mother's DID is offered (${offered})`);
  await page.fill("#parent", motherDid);
  await page.fill("#parent-since", BORN);
  await page.fill("#attesters", physician.did);
  await page.uncheck("#open-link");
  const id = await submitted(page);
  assert.equal(posted.length, sent + 1, "one request was sent");

  assert.ok(inboxHolds(id), "the request is in the physician's inbox");
  const view = physician.json("attest", "show", id);
  assert.equal(view.subject, childDid);
  assert.deepEqual(view.claims, { parentage: { parent: { id: motherDid }, relationship: "mother", since: BORN } });

  assert.equal(await openFromInbox(doctor.page, id), `Mère · ${await longDate(doctor.page, "fr", BORN)}`);
  const rows = await reviewed(doctor.page);
  assert.deepEqual(rows, {
    "parentage.parent": ["Parent (son DID)", motherDid],
    "parentage.relationship": ["Lien de filiation", "Mère"],
    "parentage.since": ["Parent depuis", await longDate(doctor.page, "fr", BORN)],
  });
  // The roles offered are the ones the parentage schema allows.
  const roles = await doctor.page.locator("#role option").evaluateAll((options) => options.map((o) => o.value).filter(Boolean));
  assert.deepEqual(roles, ["parent", "physician", "midwife", "civil-registrar", "other"]);
  await shot(doctor.page, "facts-parentage-review-fr");
  await app.sign(doctor.page, { role: "physician", since: BORN });

  const collected = await app.collect(page, service.url, id);
  assert.equal(await waitForCount(page.getByTestId("kept"), 1), 1, collected);

  // The list of requests sums each up in the reader's language.
  await app.go(page, service.url, "requests");
  const item = page.locator(`[data-testid="request-item"][data-id="${id}"]`);
  await item.waitFor();
  assert.equal((await item.getByTestId("request-summary").innerText()).trim(), `Mother · ${await longDate(page, "en", BORN)}`);
  await app.go(page, service.url, "credentials");
  assert.equal(await waitForCount(page.locator('[data-testid="credential"]'), 2), 2, "the child holds the birth and the parentage attestations");
  await shot(page, "facts-parentage-collected");

  for (const p of [mother, doctor]) assert.deepEqual(p.problems, [], `no page errors for ${p.name} (failed requests: ${p.failures.join("; ")})`);
});
