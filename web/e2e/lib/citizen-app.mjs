// What a person does in the citizen wallet app (/app/), screen by screen, as a test drives it:
// through the labelled controls and the test ids the screens carry.
import { readFileSync } from "node:fs";
import { expect } from "./expect.mjs";

export const APP_PASSPHRASE = "correct horse battery staple, e2e";

/** First run: create a wallet; returns the new identity's DID. */
export async function createWallet(page, url, label) {
  await page.goto(`${url}/app/`);
  await page.getByTestId("first-run").waitFor();
  await page.fill("#create-label", label);
  await page.fill("#create-passphrase", APP_PASSPHRASE);
  await page.fill("#create-passphrase2", APP_PASSPHRASE);
  await page.getByTestId("create-wallet").click();
  const did = (await page.getByTestId("my-did").textContent({ timeout: 60_000 })).trim();
  expect(did.startsWith("did:key:z6Mk"), `a did:key identity, got ${did}`);
  await page.getByTestId("first-run-continue").click();
  return did;
}

/** First run: restore an encrypted backup (moving a wallet from the CLI to the phone). */
export async function restoreWallet(page, url, backupFile, passphrase) {
  await page.goto(`${url}/app/`);
  await page.getByTestId("first-run-restore").click();
  await page.setInputFiles("#restore-file", backupFile);
  await page.fill("#restore-passphrase", passphrase);
  await page.getByTestId("restore-wallet").click();
  await page.getByTestId("first-run-done").waitFor({ timeout: 60_000 });
  const did = (await page.getByTestId("my-did").textContent()).trim();
  await page.getByTestId("first-run-continue").click();
  return did;
}

export async function go(page, url, route) {
  await page.goto(`${url}/app/#/${route}`);
}

/** Keeps a credential file an organisation handed over. */
export async function importCredential(page, url, file) {
  await go(page, url, "credentials");
  await page.setInputFiles("#import-file", file);
  await page.getByTestId("import-credential").click();
  await page.locator('[data-testid="credential"]').first().waitFor();
}

/** Asks for a residence attestation; returns {id, link}. */
export async function requestResidence(page, url, { number, attesters, note }) {
  await go(page, url, "request");
  await page.getByTestId("request-form").waitFor();
  await page.selectOption("#fact-type", "ResidenceAttestation");
  await page.fill("#street-fr", "Rue de la Brasserie");
  await page.fill("#street-nl", "Brouwerijstraat");
  await page.fill("#house-number", String(number));
  await page.fill("#postal-code", "1050");
  await page.fill("#municipality-fr", "Ixelles");
  await page.fill("#municipality-nl", "Elsene");
  await page.fill("#since", "2021-09-01");
  await page.fill("#attesters", attesters.join("\n"));
  await page.check("#open-link");
  if (note) await page.fill("#note", note);
  await page.getByTestId("request-create").click();
  await page.getByTestId("request-created").waitFor();
  const link = await page.getByTestId("request-link").inputValue();
  const href = await page.getByTestId("request-progress-link").getAttribute("href");
  return { link, id: decodeURIComponent(href.replace(/^#\/request\//, "")) };
}

/** An attester opens a request (from the inbox by id, or a link) and reviews it. */
export async function review(page, url, target) {
  if (target.startsWith("http")) await page.goto(target);
  else await go(page, url, `answer/${encodeURIComponent(target)}`);
  await page.getByTestId("review").waitFor();
  return page.getByTestId("review-fields").innerText();
}

export async function sign(page, { role, since }) {
  await page.selectOption("#role", role);
  await page.fill("#relation-since", since);
  await page.getByTestId("sign").click();
  await page.getByTestId("answer-done").waitFor();
}

export async function decline(page, reason) {
  await page.fill("#decline-reason", reason);
  await page.getByTestId("decline").click();
  await page.getByTestId("answer-done").waitFor();
}

/** Collects a request's answers; returns the collect report's text. */
export async function collect(page, url, id) {
  await go(page, url, `request/${encodeURIComponent(id)}`);
  await page.getByTestId("collect").click();
  const out = page.getByTestId("collect-result");
  await out.locator("*").first().waitFor();
  return out.innerText();
}

export function readJson(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}
