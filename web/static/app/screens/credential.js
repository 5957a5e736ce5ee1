// One credential in full: every field, an offline verification with what the wallet kept
// ("status as of"), for status credentials the anchoring receipt (fetch, check, show), and the
// credential as a file to hand on.

import { t, hasTranslation } from "../../common/i18n.js";
import { formatDate, formatDateTime } from "../../common/format.js";
import { busy, el, showError, download, announce } from "../../common/ui.js";
import { field, wallet } from "../state.js";
import { claimList, claimsOf, did, factName, factTypeOf, issuerOf, outcomeBadge, printable } from "../view.js";

export async function render({ param }) {
  const w = wallet();
  const id = param;
  const vc = await w.credential(id);
  const records = await w.credentials();
  const record = records.find((r) => field(r, "id") === id) || {};
  const type = factTypeOf(vc);
  const isStatus = field(record, "kind") === "status" || type === "DerivedStatusCredential";
  const subject = vc.credentialSubject || {};
  const statusCheckedAt = field(record, "statusCheckedAt");

  const verifyOut = el("div", { "aria-live": "polite", dataset: { testid: "verify-report" } });
  const verifyButton = el("button", { type: "button", dataset: { testid: "verify" } }, t("credential.verify"));
  verifyButton.addEventListener("click", async () => {
    showError(verifyOut, null);
    try {
      const report = await busy(verifyButton, w.verify(id));
      verifyOut.replaceChildren(reportView(report));
      announce(t(`verdict.${report.verdict}`));
    } catch (failure) {
      showError(verifyOut, failure);
    }
  });

  const downloadButton = el(
    "button",
    { type: "button", class: "secondary", dataset: { testid: "download-credential" }, onclick: () => download(`${fileName(id)}.json`, JSON.stringify(vc, null, 2), "application/json") },
    t("credential.download"),
  );

  return el(
    "section",
    { dataset: { testid: "credential-detail" } },
    el("p", {}, el("a", { href: "#/credentials" }, t("credential.back"))),
    el("h1", {}, isStatus ? factName((subject.derivedStatus || {}).factType) : factName(type)),
    isStatus ? el("p", {}, outcomeBadge((subject.derivedStatus || {}).outcome)) : null,
    statusCheckedAt ? el("p", { class: "meta", dataset: { testid: "as-of" } }, t("credentials.asOf", { date: formatDateTime(statusCheckedAt) })) : null,
    el(
      "dl",
      { class: "fields", dataset: { testid: "credential-fields" } },
      el("dt", {}, t("credential.id")),
      el("dd", {}, el("code", {}, printable(vc.id || id))),
      el("dt", {}, t("credential.type")),
      el("dd", {}, printable([].concat(vc.type || []).join(", "))),
      el("dt", {}, t("credential.issuer")),
      el("dd", {}, did(issuerOf(vc))),
      el("dt", {}, t("credential.subject")),
      el("dd", {}, did(subject.id)),
      el("dt", {}, t("credential.validFrom")),
      el("dd", {}, vc.validFrom ? formatDateTime(vc.validFrom) : "—"),
      el("dt", {}, t("credential.validUntil")),
      el("dd", {}, vc.validUntil ? formatDateTime(vc.validUntil) : "—"),
      field(record, "received") ? [el("dt", {}, t("credential.received")), el("dd", {}, formatDateTime(field(record, "received")))] : null,
      vc.credentialStatus ? [el("dt", {}, t("credential.statusList")), el("dd", {}, el("code", {}, printable([].concat(vc.credentialStatus).map((s) => s.id).join(", "))))] : null,
    ),
    el("h2", {}, t("credential.claims")),
    claimList(claimsOf(vc)),
    el("div", { class: "actions" }, verifyButton, downloadButton),
    verifyOut,
    isStatus ? receiptSection(w, id) : null,
    el("details", {}, el("summary", {}, t("credential.raw")), el("pre", {}, printable(JSON.stringify(vc, null, 2)))),
  );
}

function fileName(id) {
  return String(id).replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "credential";
}

function outcomeText(check) {
  const result = check.result || (check.outcome && (check.outcome.result || check.outcome));
  const why = check.failure || check.reason || (check.outcome && (check.outcome.failure || check.outcome.reason));
  const key = `check.result.${result}`;
  let text = hasTranslation(key) ? t(key) : String(result);
  if (why) text += `: ${printable(why.code || "")}${why.detail ? ` — ${printable(why.detail)}` : ""}`;
  return text;
}

export function reportView(report) {
  const verdict = report.verdict;
  const kind = verdict === "valid" ? "success" : verdict === "invalid" ? "error" : "warning";
  return el(
    "div",
    { class: kind },
    el("p", {}, el("strong", { dataset: { testid: "verdict" } }, t(`verdict.${verdict}`))),
    el(
      "ul",
      {},
      (report.checks || []).map((check) => {
        const asOf = check.asOf || check.as_of;
        const name = hasTranslation(`check.${check.check}`) ? t(`check.${check.check}`) : check.check;
        return el("li", {}, `${name}: ${outcomeText(check)}`, asOf ? ` (${t("credential.statusAsOf", { date: formatDateTime(asOf) })})` : "");
      }),
    ),
  );
}

function receiptSection(w, id) {
  const out = el("div", { "aria-live": "polite", dataset: { testid: "receipt" } });
  const fetchButton = el("button", { type: "button", dataset: { testid: "receipt-fetch" } }, t("receipt.fetch"));
  const showButton = el("button", { type: "button", class: "secondary", dataset: { testid: "receipt-show" } }, t("receipt.show"));
  fetchButton.addEventListener("click", async () => {
    showError(out, null);
    try {
      const receipt = await busy(fetchButton, w.receiptFetch(id));
      out.replaceChildren(receiptView(receipt, id));
      announce(t("receipt.kept"));
    } catch (failure) {
      if (failure && failure.code === "not_anchored_yet") {
        out.replaceChildren(el("p", { class: "notice" }, t("receipt.notYet")));
      } else showError(out, failure);
    }
  });
  showButton.addEventListener("click", async () => {
    showError(out, null);
    try {
      const receipt = await busy(showButton, w.receiptShow(id));
      out.replaceChildren(receiptView(receipt, id));
    } catch (failure) {
      showError(out, failure);
    }
  });
  return el(
    "section",
    {},
    el("h2", {}, t("receipt.title")),
    el("p", { class: "hint" }, t("receipt.explain")),
    el("div", { class: "actions" }, fetchButton, showButton),
    out,
  );
}

function receiptView(receipt, id) {
  const fetched = receipt && (receipt.fetched || (receipt.record && receipt.record.fetched));
  return el(
    "div",
    { class: "success" },
    el("p", {}, t("receipt.checked"), fetched ? ` ${t("receipt.fetchedAt", { date: formatDate(fetched, { time: true }) })}` : ""),
    el(
      "div",
      { class: "actions" },
      el("button", { type: "button", class: "secondary", onclick: () => download(`receipt-${fileName(id)}.json`, JSON.stringify(receipt, null, 2), "application/json") }, t("receipt.download")),
    ),
    el("details", {}, el("summary", {}, t("credential.raw")), el("pre", {}, printable(JSON.stringify(receipt, null, 2)))),
  );
}
