// Registry administration on the government dashboard: a civil servant whose browser identity is
// an administrator accredits an organisation, suspends it, ends the suspension and revokes it;
// after each step the registry API says so and the history timeline shows every event with its
// date and reason, in order. A government reader sees the same registry without any control,
// and an action the service refuses (the identity is no longer an administrator) is explained in
// the reader's language.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { World } from "../lib/world.mjs";
import { CliWallet } from "../lib/service.mjs";
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

/** The timeline as the page shows it: [{event, datetime, text}], top to bottom. */
function timeline(page) {
  return page
    .getByTestId("accreditation-timeline")
    .locator(":scope > li")
    .evaluateAll((items) =>
      items.map((li) => {
        const time = li.querySelector("time");
        return { event: li.dataset.event, datetime: time && time.getAttribute("datetime"), shown: time ? time.textContent.trim() : "", text: li.innerText };
      }),
    );
}

/** Waits until the timeline has `count` events and returns it. */
async function timelineOf(page, count) {
  const items = page.getByTestId("accreditation-timeline").locator(":scope > li");
  assert.equal(await waitForCount(items, count), count, `${count} events on the timeline`);
  return timeline(page);
}

/** The administrator buttons an accreditation or the registry page may show. */
const ADMIN_CONTROLS = /^(Suspend|Revoke|End this suspension now|Accredit)$/;

