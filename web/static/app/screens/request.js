// Request an attestation: the fact type (residence first), its claims as the form facts.js
// describes (every field checked, with its own message, before anything is sent), whom it is
// about (the identity acting now), the attesters' DIDs and/or a one-time link, a note and an
// expiry. Then the link as a QR code, text and share button.

import { t } from "../../common/i18n.js";
import { busy, el, showError, announce } from "../../common/ui.js";
import { linkBox } from "../link.js";
import { actingAs, currentIdentity, field, state, wallet } from "../state.js";
import { FACTS, FACT_TYPES, factForm } from "../facts.js";
import { did, printable } from "../view.js";

// The request just made, kept (in memory, for the wallet open now) so that a switch of language,
// which renders the screen again, still shows its one-time link; any other visit, or locking the
// wallet, starts a new form.
let justCreated = null;

export async function render(context) {
  if (context.param) {
    const requests = await import("./requests.js");
    return requests.renderOne(context);
  }
  if (!context.language || (justCreated && justCreated.wallet !== state.wallet)) justCreated = null;
  const input = (id, attrs = {}) => el("input", { id, name: id, ...attrs });
  const fields = {
    factType: el("select", { id: "fact-type" }, FACT_TYPES.map((f) => el("option", { value: f }, t(`fact.${f}`)))),
    to: el("textarea", { id: "attesters", rows: 3, spellcheck: "false", autocomplete: "off" }),
    open: el("input", { id: "open-link", type: "checkbox", checked: true }),
    note: el("textarea", { id: "note", rows: 3 }),
    days: input("expires-days", { type: "number", min: 1, max: 30, value: "14", inputmode: "numeric" }),
  };
  const field_ = (control, key, hint) => {
    if (hint) control.setAttribute("aria-describedby", `${control.id}-hint`);
    return el("div", { class: "field" }, el("label", { for: control.id }, t(key)), hint ? el("span", { class: "hint", id: `${control.id}-hint` }, t(hint)) : null, control);
  };
  // Every fact type's form is built once and kept (hidden when another is chosen), so switching
  // back and forth loses nothing typed.
  const forms = Object.fromEntries(FACT_TYPES.map((f) => [f, factForm(f, { identities: state.identities })]));
  const me = currentIdentity();
  const aboutHint = el("p", { class: "hint", id: "request-about-hint" });
  const about = el(
    "div",
    { class: "field" },
    el("span", { class: "label" }, t("facts.about")),
    el("p", { dataset: { testid: "request-about" } }, me ? [el("strong", {}, printable(me.label || "")), " ", did(me.did)] : null),
    aboutHint,
  );
  const show = () => {
    const chosen = fields.factType.value;
    for (const [f, form] of Object.entries(forms)) form.node.hidden = f !== chosen;
    aboutHint.textContent = FACTS[chosen].about ? t(`facts.aboutHint.${chosen}`) : "";
    aboutHint.hidden = !FACTS[chosen].about;
  };
  fields.factType.addEventListener("change", show);
  show();

  const errors = el("div", { "aria-live": "assertive", dataset: { testid: "request-error" } });
  const submit = el("button", { type: "submit", dataset: { testid: "request-create" } }, t("request.create"));
  const result = el("div", { "aria-live": "polite" });
  const form = el(
    "form",
    { novalidate: true, dataset: { testid: "request-form" } },
    field_(fields.factType, "request.factType"),
    about,
    Object.values(forms).map((f) => f.node),
    el(
      "fieldset",
      {},
      el("legend", {}, t("request.who")),
      field_(fields.to, "request.attesters", "request.attestersHint"),
      el("label", { class: "check", for: fields.open.id }, fields.open, t("request.openLink")),
    ),
    field_(fields.note, "request.note", "request.noteHint"),
    field_(fields.days, "request.days"),
    errors,
    el("div", { class: "actions" }, submit),
  );

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      const read = forms[fields.factType.value].read();
      // Each field says what is wrong under it; this only points there.
      if (read.problems) throw { message: t("facts.fix") };
      const ask = readForm(fields, read.claims);
      const created = await busy(submit, wallet().requestCreate(ask, actingAs()));
      announce(t("request.created"));
      justCreated = { wallet: state.wallet, created };
      result.replaceChildren(createdPanel(created));
      form.hidden = true;
      result.querySelector("h2").focus();
    } catch (failure) {
      showError(errors, failure);
    }
  });

  if (justCreated) {
    result.replaceChildren(createdPanel(justCreated.created));
    form.hidden = true;
  }
  return el("section", {}, el("h1", {}, t("request.title")), el("p", {}, t("request.intro")), form, result);
}

/** What was made: the one-time link (QR code, text, share) and the way to its progress. */
function createdPanel(created) {
  const link = field(created, "link");
  return el(
    "section",
    { class: "stack", dataset: { testid: "request-created" } },
    el("h2", { tabindex: "-1" }, t("request.createdTitle")),
    el("p", {}, t("request.createdText")),
    link ? linkBox(link) : null,
    el("p", {}, el("a", { href: `#/request/${encodeURIComponent(field(created, "id"))}`, dataset: { testid: "request-progress-link" } }, t("request.followProgress"))),
  );
}

function invalid(control, key) {
  control.setAttribute("aria-invalid", "true");
  control.focus();
  return { code: "invalid", message: t(key) };
}

/** The request from the chosen fact's claims and the rest of the form. */
function readForm(f, claims) {
  f.to.removeAttribute("aria-invalid");
  const to = f.to.value.split(/\s+/).map((s) => s.trim()).filter(Boolean);
  const bad = to.find((d) => !d.startsWith("did:"));
  if (bad) throw invalid(f.to, "request.badDid");
  if (!to.length && !f.open.checked) throw invalid(f.to, "request.needAttester");
  const ask = { factType: f.factType.value, claims, to, open: f.open.checked };
  const days = Number.parseInt(f.days.value, 10);
  if (Number.isFinite(days) && days > 0) ask.expiresInDays = days;
  if (f.note.value.trim()) ask.note = f.note.value.trim();
  return ask;
}
