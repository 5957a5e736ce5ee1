// The attester portal: an organisation's operator signs in with the key their browser keeps,
// chooses the hosted issuer they operate, and issues residence attestations one by one or from
// a CSV file, lists what was issued and revokes. Hash routes: #/issue, #/bulk, #/issued.

import { applyI18n, initI18n, languageSwitcher, t } from "../common/i18n.js";
import { clear, el, focusHeading, showError } from "../common/ui.js";
import { renderBulk } from "./bulk.js";
import { renderIssue } from "./issue.js";
import { renderIssued } from "./issued.js";
import { Session, renderSignIn, signedInBox } from "./session.js";

const ROUTES = {
  issue: { label: "nav.issue", render: renderIssue },
  bulk: { label: "nav.bulk", render: renderBulk },
  issued: { label: "nav.issued", render: renderIssued },
};
const ISSUER_KEY = "corroborate.portal.issuer";

const session = new Session("corroborate-portal");
let issuers = null;
let issuer = null;

function route() {
  const name = location.hash.replace(/^#\/?/, "").split("/")[0];
  return ROUTES[name] ? name : "issue";
}

function renderHeader() {
  const tools = document.getElementById("tools");
  clear(tools);
  tools.append(languageSwitcher());
  const box = signedInBox(session);
  if (box) tools.append(box);
  const nav = document.getElementById("nav");
  clear(nav);
  nav.hidden = !(session.signedIn && issuer);
  if (nav.hidden) return;
  const current = route();
  const list = el("ul", {});
  for (const [name, { label }] of Object.entries(ROUTES)) {
    list.append(el("li", {}, el("a", { href: `#/${name}`, "aria-current": name === current ? "page" : null }, t(label))));
  }
  nav.append(list);
}

async function loadIssuers(main) {
  const errors = el("div", { "aria-live": "assertive" });
  main.append(errors);
  try {
    const answer = await session.call("GET", "/issuers");
    issuers = answer.issuers || [];
  } catch (failure) {
    showError(errors, failure);
    issuers = null;
    return false;
  }
  const remembered = sessionStorage.getItem(ISSUER_KEY);
  issuer = issuers.find((i) => i.id === remembered) || (issuers.length === 1 ? issuers[0] : null);
  return true;
}

function issuerChooser() {
  const select = el(
    "select",
    { id: "issuer-choice", dataset: { testid: "issuer-choice" } },
    el("option", { value: "" }, t("portal.chooseIssuer")),
    issuers.map((i) => el("option", { value: i.id, selected: issuer && issuer.id === i.id }, `${i.name} (${i.id})`)),
  );
  select.addEventListener("change", () => {
    issuer = issuers.find((i) => i.id === select.value) || null;
    if (issuer) sessionStorage.setItem(ISSUER_KEY, issuer.id);
    render();
  });
  return el("div", { class: "field issuer-choice" }, el("label", { for: "issuer-choice" }, t("portal.issuer")), select, issuer ? el("span", { class: "hint mono" }, issuer.did) : null);
}

async function render() {
  const main = document.getElementById("main");
  clear(main);
  document.title = t("portal.pageTitle");
  if (!session.signedIn) {
    issuers = null;
    issuer = null;
    renderHeader();
    await renderSignIn(session, main, { defaultLabel: t("portal.defaultLabel") });
    return;
  }
  if (issuers === null && !(await loadIssuers(main))) {
    renderHeader();
    return;
  }
  renderHeader();
  if (!issuers.length) {
    main.append(el("h1", {}, t("portal.title")), el("p", { class: "notice", dataset: { testid: "no-issuer" } }, t("portal.noIssuer")), el("p", {}, el("code", { class: "did" }, session.me.did)));
    return;
  }
  main.append(el("h1", {}, t("portal.title")), issuerChooser());
  if (!issuer) return;
  const view = el("div", { class: "view" });
  main.append(view);
  await ROUTES[route()].render(view, { session, issuer });
}

async function start() {
  await initI18n("portal");
  applyI18n(document);
  // Signing in or out, or making the key, replaces the screen: focus goes to its heading.
  session.onChange(() => render().then(() => focusHeading(document.getElementById("main"))));
  window.addEventListener("hashchange", () => {
    render().then(() => {
      const heading = document.querySelector("#main h2, #main h1");
      if (heading) {
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }
    });
  });
  window.addEventListener("languagechange", () => render());
  await render();
}

start();
