// Accessibility of the landing page and the three apps, with real data from the real service:
// axe-core (WCAG 2.0/2.1 A and AA) on every screen that matters, in the light and the dark
// colour scheme; the citizen's screens on a small phone (360x740, in English and German) without
// horizontal scrolling and with touch targets of 44px at least; and real flows walked with the
// keyboard only, checking at each step where focus is, that it shows, and that it lands on the
// new screen's heading after a navigation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { World } from "../lib/world.mjs";
import { launch, person, shot, DESK } from "../lib/browser.mjs";
import * as app from "../lib/citizen-app.mjs";
import * as desk from "../lib/desk-apps.mjs";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const SMALL_PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

let browser;
let world;
before(async () => {
  browser = await launch();
  world = await World.create({ neighbours: false });
});
after(async () => {
  await world?.dispose();
  await browser?.close();
});

/**
 * Checks one screen: axe in the light and the dark scheme, and (on a phone) no horizontal
 * scrolling. Returns what is wrong, one line per rule and scheme, naming the elements.
 */
async function audit(page, screen) {
  const found = [];
  const backgrounds = [];
  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    backgrounds.push(await page.evaluate(() => getComputedStyle(document.body).backgroundColor));
    if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async (tags) => {
      const result = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
      return result.violations.map((v) => ({
        rule: v.id,
        help: v.help,
        nodes: v.nodes.map((n) => `${n.target.join(" ")}${n.any[0] && n.any[0].message ? ` (${n.any[0].message})` : ""}`),
      }));
    }, WCAG);
    for (const v of violations) found.push(`${screen} [${scheme}] ${v.rule}: ${v.help} — ${v.nodes.slice(0, 5).join("; ")}`);
    // WCAG 1.4.11, which axe leaves out: a field's edge at 3:1 against what surrounds it.
    for (const edge of await page.evaluate(fieldEdges)) found.push(`${screen} [${scheme}] field edge under 3:1: ${edge}`);
  }
  await page.emulateMedia({ colorScheme: "light" });
  // The dark scheme really was the one checked the second time.
  if (backgrounds[0] === backgrounds[1]) found.push(`${screen}: the same background in light and dark (${backgrounds[0]})`);
  const width = page.viewportSize().width;
  if (width <= 400) {
    // Against the layout viewport (clientWidth): on a phone, innerWidth grows with what overflows.
    const { scroll, inner, widest } = await page.evaluate(() => {
      const inner = document.documentElement.clientWidth;
      const over = [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > inner + 1)
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}${e.className && typeof e.className === "string" ? `.${e.className.split(" ").join(".")}` : ""}`);
      return { scroll: document.documentElement.scrollWidth, inner, widest: over.slice(0, 5) };
    });
    if (scroll > inner) found.push(`${screen} scrolls sideways at ${width}px: ${scroll} > ${inner} (${widest.join(", ")})`);
    // Touch targets of at least 44 CSS pixels (checkboxes count with their label's row).
    const small = await page.evaluate(() =>
      [...document.querySelectorAll('button, select, .button, input:not([type="hidden"])')]
        .filter((e) => e.getClientRects().length > 0 && !e.closest(".visually-hidden"))
        .map((e) => [e, (e.type === "checkbox" || e.type === "radio") && e.closest("label") ? e.closest("label") : e])
        .filter(([, target]) => target.getBoundingClientRect().height < 44)
        .map(([e, target]) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""} "${(e.textContent || e.value || "").trim().slice(0, 30)}" ${Math.round(target.getBoundingClientRect().height)}px`),
    );
    if (small.length) found.push(`${screen}: touch targets under 44px: ${small.slice(0, 6).join("; ")}`);
  }
  return found;
}

