// Presenting without the network: the citizen's phone is offline (the app comes from its service
// worker), the verifier gives a domain and a one-time challenge, the citizen chooses what to
// disclose and hands over the signed file; the verifier checks it on its own side with the
// `corroborate` program, from the issuer's DID document and status lists it fetched beforehand.
// The same file fails for another challenge or another domain.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { World } from "../lib/world.mjs";
import { bins } from "../lib/service.mjs";
import { launch, person, shot } from "../lib/browser.mjs";
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

test("an offline phone presents to a verifier that checks on its own side", async (t) => {
  const world = await World.create({ neighbours: false });
  t.after(() => world.dispose());
  const url = world.service.url;
  const dir = world.service.dir;
  const citizen = await person(browser, "citizen");
  t.after(() => citizen.context.close());
  const { page, context } = citizen;

  // Online: a wallet, and the utility's attestation in it.
  const did = await createWallet(page, url, "citizen");
  const credential = await world.hosted(world.utilityDesk, world.utility, did, "utility-supplier", 12);
  const file = join(dir, "utility.json");
  writeFileSync(file, JSON.stringify(credential));
  await importCredential(page, url, file);
  await page.evaluate(() => navigator.serviceWorker.ready);

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

  // Offline from here: the app, the unlock and the signing are all on the phone.
  await context.setOffline(true);
  await page.reload();
  await page.fill("#unlock-passphrase", APP_PASSPHRASE);
  await page.getByTestId("unlock").click();
  await page.getByTestId("to-present-offline").click();
  await page.getByTestId("present-offline").waitFor();
  const challenge = "counter-7-2026-11-29";
  const domain = "did:web:ixelles.example";
  await page.fill("#offline-verifier", domain);
  await page.getByTestId("offline-present").click();
  const refused = await page.locator('[data-testid="offline-error"] .error').innerText();
  assert.match(refused, /challenge/i, "no challenge: the field's message, nothing signed");
  await page.fill("#offline-challenge", challenge);
  await page.getByTestId("offline-present").click();
  assert.match(await page.locator('[data-testid="offline-error"] .error').innerText(), /at least one|choose/i, "nothing is chosen for the person");
  await page.locator('[data-testid="offline-credentials"] input[type="checkbox"]').first().check();
  await shot(page, "present-offline-consent");
  await page.getByTestId("offline-present").click();
  await page.getByTestId("offline-done").waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("offline-download").click()]);
  const handed = join(dir, "presentation.json");
  await download.saveAs(handed);
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
