// The citizen wallet: a hash router over one module per screen. Without a wallet on this device
// every route leads to first run; with a locked one, to unlock (then back to where the person was
// going, so a presentation or attestation link opened cold still lands on its screen).

import { applyI18n, initI18n, languageSwitcher, t } from "../common/i18n.js";
import { clear, el, showError } from "../common/ui.js";
import { actingAs, currentIdentity, ready, refreshIdentities, setActingAs, state } from "./state.js";

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

async function render() {
  const mine = ++renderCount;
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
  const wanted = parseRoute().name === "welcome" || parseRoute().name === "unlock" ? null : location.hash;
  if (!exists && name !== "welcome") {
    state.pendingRoute = wanted;
    name = "welcome";
  } else if (exists && !state.wallet && name !== "unlock" && name !== "welcome") {
    state.pendingRoute = wanted;
    name = "unlock";
  } else if (exists && state.wallet && (name === "unlock" || name === "welcome") && !state.justCreated) {
    name = "credentials";
  }
  const loader = SCREENS[name] || SCREENS.credentials;
  renderChrome(name === "request" && param ? "request-detail" : name);
  let view;
  try {
    const screen = await loader();
    view = await screen.render({ param, go, rerender: render });
  } catch (failure) {
    view = el("div", {}, el("h1", {}, t("app.title")), el("div", { "aria-live": "assertive" }));
    showError(view.lastChild, failure);
  }
  if (mine !== renderCount) return;
  clear(main).append(view);
  applyI18n(main);
  const heading = main.querySelector("h1");
  // Move focus to the new screen's heading so keyboard and screen-reader users know where they are
  // (not on the first load: the page itself is announced then).
  if (heading && mine > 1) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  }
  document.title = `${heading ? heading.textContent : t("app.title")} — Corroborate`;
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

function onUpdate(status) {
  state.update = { ...state.update, ...status };
  const banner = clear(document.getElementById("update"));
  banner.hidden = status.state !== "ready" && status.state !== "refused";
  if (status.state === "ready") {
    banner.append(
      el("span", {}, t("update.ready", { version: status.version || "" }), " "),
      el("button", { type: "button", class: "secondary", onclick: () => location.reload() }, t("update.reload")),
    );
  } else if (status.state === "refused") {
    banner.className = "error banner";
    banner.append(t("update.refused", { reason: status.reason || "" }));
  }
  window.dispatchEvent(new CustomEvent("corroborate-update", { detail: state.update }));
}

async function start() {
  await initI18n("app");
  applyI18n(document);
  window.addEventListener("hashchange", render);
  window.addEventListener("languagechange", () => {
    showOnline();
    render();
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