/** In the page: the text fields and selects whose border is under 3:1 against the background around them. */
function fieldEdges() {
  const rgb = (color) => (color.match(/[\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) =>
    [r, g, b].map((c) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4)).reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const around = (node) => {
    for (let e = node.parentElement; e; e = e.parentElement) {
      const bg = rgb(getComputedStyle(e).backgroundColor);
      if (bg.length === 3 || bg[3] > 0) return bg.slice(0, 3);
    }
    return rgb(getComputedStyle(document.documentElement).backgroundColor).slice(0, 3);
  };
  return [...document.querySelectorAll('input:not([type="checkbox"]):not([type="radio"]):not([type="file"]):not([type="hidden"]), select, textarea')]
    .filter((e) => e.getClientRects().length > 0 && Number.parseFloat(getComputedStyle(e).borderTopWidth) > 0)
    .map((e) => [e, ratio(rgb(getComputedStyle(e).borderTopColor), around(e))])
    .filter(([, r]) => r < 3)
    .map(([e, r]) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""} ${r.toFixed(2)}:1`);
}

/** Narrows a desk's page to the small phone, then lets a frame lay it out (and observers run). */
async function phoneSized(page) {
  await page.setViewportSize(SMALL_PHONE.viewport);
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

test("every screen passes axe (WCAG 2.1 AA) in light and dark, and the wallet fits a 360px phone", async (t) => {
  const url = world.service.url;
  const people = [];
  const open = async (name, device) => {
    const p = await person(browser, name, { device, bypassCSP: true });
    people.push(p);
    return p;
  };
  t.after(async () => {
    for (const p of people) await p.context.close();
  });
  const problems = [];
  const check = async (page, screen) => {
    problems.push(...(await audit(page, screen)));
  };

  // The landing page.
  const citizen = await open("citizen", SMALL_PHONE);
  const page = citizen.page;
  await page.goto(`${url}/`);
  await page.getByTestId("link-app").waitFor();
  await check(page, "landing");

  // The wallet's first run: each way in, then the new identity.
  await page.goto(`${url}/app/`);
  await page.getByTestId("first-run").waitFor();
  await page.locator("#create-label").waitFor();
  await check(page, "app first run: create");
  await page.getByTestId("first-run-restore").click();
  await page.locator("#restore-file").waitFor();
  await check(page, "app first run: restore");
  await page.getByTestId("first-run-recover").click();
  await page.locator("#recover-shares").waitFor();
  await check(page, "app first run: recover");
  await page.getByTestId("first-run-create").click();
  await page.fill("#create-label", "Citizen");
  await page.fill("#create-passphrase", "short");
  await page.getByTestId("create-wallet").click();
  await page.locator('[role="alert"]').waitFor();
  await check(page, "app first run: a refused passphrase");
  await page.fill("#create-passphrase", app.APP_PASSPHRASE);
  await page.fill("#create-passphrase2", app.APP_PASSPHRASE);
  await page.getByTestId("create-wallet").click();
  const citizenDid = (await page.getByTestId("my-did").textContent({ timeout: 60_000 })).trim();
  await check(page, "app first run: done");
  await page.getByTestId("first-run-continue").click();
  await page.getByTestId("credential-list").waitFor();
  await check(page, "app credentials: none yet");

  // Unlock after a reload.
  await page.reload();
  await page.getByTestId("unlock-screen").waitFor();
  await check(page, "app unlock");
  await page.fill("#unlock-passphrase", "not the passphrase");
  await page.getByTestId("unlock").click();
  await page.getByTestId("unlock-error").locator('[role="alert"]').waitFor({ timeout: 60_000 });
  await check(page, "app unlock: wrong passphrase");
  await page.fill("#unlock-passphrase", app.APP_PASSPHRASE);
  await page.getByTestId("unlock").click();
  await page.getByTestId("credential-list").waitFor({ timeout: 60_000 });

  // A credential the utility issued, kept and opened.
  await world.person(citizenDid, "household-27");
  const vc = await world.hosted(world.utilityDesk, world.utility, citizenDid, "utility-supplier", 27);
  const file = join(world.service.dir, "a11y-utility.json");
  writeFileSync(file, JSON.stringify(vc));
  await app.importCredential(page, url, file);
  await check(page, "app credentials: one attestation");
  await page.getByTestId("credential").first().getByRole("link").click();
  await page.getByTestId("credential-detail").waitFor();
  await check(page, "app credential");
  await page.getByTestId("verify").click();
  await page.getByTestId("verify-report").locator("*").first().waitFor();
  await check(page, "app credential: verified");

  // An attester's wallet on another phone; the citizen asks it, and makes a one-time link.
  const attester = await open("attester", SMALL_PHONE);
  const attesterDid = await app.createWallet(attester.page, url, "Neighbour");
  await page.goto(`${url}/app/#/request`);
  await page.getByTestId("request-form").waitFor();
  await check(page, "app request form");
  await page.getByTestId("request-create").click();
  await page.getByTestId("request-error").locator('[role="alert"]').waitFor();
  await check(page, "app request form: a missing street");
  const request = await app.requestResidence(page, url, { number: 27, attesters: [attesterDid], note: "Number 27 since 2021." });
  await page.getByTestId("request-qr").waitFor();
  await check(page, "app request: link and QR code");
  await app.go(page, url, "requests");
  await page.getByTestId("request-item").first().waitFor();
  await check(page, "app requests");
  await app.go(page, url, `request/${encodeURIComponent(request.id)}`);
  await page.getByTestId("request-detail").waitFor();
  await check(page, "app request: progress");

  // The attester's inbox, the review of what would be signed, and the open-a-link screen.
  const ap = attester.page;
  await app.go(ap, url, "inbox");
  await ap.locator(`[data-testid="inbox-item"][data-id="${request.id}"]`).waitFor();
  await check(ap, "app inbox");
  const reviewed = await app.review(ap, url, request.id);
  assert.match(reviewed, /27/, "the review shows the house number asked");
  await check(ap, "app review before signing");
  // Not yet accredited: the service refuses, and the screen says why.
  await ap.selectOption("#role", "neighbour");
  await ap.getByTestId("sign").click();
  await ap.locator('main [role="alert"]').waitFor();
  await check(ap, "app review: refused");
  await world.accredit(attesterDid, "carrier", "BE0214596464");
  await app.sign(ap, { role: "parcel-carrier", since: "2021-10-01" });
  await check(ap, "app review: signed");
  await app.go(ap, url, "inbox");
  await ap.getByTestId("given").first().waitFor();
  await check(ap, "app inbox: attestations given");
  await ap.getByTestId("revoke").first().click();
  await ap.getByTestId("confirm-dialog").waitFor();
  await check(ap, "app inbox: confirm a revocation");
  await ap.getByTestId("confirm-dialog").getByRole("button", { name: "Cancel" }).click();
  await ap.getByTestId("confirm-dialog").waitFor({ state: "detached" });
  await app.go(ap, url, "answer");
  await ap.getByTestId("answer-open").waitFor();
  await check(ap, "app open a request link");

  // The citizen collects.
  const collected = await app.collect(page, url, request.id);
  assert.match(collected, /\S/, "the collect report says something");
  await check(page, "app request: collected");

  // The dashboard: sign-in, then a presentation request under the residence policy.
  const clerk = await open("civil servant", DESK);
  const cp = clerk.page;
  await cp.goto(`${url}/dashboard/`);
  await cp.getByLabel("Name of this identity").waitFor();
  await check(cp, "dashboard sign-in: create identity");
  const clerkDid = await desk.createDeskIdentity(cp, url, "dashboard", "Ixelles civil servant");
  await check(cp, "dashboard sign-in: identity made");
  await world.accredit(clerkDid, "government", "BE0207373429");
  await world.addOperator("ixelles", clerkDid);
  await desk.signIn(cp);
  await cp.getByTestId("policy-choice").waitFor();
  await check(cp, "dashboard evaluate");
  const link = await desk.askPresentation(cp);
  await check(cp, "dashboard evaluate: waiting for the citizen");

  // The citizen's consent, the outcome and the log.
  await page.goto(link);
  await page.getByTestId("consent").waitFor();
  await page.getByTestId("disclosed-credential").first().waitFor();
  await check(page, "app consent to present");
  await page.getByTestId("consent-button").click();
  await page.getByTestId("decision-outcome").waitFor();
  await check(page, "app presented: outcome");
  await app.go(page, url, "log");
  await page.getByTestId("log-entry").first().waitFor();
  await check(page, "app log");
  // Presenting to a verifier that checks on its own device.
  await app.go(page, url, "present");
  await page.getByTestId("offline-credentials").waitFor();
  await check(page, "app present offline");

  // The dashboard's decision page, then its search, the registry and the policies.
  await cp.getByTestId("decision-outcome").waitFor({ timeout: 30_000 });
  await cp.getByTestId("receipt-state").waitFor();
  await check(cp, "dashboard decision");
  await cp.locator('#nav a[href="#/decisions"]').click();
  await cp.getByTestId("decision-list").waitFor();
  await check(cp, "dashboard decisions search");
  await cp.locator('#nav a[href="#/registry"]').click();
  await cp.getByTestId("accreditation-list").waitFor();
  await check(cp, "dashboard registry");
  await cp.getByTestId("accreditation-list").getByRole("link").first().click();
  await cp.locator("#acc-history").waitFor();
  await check(cp, "dashboard accreditation and its history");
  await cp.locator('#nav a[href="#/policies"]').click();
  await cp.getByTestId("policy-list").waitFor();
  await check(cp, "dashboard policies");
  await cp.getByTestId("policy-list").getByRole("link").first().click();
  await cp.getByTestId("policy-threshold").waitFor();
  await check(cp, "dashboard policy");
  // The desks on a phone: wide tables scroll inside their own box, reachable by keyboard.
  await phoneSized(cp);
  await check(cp, "dashboard policy (360px)");
  await cp.locator('#nav a[href="#/decisions"]').click();
  await cp.getByTestId("decision-list").waitFor();
  await check(cp, "dashboard decisions search (360px)");
  await cp.setViewportSize(DESK.viewport);
  // A reload signs out (the token lives in memory only): the unlock form.
  await cp.reload();
  await cp.getByLabel("Passphrase", { exact: true }).waitFor();
  await check(cp, "dashboard sign-in: unlock");

  // The citizen's backup, settings and erase screens (nothing erased).
  await app.go(page, url, "backup");
  await page.getByTestId("backup-download").waitFor();
  await check(page, "app backup");
  await app.go(page, url, "settings");
  await page.getByTestId("update-state").waitFor();
  await check(page, "app settings");
  await app.go(page, url, "erase");
  await page.getByTestId("erase-form").waitFor();
  await check(page, "app erase");

  // Without the network: the banner says so.
  await page.context().setOffline(true);
  await page.getByTestId("offline-banner").waitFor();
  await check(page, "app offline banner");
  await page.context().setOffline(false);
  await page.getByTestId("offline-banner").waitFor({ state: "hidden" });

  // German, whose long words are the likeliest to push a small phone's screen sideways.
  await page.locator(".language-switcher select").selectOption("de");
  await page.locator('html[lang="de"]').waitFor({ state: "attached" });
  for (const [route, ready] of [
    ["credentials", "credential-list"],
    ["request", "request-form"],
    ["requests", "request-list"],
    ["inbox", "inbox"],
    ["log", "log"],
    ["backup", "backup-download"],
    ["settings", "update-state"],
  ]) {
    await app.go(page, url, route);
    await page.getByTestId(ready).first().waitFor();
    await check(page, `app ${route} (de)`);
  }

  // The attester portal: sign-in, issue one, a CSV with a bad row and its report, the list.
  const operator = await open("utility operator", DESK);
  const op = operator.page;
  await op.goto(`${url}/portal/`);
  await op.getByLabel("Name of this identity").waitFor();
  await check(op, "portal sign-in: create identity");
  const operatorDid = await desk.createDeskIdentity(op, url, "portal", "Sibelga desk");
  await world.addOperator("sibelga", operatorDid);
  await desk.signIn(op);
  await op.getByLabel("Subject (the resident's DID)").waitFor();
  await check(op, "portal issue");
  await desk.issueResidence(op, { subject: citizenDid, number: 27, role: "utility-supplier" });
  await check(op, "portal issue: issued");
  await op.locator('#nav a[href="#/bulk"]').click();
  await op.getByLabel("CSV file", { exact: true }).waitFor();
  await check(op, "portal bulk");
  const header = "subject,role,relation_since,street_fr,street_nl,house_number,box,postal_code,municipality_fr,municipality_nl,country,since";
  const row = (subject, number) =>
    `${subject},utility-supplier,2021-09-01,"Rue de la Brasserie",Brouwerijstraat,${number},,1050,Ixelles,Elsene,BE,2021-09-01`;
  const csv = join(world.service.dir, "a11y-residents.csv");
  writeFileSync(csv, [header, row(attesterDid, 25), row("not-a-did", 29)].join("\r\n") + "\r\n");
  await op.getByLabel("CSV file", { exact: true }).setInputFiles(csv);
  const issueAll = op.getByRole("button", { name: /^Issue \d+ attestations$/ });
  await issueAll.waitFor();
  await check(op, "portal bulk: the file checked");
  await issueAll.click();
  await op.getByTestId("bulk-report").waitFor({ timeout: 60_000 });
  await check(op, "portal bulk: report");
  await op.locator('#nav a[href="#/issued"]').click();
  await op.getByTestId("issued-list").waitFor();
  await check(op, "portal issued");
  await phoneSized(op);
  await check(op, "portal issued (360px)");
  await op.locator('#nav a[href="#/bulk"]').click();
  await op.getByLabel("CSV file", { exact: true }).waitFor();
  await check(op, "portal bulk (360px)");

  await shot(page, "a11y-citizen-phone");
  for (const p of people) assert.deepEqual(p.problems, [], `no page errors for ${p.name}`);
  assert.deepEqual(problems, [], `accessibility problems:\n${problems.join("\n")}`);
});

