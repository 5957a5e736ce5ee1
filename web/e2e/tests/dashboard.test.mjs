// Searching decisions on the government dashboard: the civil servant's own presentation requests
// get three decisions (two neighbours established, a resident with only a utility's attestation
// insufficient); each search by outcome, policy, whether it holds and period finds exactly the
// expected ones; the decision page names the policy and version it used, and the policy viewer
// shows that version's rules, the one that failed among them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { World, POLICY } from "../lib/world.mjs";
import { CliWallet } from "../lib/service.mjs";
import { launch, person, shot, DESK } from "../lib/browser.mjs";
import * as desk from "../lib/desk-apps.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** The challenge of a presentation request made on the dashboard's evaluate page. */
async function askOnDashboard(page, url) {
  await page.goto(`${url}/dashboard/#/evaluate`);
  const link = await desk.askPresentation(page);
  return decodeURIComponent(link.split("/app/#/present/")[1].split("?to=")[0]);
}

test("the dashboard's decision search finds exactly the expected decisions; the policy viewer shows the version used", async (t) => {
  const world = await World.create({ neighbours: false });
  t.after(() => world.dispose());
  const { service } = world;
  const url = service.url;
  const clerk = await person(browser, "civil servant", { device: DESK });
  t.after(() => clerk.context.close());
  const page = clerk.page;
  const clerkDid = await desk.createDeskIdentity(page, url, "dashboard", "Ixelles civil servant");
  await world.accredit(clerkDid, "government", "BE0207373429");
  await world.addOperator("ixelles", clerkDid);
  await desk.signIn(page);

  // Two neighbours' residences established, each on a request made on this dashboard.
  const established = [];
  for (const number of [25, 29]) {
    const decision = await world.establishNeighbour(number, await askOnDashboard(page, url));
    established.push(world[`neighbour${number}`].did);
    assert.equal(decision.outcome, "established");
  }
  // A resident with only the utility's attestation: insufficient.
  const resident = CliWallet.create(service, "resident-31");
  await world.person(resident.did, "household-31");
  const file = join(service.dir, "resident-31-utility.json");
  writeFileSync(file, JSON.stringify(await world.hosted(world.utilityDesk, world.utility, resident.did, "utility-supplier", 31)));
  resident.run("credentials", "import", file);
  const challenge = await askOnDashboard(page, url);
  const insufficient = JSON.parse(resident.run("present", "send", "--yes", "--json", "--", challenge)).decision;
  assert.equal(insufficient.outcome, "insufficient");

  const today = await page.evaluate(() => new Date().toLocaleDateString("en-CA"));
  const yesterday = await page.evaluate(() => {
    const d = new Date();
    d.setDate(d.getDate() - 1);
    return d.toLocaleDateString("en-CA");
  });

  // Each search re-renders the page: wait for the answer of this one, not the page before it.
  const settled = async () => {
    await page.locator('main [role="status"]:not([data-stale])').filter({ hasNotText: "Loading" }).waitFor();
  };
  const rowsShown = async () => {
    const list = page.getByTestId("decision-list");
    if (!(await list.count())) return [];
    return list.locator("[data-decision-id]").evaluateAll((found) =>
      found.map((row) => ({ id: row.dataset.decisionId, outcome: row.dataset.outcome, subject: row.cells[3].textContent.trim(), policy: row.cells[2].textContent.trim() })),
    );
  };
  await page.goto(`${url}/dashboard/#/decisions`);
  await settled();

  /** Fills every field of the search form as a person would, submits, and returns the rows shown. */
  const search = async ({ outcome = "", policy = "", holds = "", from = "", to = "" }) => {
    const form = page.getByRole("search", { name: "Search decisions" });
    await form.getByLabel("Outcome").selectOption(outcome);
    await form.getByLabel("Policy").selectOption(policy);
    await form.getByLabel("Still holds").selectOption(holds);
    await form.getByLabel("From").fill(from);
    await form.getByLabel("To").fill(to);
    await page.locator('main [role="status"]').evaluate((status) => {
      status.dataset.stale = "1";
    });
    await form.getByRole("button", { name: "Search" }).click();
    await settled();
    return rowsShown();
  };
  const subjects = (rows) => rows.map((r) => r.subject).sort();
  const everyone = [...established, resident.did].sort();

  let rows = await search({});
  assert.deepEqual(subjects(rows), everyone, "no filter: all three");
  assert.ok(rows.every((r) => r.policy === `${POLICY} 1.0.0`), JSON.stringify(rows));
  assert.match(await page.locator('main [role="status"]').innerText(), /1–3 of 3/);

  rows = await search({ outcome: "established" });
  assert.deepEqual(subjects(rows), [...established].sort());
  assert.ok(rows.every((r) => r.outcome === "established"));
  assert.match(page.url(), /#\/decisions\?outcome=established$/, "the search is in the address, to bookmark");
  await shot(page, "dashboard-search-established");

  rows = await search({ outcome: "insufficient" });
  assert.deepEqual(subjects(rows), [resident.did]);
  rows = await search({ outcome: "disputed" });
  assert.deepEqual(rows, []);
  assert.equal(await page.locator('main [role="status"]').innerText(), "No decision matches.");

  rows = await search({ policy: POLICY, outcome: "established", holds: "true" });
  assert.deepEqual(subjects(rows), [...established].sort());
  const other = await page.getByLabel("Policy").evaluate((select) => [...select.options].map((o) => o.value).find((v) => v && v !== "be.example.municipality/residence"));
  assert.ok(other, "another policy to search by");
  assert.deepEqual(await search({ policy: other }), [], `no decision under ${other}`);
  // Only an established decision holds (until re-evaluation finds it no longer does).
  assert.deepEqual(subjects(await search({ holds: "false" })), [resident.did], "the insufficient decision does not hold");
  assert.deepEqual(subjects(await search({ holds: "true" })), [...established].sort());

  assert.deepEqual(subjects(await search({ from: today, to: today })), everyone, "all made today");
  assert.deepEqual(await search({ to: yesterday }), [], "none before today");
  assert.deepEqual(subjects(await search({ from: today, outcome: "insufficient" })), [resident.did]);

  // The insufficient decision: its page names the policy and version, and the rule that failed.
  rows = await search({ outcome: "insufficient" });
  await page.getByTestId("decision-list").getByRole("link").first().click();
  await page.getByTestId("decision-outcome").waitFor();
  assert.equal(await page.getByTestId("decision-outcome").getAttribute("data-outcome"), "insufficient");
  const failed = page.locator('[data-testid="requirements"] li[data-rule="min_weight"]');
  assert.equal(await failed.getAttribute("data-met"), "false");
  await page.getByRole("link", { name: `${POLICY} 1.0.0` }).click();
  await page.waitForURL(/#\/policy\/be\.example\.municipality%2Fresidence\/1\.0\.0$/);
  const policies = await service.api("GET", "/policies", world.clerk.token());
  const used = policies.find((p) => p.id === POLICY && p.version === "1.0.0");
  await page.getByRole("heading", { level: 1, name: used.title }).waitFor();
  const facts = await page.locator("dl.fields").innerText();
  assert.match(facts, /be\.example\.municipality\/residence/);
  assert.match(facts, /Version\s+1\.0\.0/);
  const threshold = await page.getByTestId("policy-threshold").innerText();
  assert.match(threshold, new RegExp(`A total weight of at least ${Number(used.min_weight)}\\.`));
  assert.match(threshold, new RegExp(`At least ${used.min_categories} different kinds of attester\\.`));
  await shot(page, "dashboard-policy-viewer");
  assert.deepEqual(clerk.problems, [], `no page errors (failed requests: ${clerk.failures.join("; ")})`);
});