test("registry administration on the dashboard: accredit, suspend, end the suspension, revoke; read-only for others", async (t) => {
  const world = await World.create({ neighbours: false });
  t.after(() => world.dispose());
  const { service } = world;
  const url = service.url;
  const people = [];
  t.after(async () => {
    for (const p of people) await p.context.close();
  });

  // The civil servant's browser identity becomes an administrator (the service's configuration).
  const admin = await person(browser, "registry administrator", { device: DESK });
  people.push(admin);
  const page = admin.page;
  const adminDid = await desk.createDeskIdentity(page, url, "dashboard", "Registry administrator");
  // A civil servant of the municipality (a government verifier) who also administers the registry.
  await world.accredit(adminDid, "government", "BE0207373429");
  service.admins = [...service.admins, { name: "e2e registry administrator", did: adminDid }];
  // The registry records an administrator's act under their configured name.
  const actor = "admin:e2e registry administrator";
  await service.restart();
  world.adminToken = world.admin.token();
  await desk.signIn(page);

  // Accredit a telecom operator's desk.
  const telecom = CliWallet.create(service, "telecom-desk");
  await page.goto(`${url}/dashboard/#/registry`);
  await page.getByTestId("accredit").locator("summary").click();
  const form = page.getByTestId("accredit");
  await form.getByLabel("DID", { exact: true }).fill(telecom.did);
  await form.getByLabel("Category", { exact: true }).fill("telecom");
  await form.getByLabel("Controlled by").fill("BE0202239951");
  await form.getByLabel("Basis (why it is granted)").fill("Agreement 2024/17 with the municipality");
  await form.getByRole("button", { name: "Accredit", exact: true }).click();
  await page.waitForURL(/#\/accreditation\//);
  const id = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/accreditation\//, ""));
  const read = () => world.api("GET", `/registry/accreditations/${encodeURIComponent(id)}`);

  let record = await read();
  assert.equal(record.did, telecom.did);
  assert.equal(record.category, "telecom");
  assert.deepEqual(record.fact_types, ["ResidenceAttestation"]);
  assert.equal(record.granted_by, actor, "granted by the dashboard's administrator");
  assert.deepEqual(record.suspensions, []);
  assert.equal(record.revocation, null);
  let events = await timelineOf(page, 1);
  assert.equal(events[0].event, "granted");
  assert.equal(events[0].datetime, record.valid_from);
  assert.ok(events[0].shown, "the grant's date is shown");
  assert.match(events[0].text, /Basis: Agreement 2024\/17 with the municipality/);
  assert.equal(await page.getByTestId("accreditation-state").getAttribute("data-state"), "active");

  // Suspend, with a reason.
  const suspendForm = page.locator("form").filter({ has: page.getByRole("heading", { name: "Suspend" }) });
  await suspendForm.getByRole("button", { name: "Suspend" }).click();
  await suspendForm.getByText("Give a reason: it is kept in the history.").waitFor();
  assert.equal((await read()).suspensions.length, 0, "no reason, nothing sent");
  await suspendForm.getByLabel("Reason").fill("Audit of the address records");
  await suspendForm.getByRole("button", { name: "Suspend" }).click();
  await page.locator('[data-testid="accreditation-state"][data-state="suspended"]').waitFor();
  record = await read();
  assert.equal(record.suspensions.length, 1);
  const [suspension] = record.suspensions;
  assert.equal(suspension.reason, "Audit of the address records");
  assert.equal(suspension.until, null);
  events = await timelineOf(page, 2);
  assert.deepEqual(events.map((e) => e.event), ["granted", "suspension"]);
  assert.equal(events[1].datetime, suspension.from);
  assert.match(events[1].text, /Reason: Audit of the address records/);
  assert.match(events[1].text, /Until further notice/);
  await shot(page, "registry-suspended");

  // End the suspension (after a confirmation).
  await page.getByRole("button", { name: "End this suspension now" }).click();
  await page.getByTestId("confirm-dialog").getByRole("button", { name: "Confirm" }).click();
  await page.locator('[data-testid="accreditation-state"][data-state="active"]').waitFor();
  record = await read();
  assert.ok(record.suspensions[0].until, "the suspension has an end");
  assert.equal(record.suspensions[0].ended_by, actor);
  events = await timelineOf(page, 3);
  assert.deepEqual(events.map((e) => e.event), ["granted", "suspension", "resumed"]);
  assert.equal(events[2].datetime, record.suspensions[0].until);
  assert.match(events[2].text, /Ends the suspension: Audit of the address records/);
  assert.equal(await page.getByRole("button", { name: "End this suspension now" }).count(), 0);

  // Revoke (not for cause), with a reason and a confirmation.
  const revokeForm = page.locator("form").filter({ has: page.getByRole("heading", { name: "Revoke" }) });
  await revokeForm.getByLabel("Reason").fill("The agreement ended");
  await revokeForm.getByRole("button", { name: "Revoke" }).click();
  await page.getByTestId("confirm-dialog").getByRole("button", { name: "Revoke" }).click();
  await page.locator('[data-testid="accreditation-state"][data-state="revoked"]').waitFor();
  record = await read();
  assert.equal(record.revocation.reason, "The agreement ended");
  assert.equal(record.revocation.for_cause, false);
  assert.equal(record.revocation.revoked_by, actor);
  events = await timelineOf(page, 4);
  assert.deepEqual(events.map((e) => e.event), ["granted", "suspension", "resumed", "revocation"]);
  assert.equal(events[3].datetime, record.revocation.at);
  assert.match(events[3].text, /Revoked/);
  assert.match(events[3].text, /Reason: The agreement ended/);
  const times = events.map((e) => Date.parse(e.datetime));
  assert.deepEqual([...times].sort((a, b) => a - b), times, "oldest first");
  for (const e of events) assert.ok(e.shown, `the ${e.event} event shows its date`);
  // A revoked accreditation offers no change any more.
  assert.equal(await page.getByRole("button", { name: ADMIN_CONTROLS }).count(), 0);
  await shot(page, "registry-history");

  // A government reader (not an administrator) sees the same history and no control at all.
  const reader = await person(browser, "government reader", { device: DESK });
  people.push(reader);
  const readerDid = await desk.createDeskIdentity(reader.page, url, "dashboard", "Ixelles civil servant");
  await world.accredit(readerDid, "government", "BE0207373429");
  await desk.signIn(reader.page);
  await reader.page.goto(`${url}/dashboard/#/registry?did=${encodeURIComponent(telecom.did)}`);
  await waitForCount(reader.page.getByTestId("accreditation-list").locator("[data-accreditation-id]"), 1);
  assert.equal(await reader.page.getByTestId("accredit").count(), 0, "no accreditation form");
  assert.equal(await reader.page.getByRole("button", { name: ADMIN_CONTROLS }).count(), 0);
  await reader.page.getByTestId("accreditation-list").getByRole("link", { name: telecom.did }).click();
  const seen = await timelineOf(reader.page, 4);
  assert.deepEqual(seen.map((e) => [e.event, e.datetime]), events.map((e) => [e.event, e.datetime]));
  // An accreditation still open to change shows no control to a reader either.
  const carrier = (await world.api("GET", `/registry/accreditations?did=${encodeURIComponent(world.carrier.did)}`)).accreditations[0];
  await reader.page.goto(`${url}/dashboard/#/accreditation/${encodeURIComponent(carrier.id)}`);
  await timelineOf(reader.page, 1);
  assert.equal(await reader.page.getByRole("button", { name: ADMIN_CONTROLS }).count(), 0);
  assert.equal(await reader.page.locator("form textarea").count(), 0, "no form to fill");
  await shot(reader.page, "registry-read-only");

  // The administrator, reading in French, opens the carrier's accreditation; meanwhile the
  // service's configuration no longer names them. The suspension is refused, in French; they
  // still read the registry as a government verifier, and the forms go.
  await page.goto(`${url}/dashboard/#/accreditation/${encodeURIComponent(carrier.id)}`);
  await page.getByLabel("Language").selectOption("fr");
  const suspendFr = page.locator("form").filter({ has: page.getByRole("heading", { name: "Suspendre" }) });
  await suspendFr.getByLabel("Motif").fill("Contrôle");
  service.admins = service.admins.filter((a) => a.did !== adminDid);
  await service.restart();
  world.adminToken = world.admin.token();
  await suspendFr.getByRole("button", { name: "Suspendre" }).click();
  const refusal = page.getByTestId("accreditation-errors").getByRole("alert");
  await refusal.waitFor();
  assert.equal(
    await refusal.innerText(),
    "Le service a refusé : votre identité n'a plus les droits d'administration ; vous pouvez lire le registre, mais pas le modifier.",
  );
  assert.equal(await page.locator("form textarea").count(), 0, "the administrator's forms are gone");
  await timelineOf(page, 1);
  assert.deepEqual((await world.api("GET", `/registry/accreditations/${encodeURIComponent(carrier.id)}`)).suspensions, [], "nothing changed");
  await shot(page, "registry-refused-fr");

  for (const p of people) assert.deepEqual(p.problems, [], `no page errors for ${p.name} (failed requests: ${p.failures.join("; ")})`);
});