/** Where focus is, and whether it shows (:focus-visible with an outline or a box shadow). */
async function focusState(page, selector) {
  return page.evaluate((selector) => {
    const e = document.activeElement;
    if (!e || e === document.body) return { matches: false, visible: false, what: "nothing (body)" };
    const style = getComputedStyle(e);
    const outline = style.outlineStyle !== "none" && Number.parseFloat(style.outlineWidth) > 0;
    const what = `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}${e.dataset.testid ? `[${e.dataset.testid}]` : ""} "${(e.textContent || e.value || "").trim().slice(0, 40)}"`;
    return {
      matches: e.matches(selector),
      visible: e.matches(":focus-visible") && (outline || style.boxShadow !== "none"),
      what: `${what} (outline ${style.outlineStyle} ${style.outlineWidth}, shadow ${style.boxShadow})`,
    };
  }, selector);
}

/** Waits until focus is on `selector` (screens render asynchronously), then checks it shows. */
async function expectFocus(page, selector, step) {
  await page
    .waitForFunction((s) => document.activeElement && document.activeElement.matches(s), selector, { timeout: 60_000 })
    .catch(() => {});
  const state = await focusState(page, selector);
  assert.ok(state.matches, `${step}: focus should be on ${selector}, is on ${state.what}`);
  assert.ok(state.visible, `${step}: focus on ${selector} should be visible: ${state.what}`);
}

