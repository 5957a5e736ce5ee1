// The government dashboard: a civil servant signs in with the key their browser keeps, asks a
// citizen for a presentation under a policy and follows it to the decision, searches decisions,
// reads a decision's explanation, and reads (administrators: manages) the trust registry and
// the policies. Hash routes: #/evaluate, #/decisions?…, #/decision/ID, #/registry?…,
// #/accreditation/ID, #/policies, #/policy/ID/VERSION.

import { applyI18n, initI18n, languageSwitcher, t } from "../common/i18n.js";
import { clear, el, focusHeading } from "../common/ui.js";
import { Session, renderSignIn, signedInBox } from "../portal/session.js";
import { renderDecision } from "./decision.js";
import { renderDecisions } from "./decisions.js";
import { renderEvaluate } from "./evaluate.js";
import { renderPolicies, renderPolicy } from "./policies.js";
import { renderAccreditation, renderRegistry } from "./registry.js";

const NAV = [
  ["evaluate", "nav.evaluate"],
  ["decisions", "nav.decisions"],
  ["registry", "nav.registry"],
  ["policies", "nav.policies"],
];

const VIEWS = {
  evaluate: { nav: "evaluate", render: renderEvaluate },
  decisions: { nav: "decisions", render: renderDecisions },
  decision: { nav: "decisions", render: renderDecision },
  registry: { nav: "registry", render: renderRegistry },
  accreditation: { nav: "registry", render: renderAccreditation },
  policies: { nav: "policies", render: renderPolicies },
  policy: { nav: "policies", render: renderPolicy },
};

const session = new Session("corroborate-dashboard");
let cleanup = null;

/** The route: {name, args: [decoded path parts], query: URLSearchParams}. */
export function currentRoute() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = hash.split("?");
  const [name, ...args] = path.split("/");
  return { name: VIEWS[name] ? name : "evaluate", args: args.map(decodeURIComponent), query: new URLSearchParams(query) };
}

function renderHeader(route) {
  const tools = document.getElementById("tools");
  clear(tools);
  tools.append(languageSwitcher());
  const box = signedInBox(session);
  if (box) tools.append(box);
  const nav = document.getElementById("nav");
  clear(nav);
  nav.hidden = !session.signedIn;
  if (nav.hidden) return;
  const active = VIEWS[route.name].nav;
  nav.append(el("ul", {}, NAV.map(([name, label]) => el("li", {}, el("a", { href: `#/${name}`, "aria-current": name === active ? "page" : null }, t(label))))));
}

async function render({ focus = false } = {}) {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const main = document.getElementById("main");
  clear(main);
  document.title = t("dash.pageTitle");
  const route = currentRoute();
  renderHeader(route);
  if (!session.signedIn) {
    await renderSignIn(session, main, { defaultLabel: t("dash.defaultLabel") });
    return;
  }
  if (!session.has("government") && !session.has("admin")) {
    main.append(el("p", { class: "notice", dataset: { testid: "no-role" } }, t("dash.noRole")), el("p", {}, el("code", { class: "did" }, session.me.did)));
  }
  const result = await VIEWS[route.name].render(main, { session, route });
  if (typeof result === "function") cleanup = result;
  if (focus) {
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }
}

async function start() {
  await initI18n("dashboard");
  applyI18n(document);
  // Signing in or out, or making the key, replaces the screen: focus goes to its heading.
  session.onChange(() => render().then(() => focusHeading(document.getElementById("main"))));
  window.addEventListener("hashchange", () => render({ focus: true }));
  window.addEventListener("languagechange", () => render());
  await render();
}

start();
