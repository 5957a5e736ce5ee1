import assert from "node:assert/strict";

export function expect(condition, message) {
  assert.ok(condition, message);
}

/** Waits until `locator` matches exactly `count` elements (screens render asynchronously). */
export async function waitForCount(locator, count, timeout = 30_000) {
  const deadline = Date.now() + timeout;
  let seen = await locator.count();
  while (seen !== count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    seen = await locator.count();
  }
  return seen;
}