/** The selector of the control labelled exactly `label`. */
async function idOf(page, label) {
  return `#${await page.getByLabel(label, { exact: true }).getAttribute("id")}`;
}

/** Tab to the next control: a date field's day, month and year are stops of their own. */
async function tabOut(page, selector) {
  const from = await page.evaluate(() => (document.activeElement.type === "date" ? document.activeElement.id : null));
  await page.keyboard.press("Tab");
  for (let i = 0; from && i < 4 && (await page.evaluate((id) => document.activeElement.id === id, from)); i++) {
    await page.keyboard.press("Tab");
  }
  await expectFocus(page, selector, "after Tab");
}

/** Presses a key and checks where focus went. */
async function press(page, key, selector) {
  await page.keyboard.press(key);
  await expectFocus(page, selector, `after ${key}`);
}

test("the keyboard alone: create a wallet, ask for a residence attestation, open the settings", async (t) => {
  const url = world.service.url;
  const citizen = await person(browser, "keyboard citizen", { device: DESK });
  t.after(() => citizen.context.close());
  const page = citizen.page;
  const kb = page.keyboard;

  await page.goto(`${url}/app/`);
  await page.locator("#create-label").waitFor();
  // The skip link comes first and leads into the main region without changing the route.
  await press(page, "Tab", "a.skip-link");
  await press(page, "Enter", "main#main");
  assert.equal(await page.evaluate(() => location.hash), "", "the skip link is not a route");
  await press(page, "Tab", '[data-testid="first-run-create"]');
  await press(page, "Tab", '[data-testid="first-run-restore"]');
  await press(page, "Tab", '[data-testid="first-run-recover"]');
  await press(page, "Tab", "#create-label");
  await kb.press("ControlOrMeta+A");
  await kb.type("Keyboard citizen");
  await press(page, "Tab", "#create-passphrase");
  await kb.type(app.APP_PASSPHRASE);
  await press(page, "Tab", "#create-passphrase2");
  await kb.type(app.APP_PASSPHRASE);
  await press(page, "Tab", '[data-testid="create-wallet"]');
  // Creating takes the key derivation's time; then focus goes to the result's heading.
  await press(page, "Enter", '[data-testid="first-run-done"] h2');
  const did = (await page.getByTestId("my-did").textContent()).trim();
  assert.ok(did.startsWith("did:key:z6Mk"), `a new identity, got ${did}`);
  await press(page, "Tab", '[data-testid="first-run-done"] .did-box button');
  await press(page, "Tab", '[data-testid="first-run-continue"]');
  await press(page, "Enter", "main h1");
  assert.equal(await page.evaluate(() => location.hash), "#/credentials");

  // Back from the heading into the menu, to "Request an attestation".
  for (const route of ["settings", "backup", "log", "inbox", "requests", "request"]) {
    await press(page, "Shift+Tab", `#nav a[href="#/${route}"]`);
  }
  await press(page, "Enter", "main h1");
  assert.equal(await page.evaluate(() => location.hash), "#/request");
  assert.equal(await page.locator("main h1").textContent(), "Ask for an attestation");

  // The form: the fact type is a select (arrow keys change it), then every control in order.
  await press(page, "Tab", "#fact-type");
  await kb.press("ArrowDown");
  assert.notEqual(await page.locator("#fact-type").inputValue(), "ResidenceAttestation");
  assert.ok(await page.locator("#house-number").isHidden(), "another fact type hides the address");
  await kb.press("ArrowUp");
  assert.equal(await page.locator("#fact-type").inputValue(), "ResidenceAttestation");
  assert.ok(await page.locator("#house-number").isVisible(), "the address is back");
  // What Tab should reach, in order: the form's visible, enabled, tabbable controls.
  const controls = await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="request-form"] :is(input, select, textarea, button)')]
      .filter((e) => !e.disabled && e.tabIndex >= 0 && e.getClientRects().length > 0)
      .map((e) => (e.id ? `#${CSS.escape(e.id)}` : e.dataset.testid ? `[data-testid="${e.dataset.testid}"]` : `unnamed ${e.tagName}`)),
  );
  const wanted = ["#fact-type", "#street-fr", "#house-number", "#postal-code", "#municipality-fr", "#since", "#attesters", "#open-link", "#note", '[data-testid="request-create"]'];
  const positions = wanted.map((w) => controls.indexOf(w));
  assert.ok(positions.every((p, i) => p >= 0 && (i === 0 || p > positions[i - 1])), `the form's controls in reading order: ${controls.join(" ")}`);
  const typed = {
    "#street-fr": "Rue de la Brasserie",
    "#street-nl": "Brouwerijstraat",
    "#house-number": "27",
    "#postal-code": "1050",
    "#municipality-fr": "Ixelles",
    "#municipality-nl": "Elsene",
    // A date field takes its parts as typed digits (the same day and month in either order).
    "#since": "09092021",
    "#note": "Typed with the keyboard.",
  };
  for (const selector of controls.slice(1, -1)) {
    await tabOut(page, selector);
    if (typed[selector]) await kb.type(typed[selector]);
    if (selector === "#open-link") {
      // The one-time link is on; Space turns it off and on again.
      await kb.press("Space");
      assert.equal(await page.locator("#open-link").isChecked(), false);
      await kb.press("Space");
      assert.equal(await page.locator("#open-link").isChecked(), true);
    }
  }
  assert.equal(await page.locator("#since").inputValue(), "2021-09-09");
  await tabOut(page, '[data-testid="request-create"]');
  await press(page, "Enter", '[data-testid="request-created"] h2');
  assert.match(await page.getByTestId("request-link").inputValue(), /\/app\/#\/answer\/open:/);
  await press(page, "Tab", "#request-link");
  await press(page, "Tab", '[data-testid="request-created"] .link-box .actions button');

  // Back into the menu's last item, the settings.
  await kb.press("Shift+Tab");
  await press(page, "Shift+Tab", '[data-testid="request-created"] h2, #nav a[href="#/settings"]');
  if (await page.evaluate(() => document.activeElement.tagName === "H2")) await press(page, "Shift+Tab", '#nav a[href="#/settings"]');
  await press(page, "Enter", "main h1");
  assert.equal(await page.evaluate(() => location.hash), "#/settings");
  assert.equal((await page.getByTestId("my-did").textContent()).trim(), did, "the settings show my DID");
  await shot(page, "a11y-keyboard-settings");
  assert.deepEqual(citizen.problems, []);
});

