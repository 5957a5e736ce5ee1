// The attester portal on a desk screen: an operator issues from a CSV file with one bad row
// (checked before anything is sent, reported per row), then revokes one of the issued
// attestations from the list; the service's status list says so. An attestation is suspended
// and the suspension lifted, with the service's status list bit checked after each step; a
// revocation stays final, and a refused change is explained in the reader's language. The
// single-issuance form reports bad input beside each field and sends nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { World } from "../lib/world.mjs";
import { launch, person, shot, DESK } from "../lib/browser.mjs";
import * as desk from "../lib/desk-apps.mjs";
import { waitForCount } from "../lib/expect.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test("the attester portal: CSV bulk issuance with a per-row report, then a revocation", async (t) => {
  const world = await World.create({ neighbours: false });
  t.after(() => world.dispose());
  const url = world.service.url;
  const operator = await person(browser, "utility operator", { device: DESK });
  t.after(() => operator.context.close());
  const page = operator.page;

  const did = await desk.createDeskIdentity(page, url, "portal", "Sibelga desk");
  await world.addOperator("sibelga", did);
  await desk.signIn(page);

  const header = "subject,role,relation_since,street_fr,street_nl,house_number,box,postal_code,municipality_fr,municipality_nl,country,since";
  const row = (subject, number, country = "BE") =>
    `${subject},utility-supplier,2021-09-01,"Rue de la Brasserie",Brouwerijstraat,${number},,1050,Ixelles,Elsene,${country},2021-09-01`;
  const csv = [
    header,
    row(world.neighbour25.did, 25),
    row("not-a-did", 27),
    row(world.neighbour29.did, 29, "Belgium"),
    row(world.carrier.did, 31),
  ].join("\r\n");
  const file = join(world.service.dir, "residents.csv");
  writeFileSync(file, "\ufeff" + csv + "\r\n");

  await page.goto(`${url}/portal/#/bulk`);
  await page.getByLabel("CSV file", { exact: true }).setInputFiles(file);
  await page.getByRole("button", { name: /^Issue \d+ attestations$/ }).click();
  const report = page.getByTestId("bulk-report");
  await report.waitFor({ timeout: 60_000 });
  const results = await report.locator("[data-row]").evaluateAll((rows) =>
    rows.map((r) => [r.dataset.row, r.dataset.result]),
  );
  assert.deepEqual(
    results.map(([, result]) => result),
    ["issued", "failed", "failed", "issued"],
    `one result per data row, in order: ${JSON.stringify(results)}`,
  );
  // The progress bar went through every row, issued or not.
  assert.equal(await page.getByTestId("bulk-progress").getAttribute("value"), "4");
  await shot(page, "portal-bulk-report");

  await page.goto(`${url}/portal/#/issued`);
  const list = page.getByTestId("issued-list");
  await list.waitFor();
  assert.equal(await waitForCount(list.locator("[data-credential-id]"), 2), 2);
  const first = list.locator('[data-state="active"]').first();
  const id = await first.getAttribute("data-credential-id");
  await first.getByRole("button", { name: `Revoke ${id}` }).click();
  await page.getByTestId("confirm-dialog").getByRole("button", { name: "Revoke" }).click();
  await list.locator(`[data-credential-id="${id}"][data-state="revoked"]`).waitFor();
  await shot(page, "portal-revoked");

  // The service agrees: the credential's metadata says revoked.
  const issued = await world.service.api("GET", "/issuers/sibelga/credentials", world.utilityDesk.token());
  const items = issued.credentials;
  const revoked = items.find((c) => c.id === id);
  assert.ok(revoked && revoked.revoked, `the service lists ${id} as revoked: ${JSON.stringify(revoked)}`);
  assert.deepEqual(operator.problems, []);
});

/** Signs in a new portal identity as an operator of Sibelga; returns the person and their page. */
async function operatorOf(t, world) {
  const operator = await person(browser, "utility operator", { device: DESK });
  t.after(() => operator.context.close());
  const did = await desk.createDeskIdentity(operator.page, world.service.url, "portal", "Sibelga desk");
  await world.addOperator("sibelga", did);
  await desk.signIn(operator.page);
  return operator;
}

/** The bit of a credential's status entry in the published status list, as any verifier reads it. */
async function statusBit(service, credential, purpose) {
  const entry = [credential.credentialStatus].flat().find((e) => e.statusPurpose === purpose);
  assert.ok(entry, `the credential has a ${purpose} entry`);
  const list = await service.api("GET", new URL(entry.statusListCredential).pathname);
  const encoded = list.credentialSubject.encodedList;
  assert.equal(encoded[0], "u", "a multibase base64url list");
  const bits = gunzipSync(Buffer.from(encoded.slice(1), "base64url"));
  const index = Number(entry.statusListIndex);
  return (bits[index >> 3] >> (7 - (index & 7))) & 1;
}

