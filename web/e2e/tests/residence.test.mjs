// The residence story through the screens, in headless Chromium, against the real service:
// a citizen asks for attestations in their phone wallet, two neighbours and a parcel carrier
// answer from their own wallets (separate browser contexts: separate devices), a utility issues
// through the attester portal, the municipality asks for a presentation on its dashboard, the
// citizen consents, and the dashboard's decision page explains the outcome. Both endings:
// established, and disputed (the carrier attests another house number and no utility settles it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { World, claims } from "../lib/world.mjs";
import { PASSPHRASE } from "../lib/service.mjs";
import { launch, person, shot, DESK } from "../lib/browser.mjs";
import * as app from "../lib/citizen-app.mjs";
import * as desk from "../lib/desk-apps.mjs";
import { waitForCount } from "../lib/expect.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Everything both endings share, up to the citizen's request being answered by the neighbours. */
async function story(t, variant) {
  const world = await World.create();
  t.after(() => world.dispose());
  const url = world.service.url;
  const people = [];
  const open = async (name, options) => {
    const p = await person(browser, name, options);
    people.push(p);
    return p;
  };
  t.after(async () => {
    for (const p of people) await p.context.close();
  });

  // The citizen's wallet, made on their phone.
  const citizen = await open("citizen");
  const citizenDid = await app.createWallet(citizen.page, url, "Citizen");
  await world.person(citizenDid, "household-27");
  await shot(citizen.page, `${variant}-citizen-wallet-created`);

  if (variant === "established") {
    // The utility's desk signs in to the attester portal and issues the citizen's attestation.
    const utility = await open("utility desk", { device: DESK });
    const operator = await desk.createDeskIdentity(utility.page, url, "portal", "Sibelga desk");
    await world.addOperator("sibelga", operator);
    await desk.signIn(utility.page);
    const file = await desk.issueResidence(utility.page, { subject: citizenDid, number: 27, role: "utility-supplier" });
    await shot(utility.page, `${variant}-portal-issued`);
    await app.importCredential(citizen.page, url, file);
  }

  // The citizen asks both neighbours and makes a one-time link for the carrier.
  const request = await app.requestResidence(citizen.page, url, {
    number: 27,
    attesters: [world.neighbour25.did, world.neighbour29.did],
    note: "I moved in at number 27 in September 2021.",
  });
  assert.match(request.link, /\/app\/#\/answer\/open:/);
  await shot(citizen.page, `${variant}-request-link-qr`);

  // Each neighbour moves their wallet to their phone (a backup of the CLI wallet), finds the
  // request in their inbox, reviews exactly what is asked and signs it.
  for (const name of ["neighbour25", "neighbour29"]) {
    const neighbour = await open(name);
    const did = await app.restoreWallet(neighbour.page, url, world[name].backup(), PASSPHRASE);
    assert.equal(did, world[name].did, "the restored wallet holds the same identity");
    await app.go(neighbour.page, url, "inbox");
    await neighbour.page.locator(`[data-testid="inbox-item"][data-id="${request.id}"]`).waitFor();
    const reviewed = await app.review(neighbour.page, url, request.id);
    assert.match(reviewed, /27/, "the review shows the house number asked");
    await shot(neighbour.page, `${variant}-${name}-review`);
    await app.sign(neighbour.page, { role: "neighbour", since: "2019-04-01" });
  }

  // The carrier opens the link.
  const carrier = await open("carrier");
  await app.restoreWallet(carrier.page, url, world.carrier.backup(), PASSPHRASE);
  await app.review(carrier.page, url, request.link);
  await shot(carrier.page, `${variant}-carrier-review`);
  if (variant === "established") {
    await app.sign(carrier.page, { role: "parcel-carrier", since: "2021-10-01" });
  } else {
    await app.decline(carrier.page, "Our delivery records give number 29, not 27.");
    // It signs what its records say with its own signer; the citizen keeps that file too.
    const says29 = world.carrier.run(
      "attest", "issue", "--subject", citizenDid, "--fact-type", "ResidenceAttestation",
      "--claims", JSON.stringify(claims(29)), "--role", "parcel-carrier", "--since", "2021-10-01",
    );
    const file = join(world.service.dir, "carrier-says-29.json");
    writeFileSync(file, says29);
    await app.importCredential(citizen.page, url, file);
  }

  // The citizen collects what was answered; each credential is checked before it is kept.
  const collected = await app.collect(citizen.page, url, request.id);
  await shot(citizen.page, `${variant}-collected`);
  await app.go(citizen.page, url, "credentials");
  // Established: the utility, both neighbours, the carrier. Disputed: no utility yet.
  const expected = variant === "established" ? 4 : 3;
  const kept = await waitForCount(citizen.page.locator('[data-testid="credential"]'), expected);
  assert.equal(kept, expected, `the citizen holds ${expected} attestations (${collected})`);

  // The municipality's civil servant asks on the dashboard.
  const clerk = await open("civil servant", { device: DESK });
  const clerkDid = await desk.createDeskIdentity(clerk.page, url, "dashboard", "Ixelles civil servant");
  await world.accredit(clerkDid, "government", "BE0207373429");
  await world.addOperator("ixelles", clerkDid);
  await desk.signIn(clerk.page);
  const link = await desk.askPresentation(clerk.page);
  await shot(clerk.page, `${variant}-dashboard-presentation-request`);

  // The citizen opens it: the consent screen lists what is disclosed, to whom, under which policy.
  await citizen.page.goto(link);
  const consent = citizen.page.getByTestId("consent");
  await consent.waitFor();
  assert.match(await citizen.page.getByTestId("policy").innerText(), /be\.example\.municipality\/residence/);
  assert.equal(await waitForCount(citizen.page.locator('[data-testid="disclosed-credential"]'), expected), expected);
  await shot(citizen.page, `${variant}-consent`);
  await citizen.page.getByTestId("consent-button").click();
  const outcome = citizen.page.getByTestId("decision-outcome");
  await outcome.waitFor();
  assert.equal(await outcome.getAttribute("data-outcome"), variant);
  await shot(citizen.page, `${variant}-citizen-outcome`);

  // The dashboard follows the request to its decision and explains it.
  const decided = clerk.page.getByTestId("decision-outcome");
  await decided.waitFor({ timeout: 30_000 });
  assert.match(await decided.innerText(), variant === "established" ? /established/i : /disputed/i);
  assert.equal(await waitForCount(clerk.page.locator('[data-testid="attestation-card"]'), expected), expected);
  await clerk.page.getByTestId("receipt-state").waitFor();
  await shot(clerk.page, `${variant}-dashboard-decision`);

  // The citizen's log says who saw what.
  await app.go(citizen.page, url, "log");
  await citizen.page.locator('[data-testid="log-entry"]').first().waitFor();
  await shot(citizen.page, `${variant}-citizen-log`);

  // Failed requests are not errors in themselves (a person attester's first signature looks for
  // a status list it then creates); they are listed to explain a page error.
  for (const p of people) {
    assert.deepEqual(p.problems, [], `no page errors for ${p.name} (failed requests: ${p.failures.join("; ")})`);
  }
  return { world, citizen, clerk };
}

test("the residence story through the screens: established", async (t) => {
  await story(t, "established");
});

test("the residence story through the screens: disputed", async (t) => {
  await story(t, "disputed");
});
