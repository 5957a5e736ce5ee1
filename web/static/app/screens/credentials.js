// My credentials and statuses: attestations (issuer, fact, address, dates) and status credentials
// (outcome, policy, validity), with "as of" where status information is cached; importing a
// credential an organisation handed over as a file.

import { t } from "../../common/i18n.js";
import { formatAddress, formatDate, formatDateTime } from "../../common/format.js";
import { busy, el, readFile, showError, announce } from "../../common/ui.js";
import { actingAs, wallet } from "../state.js";
import { claimsOf, did, factName, factTypeOf, issuerOf, outcomeBadge, printable, summary } from "../view.js";

export async function render({ rerender }) {
  const w = wallet();
  const records = (await w.credentials()).map(summary);
  const full = await Promise.all(records.map((r) => (r.credential ? r.credential : w.credential(r.id).catch(() => null))));
  const attestations = [];
  const statuses = [];
  records.forEach((record, i) => {
    const vc = full[i];
    (record.kind === "status" || factTypeOf(vc) === "DerivedStatusCredential" ? statuses : attestations).push([record, vc]);
  });

  return el(
    "section",
    {},
    el("h1", {}, t("credentials.title")),
    navigator.onLine ? null : el("p", { class: "warning", dataset: { testid: "offline-note" } }, t("credentials.offline")),
    el("h2", {}, t("credentials.statuses")),
    statuses.length
      ? el("ul", { class: "cards", dataset: { testid: "status-list" } }, statuses.map(([r, vc]) => statusCard(r, vc)))
      : el("p", { class: "meta" }, t("credentials.noStatuses")),
    el("h2", {}, t("credentials.attestations")),
    attestations.length
      ? el("ul", { class: "cards", dataset: { testid: "credential-list" } }, attestations.map(([r, vc]) => attestationCard(r, vc)))
      : el("div", { dataset: { testid: "credential-list" } }, el("p", { class: "meta" }, t("credentials.none"))),
    el("p", {}, el("a", { href: "#/present", dataset: { testid: "to-present-offline" } }, t("offline.link"))),
    importForm(rerender),
  );
}

function asOf(record) {
  return record.statusCheckedAt ? el("p", { class: "meta", dataset: { testid: "as-of" } }, t("credentials.asOf", { date: formatDateTime(record.statusCheckedAt) })) : null;
}

function attestationCard(record, vc) {
  const claims = claimsOf(vc);
  const residence = claims.residence;
  const relation = claims.attesterRelation;
  return el(
    "li",
    { class: "card", dataset: { testid: "credential", id: record.id } },
    el("h3", {}, el("a", { href: `#/credential/${encodeURIComponent(record.id)}` }, factName(record.factType || factTypeOf(vc)))),
    residence && residence.address ? el("p", {}, printable(formatAddress(residence.address))) : null,
    residence && residence.since ? el("p", {}, t("credentials.since", { date: formatDate(residence.since) })) : null,
    el("p", { class: "meta" }, t("credentials.from"), " ", did(record.issuer || issuerOf(vc))),
    relation && relation.role ? el("p", { class: "meta" }, t("credentials.role", { role: t(`role.${relation.role}`) })) : null,
    el("p", { class: "meta" }, t("credentials.received", { date: formatDate(record.received) })),
    asOf(record),
  );
}

function statusCard(record, vc) {
  const subject = (vc && vc.credentialSubject) || {};
  const status = subject.derivedStatus || {};
  const established = subject.established || {};
  const address = established.residence && established.residence.address;
  return el(
    "li",
    { class: "card", dataset: { testid: "status", id: record.id } },
    el("h3", {}, el("a", { href: `#/credential/${encodeURIComponent(record.id)}` }, factName(status.factType)), " ", outcomeBadge(status.outcome)),
    address ? el("p", {}, printable(formatAddress(address))) : null,
    el("p", { class: "meta" }, t("credentials.policy", { policy: printable(status.policy || ""), version: printable(status.policyVersion || "") })),
    vc && vc.validFrom ? el("p", { class: "meta" }, t("credentials.validFrom", { date: formatDate(vc.validFrom) })) : null,
    vc && vc.validUntil ? el("p", { class: "meta" }, t("credentials.validUntil", { date: formatDate(vc.validUntil) })) : null,
    asOf(record),
  );
}

function importForm(rerender) {
  const file = el("input", { id: "import-file", type: "file", accept: ".json,.jsonld,application/json" });
  const errors = el("div", { "aria-live": "assertive" });
  const submit = el("button", { type: "submit", class: "secondary", dataset: { testid: "import-credential" } }, t("credentials.import"));
  const form = el(
    "form",
    { dataset: { testid: "import-form" } },
    el("h2", {}, t("credentials.importTitle")),
    el("p", { class: "hint" }, t("credentials.importHint")),
    el("div", { class: "field" }, el("label", { for: file.id }, t("credentials.importFile")), file),
    errors,
    el("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      if (!file.files[0]) throw { code: "invalid", message: t("firstRun.chooseFile") };
      const text = await readFile(file.files[0]);
      let vc;
      try {
        vc = JSON.parse(text);
      } catch {
        throw { code: "invalid", message: t("credentials.notJson") };
      }
      await busy(submit, wallet().importCredential(vc, actingAs()));
      announce(t("credentials.imported"));
      await rerender();
    } catch (failure) {
      showError(errors, failure);
    }
  });
  return form;
}
