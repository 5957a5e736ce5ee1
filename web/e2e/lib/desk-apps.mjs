// What an organisation's operator (the attester portal) and a civil servant (the government
// dashboard) do on their screens. Both keep their key in the browser and sign in with it.
import { expect } from "./expect.mjs";

export const DESK_PASSPHRASE = "desk passphrase for the e2e tests";

/** First visit to /portal/ or /dashboard/: creates the browser-held identity; returns its DID. */
export async function createDeskIdentity(page, url, app, label) {
  await page.goto(`${url}/${app}/`);
  await page.getByLabel("Name of this identity").fill(label);
  await page.getByLabel("Passphrase", { exact: true }).fill(DESK_PASSPHRASE);
  await page.getByLabel("Repeat the passphrase").fill(DESK_PASSPHRASE);
  await page.getByRole("button", { name: "Create my identity" }).click();
  const did = (await page.getByTestId("my-did").textContent({ timeout: 60_000 })).trim();
  expect(did.startsWith("did:key:"), `a did:key identity, got ${did}`);
  return did;
}

export async function signIn(page) {
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** The portal issues a residence attestation; returns the downloaded credential's path. */
export async function issueResidence(page, { subject, number, role }) {
  await page.getByLabel("Subject (the resident's DID)").fill(subject);
  await page.getByLabel("Street (French)").fill("Rue de la Brasserie");
  await page.getByLabel("Street (Dutch)").fill("Brouwerijstraat");
  await page.getByLabel("Number", { exact: true }).fill(String(number));
  await page.getByLabel("Postal code").fill("1050");
  await page.getByLabel("Municipality (French)").fill("Ixelles");
  await page.getByLabel("Municipality (Dutch)").fill("Elsene");
  await page.getByLabel("Lives there since").fill("2021-09-01");
  await page.getByLabel("Role", { exact: true }).selectOption(role);
  await page.getByRole("button", { name: "Issue the attestation" }).click();
  await page.getByTestId("issue-result").waitFor();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("download-credential").click(),
  ]);
  const path = await download.path();
  return path;
}

/** The dashboard asks for a presentation under the residence policy; returns the link. */
export async function askPresentation(page) {
  await page.getByTestId("policy-choice").waitFor();
  await page.getByTestId("policy-choice").evaluate((select) => {
    const option = [...select.options].find((o) => o.textContent.includes("residence") || o.textContent.includes("Residence"));
    if (option) select.value = option.value;
  });
  await page.getByRole("button", { name: "Ask for a presentation" }).click();
  const link = await page.getByTestId("presentation-link").getAttribute("href");
  expect(link.includes("/app/#/present/"), `a link into the citizen app, got ${link}`);
  return link;
}
