// The attester portal on a desk screen: an operator issues from a CSV file with one bad row
// (checked before anything is sent, reported per row), then revokes one of the issued
// attestations from the list; the service's status list says so.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
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