test("the keyboard alone: the portal's sign-in and the dashboard's evaluate form", async (t) => {
  const url = world.service.url;

  // The portal: make the browser-held identity, then sign in, by keyboard.
  const operator = await person(browser, "keyboard operator", { device: DESK });
  t.after(() => operator.context.close());
  let page = operator.page;
  await page.goto(`${url}/portal/`);
  const label = page.getByLabel("Name of this identity");
  await label.waitFor();
  await expectFocus(page, await idOf(page, "Name of this identity"), "the portal opens on its first field");
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.type("Sibelga keyboard desk");
  await press(page, "Tab", await idOf(page, "Passphrase"));
  await page.keyboard.type(desk.DESK_PASSPHRASE);
  await press(page, "Tab", await idOf(page, "Repeat the passphrase"));
  await page.keyboard.type(desk.DESK_PASSPHRASE);
  await press(page, "Tab", 'main form button[type="submit"]');
  await press(page, "Enter", "main h1");
  const operatorDid = (await page.getByTestId("my-did").textContent()).trim();
  await world.addOperator("sibelga", operatorDid);
  await press(page, "Tab", "main .card button");
  await press(page, "Tab", "main .actions button.primary");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Sign in");
  await press(page, "Enter", "main h1");
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  assert.equal(await page.locator("main h1").textContent(), "Attester portal");
  // The issue form is next in order: the issuer chosen, then the subject.
  await press(page, "Tab", "#issuer-choice");
  await press(page, "Tab", "main .view input");
  assert.deepEqual(operator.problems, []);

  // The dashboard: identity, sign-in, then ask for a presentation under the residence policy.
  const clerk = await person(browser, "keyboard civil servant", { device: DESK });
  t.after(() => clerk.context.close());
  page = clerk.page;
  await page.goto(`${url}/dashboard/`);
  await page.getByLabel("Name of this identity").waitFor();
  await expectFocus(page, await idOf(page, "Name of this identity"), "the dashboard opens on its first field");
  await press(page, "Tab", await idOf(page, "Passphrase"));
  await page.keyboard.type(desk.DESK_PASSPHRASE);
  await press(page, "Tab", await idOf(page, "Repeat the passphrase"));
  await page.keyboard.type(desk.DESK_PASSPHRASE);
  await press(page, "Tab", 'main form button[type="submit"]');
  await press(page, "Enter", "main h1");
  const clerkDid = (await page.getByTestId("my-did").textContent()).trim();
  await world.accredit(clerkDid, "government", "BE0207373429");
  await world.addOperator("ixelles", clerkDid);
  await press(page, "Tab", "main .card button");
  await press(page, "Tab", "main .actions button.primary");
  await press(page, "Enter", "main h1");
  assert.equal(await page.locator("main h1").textContent(), "Evaluate a presentation");
  await press(page, "Tab", "#policy-choice");
  // Arrow keys choose the residence policy.
  const options = await page.locator("#policy-choice option").allTextContents();
  const wanted = options.findIndex((o) => o.includes("be.example.municipality/residence"));
  assert.ok(wanted >= 0, `the residence policy is offered: ${options.join(" | ")}`);
  const at = Number(await page.locator("#policy-choice").inputValue());
  for (let i = at; i < wanted; i++) await page.keyboard.press("ArrowDown");
  for (let i = at; i > wanted; i--) await page.keyboard.press("ArrowUp");
  assert.equal(Number(await page.locator("#policy-choice").inputValue()), wanted);
  await press(page, "Tab", 'main form button[type="submit"]');
  await press(page, "Enter", "#request-title");
  const link = await page.getByTestId("presentation-link").getAttribute("href");
  assert.match(link, /\/app\/#\/present\//);
  await press(page, "Tab", '[data-testid="presentation-link"]');
  await shot(page, "a11y-keyboard-dashboard");
  assert.deepEqual(clerk.problems, []);
});
