// The citizen wallet: a hash router over one module per screen. Without a wallet on this device
// every route leads to first run; with a locked one, to unlock (then back to where the person was
// going, so a presentation or attestation link opened cold still lands on its screen). A screen
// that finds the wallet locked (code "locked") leads to unlock too. Switching language renders the
// screen again in the new language and carries over what the person had typed or chosen.

import { applyI18n, hasTranslation, initI18n, languageSwitcher, t } from "../common/i18n.js";
import { clear, el, showError } from "../common/ui.js";
import { actingAs, currentIdentity, lock, ready, refreshIdentities, setActingAs, state } from "./state.js";

const SCREENS = {
  welcome: () => import("./screens/first-run.js"),
  unlock: () => import("./screens/unlock.js"),
  credentials: () => import("./screens/credentials.js"),
  credential: () => import("./screens/credential.js"),
  request: () => import("./screens/request.js"),
  requests: () => import("./screens/requests.js"),
  answer: () => import("./screens/answer.js"),
  inbox: () => import("./screens/inbox.js"),
  present: () => import("./screens/present.js"),
  log: () => import("./screens/log.js"),
  backup: () => import("./screens/backup.js"),
  erase: () => import("./screens/erase.js"),
  settings: () => import("./screens/settings.js"),
};

const NAV = [
  ["credentials", "nav.credentials"],
  ["request", "nav.request"],
  ["requests", "nav.requests"],
  ["inbox", "nav.attest"],
  ["log", "nav.log"],
  ["backup", "nav.backup"],
  ["settings", "nav.settings"],
];

