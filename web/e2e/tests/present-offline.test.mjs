// Presenting without the network: the citizen's phone is offline (the app comes from its service
// worker), the verifier gives a domain and a one-time challenge, the citizen chooses what to
// disclose and hands over the signed file; the verifier checks it on its own side with the
// `corroborate` program, from the issuer's DID document and status lists it fetched beforehand.
// The same file fails for another challenge or another domain. And the municipality's desk, online
// while the phone is not: the dashboard shows its request's domain and challenge to read out and
// takes the file handed over.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { World } from "../lib/world.mjs";
import { bins } from "../lib/service.mjs";
import { launch, person, shot, DESK } from "../lib/browser.mjs";
import * as desk from "../lib/desk-apps.mjs";
import { APP_PASSPHRASE, createWallet, go, importCredential } from "../lib/citizen-app.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The verifier's offline check: `corroborate verify-presentation --json`. */
function verify(dir, file, { challenge, domain }) {
  const args = ["verify-presentation", "--json", "--challenge", challenge, "--domain", domain];
  args.push("--did-document", join(dir, "issuer-did.json"), "--status-list", join(dir, "status-lists"), file);
  return JSON.parse(execFileSync(bins.cli, args, { encoding: "utf8" }));
}

/**
 * The phone goes offline, reloads from its service worker, unlocks, and presents the first
 * credential for `domain` and `challenge`; returns the downloaded file's path.
 */
async function presentOffline(page, dir, { domain, challenge, checkRefusals = false }) {
  await page.context().setOffline(true);
  await page.reload();
  await page.fill("#unlock-passphrase", APP_PASSPHRASE);
  await page.getByTestId("unlock").click();
  await page.getByTestId("to-present-offline").click();
  await page.getByTestId("present-offline").waitFor();
  return signOffline(page, dir, { domain, challenge, checkRefusals });
}

/** On the offline presenting screen: fills in, ticks the first credential, signs; returns the file. */
async function signOffline(page, dir, { domain, challenge, checkRefusals = false }) {
  await page.fill("#offline-verifier", domain);
  const error = page.locator('[data-testid="offline-error"] .error');
  if (checkRefusals) {
    await page.getByTestId("offline-present").click();
    assert.match(await error.innerText(), /challenge/i, "no challenge: the field's message, nothing signed");
  }
  await page.fill("#offline-challenge", challenge);
  if (checkRefusals) {
    await page.getByTestId("offline-present").click();
    assert.match(await error.innerText(), /at least one|choose/i, "nothing is chosen for the person");
  }
  await page.locator('[data-testid="offline-credentials"] input[type="checkbox"]').first().check();
  await shot(page, "present-offline-consent");
  await page.getByTestId("offline-present").click();
  await page.getByTestId("offline-done").waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("offline-download").click()]);
  const file = join(dir, `presentation-${challenge.replace(/[^A-Za-z0-9-]/g, "_")}.json`);
  await download.saveAs(file);
  return file;
}

/** A citizen's phone wallet holding the utility's attestation (service worker ready). */
async function citizenWithAttestation(world, citizen) {
  const did = await createWallet(citizen.page, world.service.url, "citizen");
  const credential = await world.hosted(world.utilityDesk, world.utility, did, "utility-supplier", 12);
  const file = join(world.service.dir, "utility.json");
  writeFileSync(file, JSON.stringify(credential));
  await importCredential(citizen.page, world.service.url, file);
  await citizen.page.evaluate(() => navigator.serviceWorker.ready);
  return { did, credential };
}

