// The citizen wallet offline: once installed (its service worker active), it opens from the
// worker's cache without the network, unlocks, and shows the credentials with the "as of" time of
// the status it checked when online, under the offline banner; an action that needs the service
// fails with the translated network message. The worker's cache holds the signed release's
// files and nothing else: no answer of the API.
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

const dictionary = (lang, part) => JSON.parse(readFileSync(join(webDist, part, "i18n", `${lang}.json`), "utf8"));
const text = (lang, key) => ({ ...dictionary(lang, "common"), ...dictionary(lang, "app") })[key];

test("offline: the installed wallet opens, unlocks, shows cached statuses as of their check, and says when the service is needed", async (t) => {
  const world = await World.create({ neighbours: false });
  t.after(() => world.dispose());
  const url = world.service.url;
  const citizen = await person(browser, "citizen");
  t.after(() => citizen.context.close());
  const { page, context } = citizen;
  const apiRequests = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (!/^\/(app|common|pkg)\/|^\/(favicon\.svg|release\.json|release\.sig)$/.test(path)) apiRequests.push(path);
  });

  // Online: the wallet is made, the utility's attestation kept (its status list fetched then).
  const did = await app.createWallet(page, url, "Citizen");
  const vc = await world.hosted(world.utilityDesk, world.utility, did, "utility-supplier", 27);
  const file = join(world.service.dir, "utility-27.json");
  writeFileSync(file, JSON.stringify(vc));
  await app.importCredential(page, url, file);
  const asOfOnline = (await page.getByTestId("as-of").first().innerText()).trim();
  assert.match(asOfOnline, /^Status as of .*\d{4}/, "the attestation's status was checked when it was kept");
  // Installed: the worker that cached the release controls the page.
  await page.waitForFunction(() => navigator.serviceWorker.controller?.state === "activated");

  await context.setOffline(true);
  await page.reload();
  await page.getByTestId("unlock-screen").waitFor();
  const banner = page.getByTestId("offline-banner");
  assert.equal((await banner.innerText()).trim(), text("en", "app.offline"));
  // A locked wallet is still a wallet here: first run's address leads to unlock too.
  await page.getByTestId("unlock-screen").evaluate((screen) => screen.setAttribute("data-seen", ""));
  await app.go(page, url, "welcome");
  await page.locator('[data-testid="main"] > :not([data-seen])').waitFor();
  assert.equal(await page.getByTestId("first-run").count(), 0, "no first run over a locked wallet");
  await page.getByTestId("unlock-screen").waitFor();
  await page.fill("#unlock-passphrase", app.APP_PASSPHRASE);
  await page.getByTestId("unlock").click();
  const cards = page.locator('[data-testid="credential"]');
  assert.equal(await waitForCount(cards, 1), 1, "the credential kept on this device shows offline");
  const card = (await cards.first().innerText()).replace(/\s+/g, " ");
  assert.ok(card.includes("Brouwerijstraat 27, 1050 Elsene"), `the address shows offline: ${card}`);
  assert.equal((await page.getByTestId("as-of").first().innerText()).trim(), asOfOnline, "the status is as of its last check");
  assert.equal((await page.getByTestId("offline-note").innerText()).trim(), text("en", "credentials.offline"));
  assert.equal(await banner.isVisible(), true);
  await shot(page, "offline-credentials");

  // The inbox of requests to attest lives at the service: it says it cannot be reached, in the
  // language chosen (whose dictionary also comes from the worker's cache), not an exception.
  await app.go(page, url, "inbox");
  const error = page.getByRole("alert");
  await error.waitFor();
  assert.ok((await error.innerText()).trim().startsWith(text("en", "error.network")), await error.innerText());
  await page.locator("#tools .language-switcher select").selectOption("fr");
  await page.waitForFunction(() => document.documentElement.lang === "fr");
  assert.equal((await banner.innerText()).trim(), text("fr", "app.offline"));
  await page.getByRole("alert").getByText(text("fr", "error.network")).waitFor();
  await shot(page, "offline-inbox-unreachable");

  // The worker's cache: the release's files only, never an answer of the API.
  const manifest = JSON.parse(readFileSync(join(webDist, "release.json"), "utf8"));
  const cached = await page.evaluate(async () => {
    const paths = [];
    for (const name of await caches.keys()) {
      for (const request of await (await caches.open(name)).keys()) paths.push(new URL(request.url).pathname);
    }
    return paths;
  });
  assert.ok(cached.includes("/app/index.html") && cached.some((p) => p.endsWith(".wasm")), `the app is cached: ${cached.length} files`);
  const strays = cached.filter((p) => !(p in manifest.files) && p !== "/release.json" && p !== "/release.sig");
  assert.deepEqual(strays, [], "only files of the signed release are cached");
  assert.ok(apiRequests.some((p) => p.startsWith("/status-lists/")), `the page did ask the API: ${apiRequests.join(", ")}`);
  for (const path of new Set(apiRequests)) assert.ok(!cached.includes(path), `${path} (an API answer) is not cached`);

  await context.setOffline(false);
  await banner.waitFor({ state: "hidden" });
  assert.deepEqual(citizen.problems, [], `no page errors (failed requests: ${citizen.failures.join("; ")})`);
});