/** #/answer/open:TOKEN → {name: "answer", param: "open:TOKEN"} (the rest may hold slashes). */
export function parseRoute(hash = location.hash) {
  const path = hash.replace(/^#\/?/, "");
  const slash = path.indexOf("/");
  const name = slash < 0 ? path : path.slice(0, slash);
  let param = slash < 0 ? null : path.slice(slash + 1);
  if (param !== null) {
    try {
      param = decodeURIComponent(param);
    } catch {
      // Keep it as written.
    }
  }
  return { name: name || "credentials", param: param || null };
}

export function go(route) {
  const hash = `#/${route}`;
  if (location.hash === hash) render();
  else location.hash = hash;
}

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let renderCount = 0;
// The route of the screen on show ("name/param"), so a re-render knows it replaces the same screen.
let shownRoute = null;

/** Renders the screen the hash names; with {language: true}, what was typed is kept. */
async function render(options = {}) {
  const mine = ++renderCount;
  const sameScreen = options.language === true;
  let { name, param } = parseRoute();
  let exists = false;
  try {
    await ready();
    exists = state.wallet ? true : await state.core.WebWallet.exists(state.store);
  } catch (failure) {
    clear(main).append(el("h1", {}, t("app.title")), el("div", { "aria-live": "assertive" }));
    showError(main.lastChild, failure);
    return;
  }
  const wanted = name === "welcome" || name === "unlock" ? null : location.hash;
  if (!exists) {
    if (name !== "welcome") state.pendingRoute = wanted;
    name = "welcome";
  } else if (!state.wallet) {
    // A wallet here, locked: unlock it (first run would only fail with "exists").
    if (name !== "unlock") state.pendingRoute = wanted;
    name = "unlock";
  } else if ((name === "unlock" || name === "welcome") && !state.justCreated) {
    name = "credentials";
  }
  const loader = SCREENS[name] || SCREENS.credentials;
  renderChrome(name === "request" && param ? "request-detail" : name);
  let view;
  try {
    const screen = await loader();
    view = await screen.render({ param, go, rerender: render, language: sameScreen });
  } catch (failure) {
    if (failure && failure.code === "locked" && mine === renderCount) {
      // The wallet was locked under this screen: unlock, then come back here.
      lock();
      return render();
    }
    view = el("div", {}, el("h1", {}, t("app.title")), el("div", { "aria-live": "assertive" }));
    showError(view.lastChild, failure);
  }
  if (mine !== renderCount) return;
  const route = `${name}/${param || ""}`;
  const typed = sameScreen && route === shownRoute ? typedIn(main) : null;
  clear(main).append(view);
  shownRoute = route;
  if (typed) restoreTyped(main, typed);
  applyI18n(main);
  const heading = main.querySelector("h1");
  if (sameScreen) {
    // The person is on the language switcher: keep them there.
    const switcher = document.querySelector("#tools .language-switcher select");
    if (switcher) switcher.focus({ preventScroll: true });
  } else if (heading && mine > 1) {
    // Move focus to the new screen's heading so keyboard and screen-reader users know where they
    // are (not on the first load: the page itself is announced then).
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
  document.title = `${heading ? heading.textContent : t("app.title")} — Corroborate`;
}

/**
 * What the person typed or chose on the screen: each control (by id) whose value differs from
 * what the screen put there, files chosen, and the pressed toggle buttons (first run's modes), so
 * a re-render in another language can put them back.
 */
function typedIn(root) {
  const controls = [];
  for (const control of root.querySelectorAll("input[id], select[id], textarea[id]")) {
    if (control.type === "file") {
      if (control.files && control.files.length) controls.push({ id: control.id, files: control.files });
    } else if (control.type === "checkbox" || control.type === "radio") {
      if (control.checked !== control.defaultChecked) controls.push({ id: control.id, checked: control.checked });
    } else if (control.tagName === "SELECT") {
      if ([...control.options].some((o) => o.selected !== o.defaultSelected)) controls.push({ id: control.id, value: control.value });
    } else if (control.value !== control.defaultValue) {
      controls.push({ id: control.id, value: control.value });
    }
  }
  const pressed = [...root.querySelectorAll('button[aria-pressed="true"][data-testid]')].map((b) => b.dataset.testid);
  return { controls, pressed };
}

/** Puts back what typedIn() saw; each control changed fires input and change, as if typed. */
function restoreTyped(root, { controls, pressed }) {
  for (const testid of pressed) {
    const button = root.querySelector(`button[data-testid="${CSS.escape(testid)}"]`);
    if (button && button.getAttribute("aria-pressed") === "false") button.click();
  }
  for (const saved of controls) {
    const control = root.querySelector(`#${CSS.escape(saved.id)}`);
    if (!control) continue;
    if (saved.files) {
      if (control.type !== "file") continue;
      control.files = saved.files;
    } else if ("checked" in saved) {
      if (control.checked === saved.checked) continue;
      control.checked = saved.checked;
    } else {
      if (control.type === "file" || control.value === saved.value) continue;
      control.value = saved.value;
    }
    control.dispatchEvent(new Event("input", { bubbles: true }));
    control.dispatchEvent(new Event("change", { bubbles: true }));
  }
}

/** After unlock or creation: where the person was going, else their credentials. */
export function continueToPending() {
  const pending = state.pendingRoute;
  state.pendingRoute = null;
  state.justCreated = false;
  if (pending && pending !== location.hash) location.hash = pending;
  else if (pending) render();
  else go("credentials");
}

function renderChrome(active) {
  const unlocked = Boolean(state.wallet);
  nav.hidden = !unlocked;
  clear(nav);
  if (unlocked) {
    nav.append(
      el(
        "ul",
        {},
        NAV.map(([route, key]) =>
          el("li", {}, el("a", { href: `#/${route}`, "aria-current": isActive(route, active) ? "page" : null }, t(key))),
        ),
      ),
    );
  }
  const tools = clear(document.getElementById("tools"));
  if (unlocked && state.identities.length > 1) tools.append(identitySwitcher());
  tools.append(languageSwitcher());
}

function isActive(route, active) {
  if (route === active) return true;
  return (route === "requests" && active === "request-detail") || (route === "credentials" && active === "credential") || (route === "inbox" && active === "answer");
}

function identitySwitcher() {
  const current = currentIdentity();
  const select = el(
    "select",
    { id: "identity-switcher", dataset: { testid: "identity-switcher" } },
    state.identities.map((identity) =>
      el("option", { value: identity.did, selected: current && identity.did === current.did }, identity.label),
    ),
  );
  select.addEventListener("change", () => {
    setActingAs(select.value);
    render();
  });
  return el("div", { class: "identity-switcher" }, el("label", { for: "identity-switcher" }, t("identity.acting")), select);
}

function showOnline() {
  const banner = document.getElementById("offline");
  banner.hidden = navigator.onLine;
  banner.textContent = navigator.onLine ? "" : t("app.offline");
}

// The update state as common/update.js last said it (state.update is it with the reason
// translated, for the settings screen).
let update = { state: "unknown", version: null };

/** Why an update was refused or failed, in the current language (the English detail if unknown). */
function updateReason(status) {
  const key = `update.reason.${status.code}`;
  return status.code && hasTranslation(key) ? t(key) : status.reason || "";
}

function onUpdate(status) {
  // A new state brings its own reason (or none); a bare {version} changes only the version.
  update = { ...update, ...(status.state ? { code: undefined, reason: undefined } : {}), ...status };
  state.update = { ...update, reason: updateReason(update) };
  showUpdate();
  window.dispatchEvent(new CustomEvent("corroborate-update", { detail: state.update }));
}

/** The update banner: a checked release to take (a button), or one refused or failed. */
function showUpdate() {
  const banner = clear(document.getElementById("update"));
  const shown = update.state === "ready" || update.state === "refused" || update.state === "failed";
  banner.hidden = !shown;
  banner.className = update.state === "ready" ? "notice banner" : "error banner";
  banner.dataset.state = shown ? update.state : "";
  if (update.state === "ready") {
    const accept = el("button", { type: "button", class: "secondary", dataset: { testid: "update-accept" } }, t("update.reload"));
    accept.addEventListener("click", () => {
      // The page reloads when the new release takes control (common/update.js).
      accept.disabled = true;
      accept.setAttribute("aria-busy", "true");
      update.accept();
    });
    banner.append(el("span", {}, t("update.ready", { version: update.next || "" }), " "), accept);
  } else if (update.state === "refused") {
    banner.append(t("update.refused", { reason: updateReason(update) }));
  } else if (update.state === "failed") {
    banner.append(t("update.failed", { reason: updateReason(update) }));
  }
}

async function start() {
  await initI18n("app");
  applyI18n(document);
  window.addEventListener("hashchange", render);
  window.addEventListener("languagechange", () => {
    showOnline();
    state.update = { ...update, reason: updateReason(update) };
    showUpdate();
    render({ language: true });
  });
  window.addEventListener("online", showOnline);
  window.addEventListener("offline", showOnline);
  showOnline();
  if ("serviceWorker" in navigator) {
    import("../common/update.js")
      .then((module) => module.watchForUpdates(onUpdate))
      .catch((e) => onUpdate({ state: "unavailable", reason: e && e.message }));
  } else {
    state.update = { state: "unsupported", version: null };
  }
  await render();
}

// Exposed for screens that change the identity list.
export async function identitiesChanged() {
  await refreshIdentities();
  if (!actingAs() && state.identities[0]) setActingAs(state.identities[0].did);
}

start();
