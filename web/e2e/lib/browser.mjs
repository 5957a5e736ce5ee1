// Headless Chromium from Debian (no browser download), driven by playwright-core. Each person
// gets their own browser context: their own IndexedDB, hence their own wallet, as on their own
// phone. Screenshots go to artifacts/e2e/ (CI keeps them as the tests' artefacts).
import { chromium } from "playwright-core";
import { mkdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { root } from "./service.mjs";

export const artefacts = join(root, "artifacts", "e2e");

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_BIN, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((path) => path && existsSync(path));
  if (!found) throw new Error("no Chromium: install Debian's chromium (scripts/test-web does) or set CHROMIUM_BIN");
  return found;
}

export async function launch() {
  mkdirSync(artefacts, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

export const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
export const DESK = { viewport: { width: 1280, height: 900 } };

/**
 * A person's browser: their own context and page; failures on the page fail the test.
 * `bypassCSP` lets a test inject its own script (the accessibility checker) into pages served
 * under the strict CSP; the pages' own scripts are the same either way.
 */
export async function person(browser, name, { device = PHONE, locale = "en-GB", bypassCSP = false } = {}) {
  const context = await browser.newContext({ ...device, locale, acceptDownloads: true, bypassCSP });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`${name}: page error: ${error.message}`));
  page.on("console", (message) => {
    // A failed request is reported below with its URL; other console errors are the page's.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`${name}: console error: ${message.text()}`);
    }
  });
  const failures = [];
  page.on("response", (response) => {
    if (response.status() >= 400) failures.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  return { name, context, page, problems, failures };
}

let shots = 0;
export async function shot(page, label) {
  shots += 1;
  const file = join(artefacts, `${String(shots).padStart(2, "0")}-${label}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