/** What the service's own list of issued credentials says about one. */
async function issuedState(world, id) {
  const { credentials } = await world.service.api("GET", "/issuers/sibelga/credentials", world.utilityDesk.token());
  const found = credentials.find((c) => c.id === id);
  assert.ok(found, `the service lists ${id}`);
  return found.revoked ? "revoked" : found.suspended ? "suspended" : "active";
}

test("the attester portal: suspend, lift the suspension, revoke (final); a refused change is explained", async (t) => {
  const world = await World.create({ neighbours: false });
  t.after(() => world.dispose());
  const url = world.service.url;
  const operator = await operatorOf(t, world);
  const page = operator.page;

  const files = [];
  for (const [subject, number] of [[world.neighbour25.did, 25], [world.neighbour29.did, 29]]) {
    await page.goto(`${url}/portal/#/issue`);
    files.push(await desk.issueResidence(page, { subject, number, role: "utility-supplier" }));
  }
  const [first, second] = files.map((file) => JSON.parse(readFileSync(file, "utf8")));
  assert.equal(await statusBit(world.service, first, "suspension"), 0);

  await page.goto(`${url}/portal/#/issued`);
  const list = page.getByTestId("issued-list");
  const row = (credential, state) => list.locator(`[data-credential-id="${credential.id}"][data-state="${state}"]`);
  const confirm = (label) => page.getByTestId("confirm-dialog").getByRole("button", { name: label, exact: true }).click();

  // Suspend: the list, the service's metadata and the published bit all say so.
  await row(first, "active").getByRole("button", { name: `Suspend ${first.id}` }).click();
  await confirm("Suspend");
  await row(first, "suspended").waitFor();
  assert.equal(await row(first, "suspended").getByTestId("credential-state").innerText(), "suspended");
  assert.equal(await issuedState(world, first.id), "suspended");
  assert.equal(await statusBit(world.service, first, "suspension"), 1);
  await shot(page, "portal-suspended");

  // Cancelling the confirmation changes nothing.
  await row(first, "suspended").getByRole("button", { name: `Lift the suspension of ${first.id}` }).click();
  await page.getByTestId("confirm-dialog").getByRole("button", { name: "Keep it" }).click();
  assert.equal(await issuedState(world, first.id), "suspended");

  // Lift the suspension.
  await row(first, "suspended").getByRole("button", { name: `Lift the suspension of ${first.id}` }).click();
  await confirm("Lift the suspension");
  await row(first, "active").waitFor();
  assert.equal(await issuedState(world, first.id), "active");
  assert.equal(await statusBit(world.service, first, "suspension"), 0);

  // Revoke: final. The row offers nothing more, and the service refuses to undo it.
  await row(first, "active").getByRole("button", { name: `Revoke ${first.id}` }).click();
  await confirm("Revoke");
  await row(first, "revoked").waitFor();
  assert.equal(await row(first, "revoked").getByRole("button").count(), 0, "a revoked attestation offers no action");
  assert.equal(await issuedState(world, first.id), "revoked");
  assert.equal(await statusBit(world.service, first, "revocation"), 1);
  const token = world.utilityDesk.token();
  for (const [purpose, status] of [["revocation", false], ["suspension", true]]) {
    await assert.rejects(
      world.service.api("POST", "/credentials/status", token, {
        credentialId: first.id,
        credentialStatus: { type: "BitstringStatusListEntry", statusPurpose: purpose },
        status,
      }),
      /409/,
      `the service refuses ${purpose} = ${status} on a revoked credential`,
    );
  }

  // The second attestation is revoked elsewhere while this page still offers to suspend it; in
  // Dutch, the refusal is said in Dutch and the list then shows it revoked.
  await page.getByLabel("Language").selectOption("nl");
  // The switch reads the list again: wait for that, in Dutch, before the revocation behind its back.
  await row(second, "active").getByTestId("credential-state").filter({ hasText: "geldig" }).waitFor();
  await row(second, "active").locator('[data-action="suspend"]').waitFor();
  await world.service.api("POST", "/credentials/status", token, {
    credentialId: second.id,
    credentialStatus: { type: "BitstringStatusListEntry", statusPurpose: "revocation" },
    status: true,
  });
  await row(second, "active").locator('[data-action="suspend"]').click();
  await page.getByTestId("confirm-dialog").locator('button[value="ok"]').click();
  await row(second, "revoked").waitFor();
  const refusal = page.getByTestId("issued-errors").getByRole("alert");
  assert.equal(
    await refusal.innerText(),
    "De dienst weigerde: deze attestatie is ingetrokken, en een intrekking is definitief. De lijst hieronder toont de huidige toestand.",
  );
  assert.equal(await row(second, "revoked").getByTestId("credential-state").innerText(), "ingetrokken");
  assert.equal(await statusBit(world.service, second, "suspension"), 0, "the refused suspension set nothing");
  await shot(page, "portal-refused-nl");
  assert.deepEqual(operator.problems, []);
});

