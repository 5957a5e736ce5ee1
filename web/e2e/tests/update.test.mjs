// The citizen wallet's release-update cycle, with real releases signed by scripts/web-release.mjs:
// release 1 is installed; a release with a file changed after signing fails to install, and one
// signed with another key is refused: the wallet keeps running release 1 and says so. Release 2,
// signed with the same key, is noticed, checked, offered, and after the person accepts the page
// runs it (its text on screen, its version in settings).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Service, root, webDist } from "../lib/service.mjs";
import { launch, person, shot } from "../lib/browser.mjs";
import * as app from "../lib/citizen-app.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

const en = {
  ...JSON.parse(readFileSync(join(webDist, "common", "i18n", "en.json"), "utf8")),
  ...JSON.parse(readFileSync(join(webDist, "app", "i18n", "en.json"), "utf8")),
};

/** A new Ed25519 release key, as a PKCS#8 PEM file (what CORROBORATE_RELEASE_KEY names). */
function releaseKey(dir, name) {
  const file = join(dir, `${name}.pem`);
  writeFileSync(file, generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }));
  return file;
}

/**
 * A release folder: the built front ends (web/dist or WEB_DIST) copied, `change` applied, then
 * signed as `version` with `key` by scripts/web-release.mjs, as scripts/build-web does.
 */
function release(dir, version, key, change = () => {}) {
  const out = join(dir, version);
  cpSync(webDist, out, { recursive: true });
  // The built worker pins the build's own release: the placeholders go back for the new one.
  const sw = join(out, "app", "sw.js");
  const source = readFileSync(sw, "utf8")
    .replace(/const RELEASE_PUBLIC_KEY = "[^"]*";/, 'const RELEASE_PUBLIC_KEY = "__RELEASE_PUBLIC_KEY__";')
    .replace(/const RELEASE_MANIFEST_SHA256 = "[^"]*";/, 'const RELEASE_MANIFEST_SHA256 = "__RELEASE_MANIFEST_SHA256__";');
  writeFileSync(sw, source);
  change(out);
  execFileSync(process.execPath, [join(root, "scripts", "web-release.mjs"), "--dist", out, "--version", version], {
    env: { ...process.env, CORROBORATE_RELEASE_KEY: key },
    stdio: ["ignore", "ignore", "pipe"],
  });
  return out;
}

/** Release 2's visible change: the wallet's name in English. */
function renameWallet(out) {
  const file = join(out, "app", "i18n", "en.json");
  const json = readFileSync(file, "utf8");
  const renamed = json.replace(/"app\.title": "[^"]*"/, '"app.title": "My wallet, release 2"');
  assert.notEqual(renamed, json, "release 2 changes the app's title");
  writeFileSync(file, renamed);
}

test("updates: a tampered or foreign-signed release is refused and release 1 stays; a signed release 2 is offered and runs once accepted", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "corroborate-releases-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = releaseKey(dir, "release");
  const release1 = release(dir, "1.0.0+e2e", key);
  const tampered = release(dir, "1.1.0+tampered", key, renameWallet);
  // Changed after signing: the worker finds a file that does not match release.json.
  appendFileSync(join(tampered, "app", "view.js"), "\n// changed after signing\n");
  const foreign = release(dir, "1.2.0+foreign", releaseKey(dir, "foreign"), renameWallet);
  const release2 = release(dir, "2.0.0+e2e", key, renameWallet);

  const service = await Service.start({ webDir: release1 });
  t.after(() => service.dispose());
  await service.run();
  const url = service.url;
  const deploy = async (folder) => {
    service.webDir = folder;
    await service.restart();
  };

  const citizen = await person(browser, "citizen");
  t.after(() => citizen.context.close());
  const { page } = citizen;
  await app.createWallet(page, url, "Citizen");
  await page.waitForFunction(() => navigator.serviceWorker.controller?.state === "activated");
  const title = page.locator(".brand [data-i18n='app.title']");
  const banner = page.getByTestId("update-banner");

  const unlock = async () => {
    await page.getByTestId("unlock-screen").waitFor();
    await page.fill("#unlock-passphrase", app.APP_PASSPHRASE);
    await page.getByTestId("unlock").click();
    await page.locator("nav#nav a").first().waitFor();
  };
  /** Settings, once the running worker has said its version: {version, update}. */
  const settings = async () => {
    await app.go(page, url, "settings");
    await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="app-version"]')?.textContent || ""));
    const version = (await page.getByTestId("app-version").innerText()).trim();
    return { version, update: (await page.getByTestId("update-state").innerText()).trim() };
  };
  const reason = (code) => en[`update.reason.${code}`];

  // Release 1 runs.
  const current = (version) => en["update.state.current"].replace("{version}", version);
  assert.deepEqual(await settings(), { version: "1.0.0+e2e", update: current("1.0.0+e2e") });
  assert.equal((await title.innerText()).trim(), "My wallet");

  // A file changed after signing: the new worker does not install; the page says so.
  await deploy(tampered);
  await page.reload();
  // (A generic "could not be installed" may show first, until the worker's reason arrives.)
  await banner.getByText(en["update.failed"].replace("{reason}", reason("hash")), { exact: true }).waitFor();
  assert.equal(await banner.getAttribute("data-state"), "failed");
  assert.equal((await title.innerText()).trim(), "My wallet", "release 1 still runs");
  await shot(page, "update-failed");
  await unlock();
  assert.equal((await settings()).version, "1.0.0+e2e");

  // Signed with another key: its worker installs (its own pins agree) but release 1 refuses it.
  await deploy(foreign);
  await page.reload();
  await page.locator('[data-testid="update-banner"][data-state="refused"]').waitFor();
  assert.equal((await banner.innerText()).trim(), en["update.refused"].replace("{reason}", reason("signature")));
  assert.equal((await title.innerText()).trim(), "My wallet", "release 1 still runs");
  await shot(page, "update-refused");
  // Reloading does not let the refused release in: it is checked again and refused again.
  await page.reload();
  await page.locator('[data-testid="update-banner"][data-state="refused"]').waitFor();
  await unlock();
  const refused = await settings();
  assert.equal(refused.version, "1.0.0+e2e");
  assert.equal(refused.update, en["update.state.refused"].replace("{reason}", reason("signature")));

  // Release 2, signed with the release key: checked and offered; nothing changes until accepted.
  await deploy(release2);
  await page.reload();
  await page.locator('[data-testid="update-banner"][data-state="ready"]').waitFor();
  assert.equal((await banner.locator("span").innerText()).trim(), en["update.ready"].replace("{version}", "2.0.0+e2e"));
  assert.equal((await title.innerText()).trim(), "My wallet", "release 1 runs until the person accepts");
  await shot(page, "update-ready");
  await Promise.all([page.waitForEvent("load"), page.getByTestId("update-accept").click()]);
  await title.filter({ hasText: "My wallet, release 2" }).waitFor();
  assert.equal(await banner.isVisible(), false);
  await unlock();
  assert.deepEqual(await settings(), { version: "2.0.0+e2e", update: current("2.0.0+e2e") });
  await shot(page, "update-release-2");
  // Only release 2's cache is left.
  const cacheNames = await page.evaluate(() => caches.keys());
  assert.equal(cacheNames.length, 1, `one release cached: ${cacheNames.join(", ")}`);
  assert.ok(cacheNames[0].includes("2.0.0+e2e"), cacheNames[0]);
  assert.deepEqual(citizen.problems, [], `no page errors (failed requests: ${citizen.failures.join("; ")})`);
});
