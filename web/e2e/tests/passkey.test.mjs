// Passkey unlock in the citizen app, with Chromium's virtual WebAuthn authenticator (CTAP2 with the
// PRF extension, user verification simulated): the passkey's PRF output wraps the wallet's data key
// beside the passphrase. Enrolled in the settings, it unlocks after a reload; a passkey the
// authenticator no longer holds fails with a message and the passphrase still works; forgotten, it
// is no longer offered. WebAuthn needs a domain name, so the page is opened on localhost.
import { test, before, after } from "node:test";
import { launch, person, shot } from "../lib/browser.mjs";
import { Service } from "../lib/service.mjs";
import { APP_PASSPHRASE, createWallet, go } from "../lib/citizen-app.mjs";
import assert from "node:assert/strict";

let browser;
let service;

before(async () => {
  service = await Service.start();
  await service.run();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await service?.dispose();
});

/** A platform authenticator with PRF, as a phone's passkey provider. */
async function authenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      ctap2Version: "ctap2_1",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      hasPrf: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials,
    clear: () => cdp.send("WebAuthn.clearCredentials", { authenticatorId }),
  };
}

async function myDid(page, url) {
  await go(page, url, "settings");
  return (await page.getByTestId("my-did").textContent()).trim();
}

test("a passkey with PRF unlocks the wallet beside the passphrase, and can be forgotten", async () => {
  const url = `http://localhost:${service.port}`;
  const citizen = await person(browser, "citizen");
  const { page } = citizen;
  const passkeys = await authenticator(page);
  const did = await createWallet(page, url, "citizen");

  // Enrol: the settings list it; the authenticator holds one credential.
  await go(page, url, "settings");
  // Adding a way in asks for the passphrase again: a wrong one enrols nothing.
  await page.fill("#passkey-passphrase", "not the passphrase");
  await page.getByTestId("enable-passkey").click();
  await page.locator('[data-testid="passkey-status"] .error').waitFor();
  assert.equal(await page.getByTestId("forget-passkey").count(), 0, "nothing enrolled with a wrong passphrase");
  assert.equal((await passkeys.credentials()).length, 0, "and no passkey left behind on the device");
  await page.fill("#passkey-passphrase", APP_PASSPHRASE);
  await page.getByTestId("enable-passkey").click();
  await page.locator('[data-testid="passkey-status"] .success').waitFor();
  assert.ok((await page.getByTestId("forget-passkey").count()) === 1, "one passkey listed");
  const held = await passkeys.credentials();
  assert.ok(held.length === 1, `the authenticator holds one credential, found ${held.length}`);
  await shot(page, "passkey-enrolled");

  // A reload locks the wallet (its keys live only in memory); the passkey opens it.
  await page.reload();
  await page.getByTestId("unlock-screen").waitFor();
  const unlock = page.getByTestId("unlock-passkey");
  await unlock.waitFor({ state: "visible" });
  await shot(page, "passkey-unlock");
  await unlock.click();
  await page.getByTestId("unlock-screen").waitFor({ state: "detached" });
  assert.ok((await myDid(page, url)) === did, "the passkey opened the same wallet");

  // A passkey the authenticator no longer has: a message, no exception; the passphrase works.
  await passkeys.clear();
  await page.reload();
  await page.getByTestId("unlock-passkey").click();
  const error = page.locator('[data-testid="unlock-error"] .error');
  await error.waitFor();
  const message = await error.innerText();
  assert.ok(/not used|cancelled/i.test(message), `a translated WebAuthn failure, got ${message}`);
  await page.fill("#unlock-passphrase", APP_PASSPHRASE);
  await page.getByTestId("unlock").click();
  await page.getByTestId("unlock-screen").waitFor({ state: "detached" });

  // Forgotten: the header no longer holds it, so unlock no longer offers it.
  await go(page, url, "settings");
  await page.getByTestId("forget-passkey").click();
  await page.locator('[data-testid="passkey-status"] .success').waitFor();
  assert.ok((await page.getByTestId("forget-passkey").count()) === 0, "no passkey listed");
  await page.reload();
  await page.getByTestId("unlock-screen").waitFor();
  await page.locator('[data-testid="unlock-passkey-part"][data-checked="true"]').waitFor({ state: "attached" });
  assert.ok(!(await page.getByTestId("unlock-passkey").isVisible()), "no passkey button without a passkey");
  assert.deepEqual(citizen.problems, [], `no page errors (failed requests: ${citizen.failures.join("; ")})`);
  await citizen.context.close();
});