test("the attester portal: bad input in the issue form is explained beside each field, and nothing is sent", async (t) => {
  const world = await World.create({ neighbours: false });
  t.after(() => world.dispose());
  const url = world.service.url;
  const operator = await operatorOf(t, world);
  const page = operator.page;
  const sent = [];
  page.on("request", (request) => {
    if (request.method() === "POST") sent.push(request.url());
  });

  await page.goto(`${url}/portal/#/issue`);
  const form = page.locator("form").filter({ has: page.getByRole("button", { name: "Issue the attestation" }) });
  const errorOf = (name) => form.locator(`[data-testid="field-error"][data-field="${name}"]`);
  const fill = async ({ subject, number = "27", since = null }) => {
    await page.getByLabel("Subject (the resident's DID)").fill(subject);
    await page.getByLabel("Street (French)").fill("Rue de la Brasserie");
    await page.getByLabel("Number", { exact: true }).fill(number);
    await page.getByLabel("Postal code").fill("1050");
    await page.getByLabel("Municipality (French)").fill("Ixelles");
    if (since) await page.getByLabel("Lives there since").fill(since);
    await page.getByLabel("Role", { exact: true }).selectOption("utility-supplier");
  };
  const submit = () => page.getByRole("button", { name: "Issue the attestation" }).click();
  const invalid = (label, options = {}) => page.getByLabel(label, options).getAttribute("aria-invalid");

  // A DID of a method nobody can check, an empty house number, and 30 February typed into the
  // date picker (which then holds no value: it must not read as "required").
  await fill({ subject: "did:example:123456789abcdefghi", number: "" });
  const since = page.getByLabel("Lives there since");
  // The picker orders its parts as the page's language writes dates (the page says lang="en":
  // month first); focus puts the caret on the first part, where a click would land on whichever
  // part is under the middle of the box.
  const parts = await page.evaluate(() =>
    new Intl.DateTimeFormat(document.documentElement.lang, { year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(new Date(2021, 0, 5))
      .map((part) => part.type)
      .filter((type) => type !== "literal"),
  );
  const typed = { day: "30", month: "02", year: "2021" };
  await since.focus();
  await since.pressSequentially(parts.map((part) => typed[part]).join(""));
  assert.equal(await since.evaluate((input) => input.validity.badInput), true, "the picker holds an impossible date");
  await submit();
  await errorOf("subject").waitFor();
  assert.match(await errorOf("subject").innerText(), /uses a DID method the service cannot check; .* did:key, did:jwk, did:web/);
  assert.equal(await errorOf("house_number").innerText(), "is required");
  assert.equal(await errorOf("since").innerText(), "is not a date (YYYY-MM-DD)");
  assert.equal(await form.locator('[data-testid="field-error"]').count(), 3, "exactly the three bad fields");
  assert.equal(await invalid("Subject (the resident's DID)"), "true");
  assert.equal(await invalid("Number", { exact: true }), "true");
  assert.equal(await invalid("Postal code"), null);
  // Each message is read with its field.
  const described = await since.getAttribute("aria-describedby");
  assert.ok(described && described.split(" ").includes(await errorOf("since").getAttribute("id")), `since is described by its error (${described})`);
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute("name")), "subject", "the first bad field has the focus");
  await shot(page, "portal-issue-bad-input");

  // A did:key cut short, and a date in the future.
  await fill({ subject: world.neighbour25.did.slice(0, -6), since: "2999-01-01" });
  await submit();
  await errorOf("subject").filter({ hasText: "is not a valid did:key" }).waitFor();
  assert.equal(await errorOf("since").innerText(), "is in the future");
  assert.equal(await errorOf("house_number").count(), 0, "a corrected field has no message any more");
  assert.equal(await form.locator('[data-testid="field-error"]').count(), 2);

  assert.deepEqual(sent, [], "nothing was sent to the service");
  const issued = await world.service.api("GET", "/issuers/sibelga/credentials", world.utilityDesk.token());
  assert.equal(issued.total, 0, "the service issued nothing");

  // Corrected, it is issued.
  await fill({ subject: world.neighbour25.did, since: "2021-09-01" });
  await submit();
  await page.getByTestId("issue-result").waitFor();
  assert.equal(await form.locator('[data-testid="field-error"]').count(), 0);
  assert.equal((await world.service.api("GET", "/issuers/sibelga/credentials", world.utilityDesk.token())).total, 1);
  assert.deepEqual(operator.problems, []);
});