test("an offline phone presents to a verifier that checks on its own side", async (t) => {
  const world = await World.create({ neighbours: false });
  t.after(() => world.dispose());
  const url = world.service.url;
  const dir = world.service.dir;
  const citizen = await person(browser, "citizen");
  t.after(() => citizen.context.close());
  const { page } = citizen;

  // Online: a wallet, and the utility's attestation in it.
  const { did, credential } = await citizenWithAttestation(world, citizen);

  // The verifier prepares its offline check: the issuer's DID document and status list.
  const issuerPath = credential.issuer.replace(/^did:web:[^:]+:/, "").split(":").join("/");
  writeFileSync(join(dir, "issuer-did.json"), JSON.stringify(await world.service.api("GET", `/${issuerPath}/did.json`)));
  mkdirSync(join(dir, "status-lists"));
  const lists = [...new Set([credential.credentialStatus].flat().map((entry) => entry.statusListCredential))];
  assert.ok(lists.length >= 1, "the credential names its status lists");
  for (const [i, list] of lists.entries()) {
    const path = new URL(list).pathname;
    writeFileSync(join(dir, "status-lists", `${i}.json`), JSON.stringify(await world.service.api("GET", path)));
  }

  const challenge = "counter-7-2026-11-29";
  const domain = "did:web:ixelles.example";
  const handed = await presentOffline(page, dir, { domain, challenge, checkRefusals: true });
  await shot(page, "present-offline-done");

  // The log says who got what, offline.
  await go(page, url, "log");
  const entry = page.getByTestId("log-entry").first();
  await entry.waitFor();
  const logged = await entry.innerText();
  assert.ok(logged.includes(domain) && /offline/i.test(logged), `the log names the verifier and says offline: ${logged}`);

  // The verifier's side: valid for its challenge and domain, about the citizen, status checked.
  const report = verify(dir, handed, { challenge, domain });
  assert.deepEqual(report.failures, [], "the presentation itself holds");
  assert.equal(report.holder, did);
  assert.equal(report.credentials.length, 1);
  assert.equal(report.credentials[0].verdict, "valid", JSON.stringify(report.credentials[0]));
  // Replayed to another check, or to another verifier, it fails.
  assert.notDeepEqual(verify(dir, handed, { challenge: "another-check", domain }).failures, []);
  assert.notDeepEqual(verify(dir, handed, { challenge, domain: "did:web:elsewhere.example" }).failures, []);
  assert.deepEqual(citizen.problems, [], `no page errors (failed requests: ${citizen.failures.join("; ")})`);
});

test("the dashboard takes the file an offline phone handed over, for its own request", async (t) => {
  const world = await World.create({ neighbours: false });
  t.after(() => world.dispose());
  const url = world.service.url;
  const citizen = await person(browser, "citizen");
  const clerk = await person(browser, "civil servant", { device: DESK });
  t.after(() => citizen.context.close());
  t.after(() => clerk.context.close());
  await citizenWithAttestation(world, citizen);

  // The civil servant asks; the phone cannot open the link, so the values are read out.
  const clerkDid = await desk.createDeskIdentity(clerk.page, url, "dashboard", "Ixelles civil servant");
  await world.accredit(clerkDid, "government", "BE0207373429");
  await world.addOperator("ixelles", clerkDid);
  await desk.signIn(clerk.page);
  const link = await desk.askPresentation(clerk.page);
  await clerk.page.getByTestId("offline-hand-over").locator("summary").click();
  const domain = (await clerk.page.getByTestId("offline-domain").innerText()).trim();
  const challenge = (await clerk.page.getByTestId("offline-challenge").innerText()).trim();
  assert.ok(domain.startsWith("did:"), `the verifier's DID as the domain, got ${domain}`);
  await shot(clerk.page, "dashboard-offline-hand-over");

  // The phone scans the QR code without network: the link names the request and its verifier, so
  // the app offers to sign for them offline, prefilled with what the dashboard shows.
  await citizen.context.setOffline(true);
  await citizen.page.reload();
  await citizen.page.fill("#unlock-passphrase", APP_PASSPHRASE);
  await citizen.page.getByTestId("unlock").click();
  await citizen.page.getByTestId("unlock-screen").waitFor({ state: "detached" });
  await citizen.page.goto(link);
  await citizen.page.getByTestId("offline-fallback").waitFor();
  assert.equal((await citizen.page.getByTestId("offline-link-verifier").innerText()).trim(), domain, "the verifier shown before consent");
  assert.equal(await citizen.page.inputValue("#offline-verifier"), domain);
  assert.equal(await citizen.page.inputValue("#offline-challenge"), challenge);
  await shot(citizen.page, "present-offline-from-link");

  const handed = await signOffline(citizen.page, world.service.dir, { domain, challenge });
  // A file that is not JSON is refused on the page; the real one is decided.
  const junk = join(world.service.dir, "junk.json");
  writeFileSync(junk, "not a presentation");
  await clerk.page.setInputFiles("#offline-file", junk);
  await clerk.page.getByTestId("offline-submit").click();
  assert.match(await clerk.page.locator('[data-testid="offline-error"] .error').innerText(), /not a presentation/i);
  await clerk.page.setInputFiles("#offline-file", handed);
  await clerk.page.getByTestId("offline-submit").click();
  const decided = clerk.page.getByTestId("decision-outcome");
  await decided.waitFor({ timeout: 30_000 });
  // One utility attestation is not enough under the residence policy: decided, and said so.
  assert.match(await decided.innerText(), /not enough|insufficient/i);
  assert.equal(await clerk.page.locator('[data-testid="attestation-card"]').count(), 1);
  await shot(clerk.page, "dashboard-offline-decision");
  for (const p of [citizen, clerk]) {
    assert.deepEqual(p.problems, [], `no page errors for ${p.name} (failed requests: ${p.failures.join("; ")})`);
  }
});
