// My attestation requests: the list, and one request's progress (who answered, declined, is
// pending), collecting the answers (each kept, refused with the reason, or declined), and
// withdrawing it.

import { t, hasTranslation } from "../../common/i18n.js";
import { formatDate } from "../../common/format.js";
import { busy, el, showError, announce, confirmDialog } from "../../common/ui.js";
import { linkBox } from "../link.js";
import { field, wallet } from "../state.js";
import { did, factName, printable } from "../view.js";
import { factClaims, factSummary } from "../facts.js";

export async function render() {
  const all = await wallet().requests();
  return el(
    "section",
    {},
    el("h1", {}, t("requests.title")),
    el("p", {}, el("a", { href: "#/request", class: "button" }, t("requests.new"))),
    all.length
      ? el(
          "ul",
          { class: "cards", dataset: { testid: "request-list" } },
          all.map((r) =>
            el(
              "li",
              { class: "card", dataset: { testid: "request-item", id: field(r, "id") } },
              el("h2", { class: "h3" }, el("a", { href: `#/request/${encodeURIComponent(field(r, "id"))}` }, factName(field(r, "factType")))),
              field(r, "claims") ? el("p", { dataset: { testid: "request-summary" } }, factSummary(field(r, "factType"), field(r, "claims"))) : null,
              el("p", { class: "meta" }, t("requests.created", { date: formatDate(field(r, "created")) }), " · ", t("requests.expires", { date: formatDate(field(r, "expires")) })),
              el("p", {}, field(r, "closed") ? el("span", { class: "badge neutral" }, t("requests.closed")) : el("span", { class: "badge ok" }, t("requests.open"))),
            ),
          ),
        )
      : el("p", { class: "meta", dataset: { testid: "request-list" } }, t("requests.none")),
  );
}

function progressLabel(progress) {
  const key = `progress.${progress}`;
  return hasTranslation(key) ? t(key) : printable(progress || "");
}

function progressBadge(progress) {
  const kind = progress === "answered" || progress === "collected" ? "ok" : progress === "declined" ? "danger" : "neutral";
  return el("span", { class: `badge ${kind}` }, progressLabel(progress));
}

export async function renderOne({ param, rerender }) {
  const w = wallet();
  const id = param;
  const [view, all] = await Promise.all([w.requestShow(id), w.requests()]);
  const record = all.find((r) => field(r, "id") === id) || {};
  const progress = field(view, "progress") || [];
  const state = field(view, "state");
  const openLink = field(view, "openLink");
  const closed = Boolean(field(record, "closed")) || ["closed", "expired", "withdrawn"].includes(state);

  const out = el("div", { "aria-live": "polite", dataset: { testid: "collect-result" } });
  const collect = el("button", { type: "button", dataset: { testid: "collect" } }, t("requests.collect"));
  collect.addEventListener("click", async () => {
    showError(out, null);
    try {
      const result = await busy(collect, w.requestCollect(id));
      out.replaceChildren(collectionView(result));
      announce(t("requests.collected", { count: (result.stored || []).length }));
    } catch (failure) {
      showError(out, failure);
    }
  });
  const withdraw = el("button", { type: "button", class: "danger", dataset: { testid: "withdraw" } }, t("requests.withdraw"));
  withdraw.addEventListener("click", async () => {
    if (!(await confirmDialog(t("requests.withdrawConfirm"), { confirmLabel: t("requests.withdraw"), danger: true }))) return;
    try {
      await busy(withdraw, w.requestWithdraw(id));
      announce(t("requests.withdrawn"));
      await rerender();
    } catch (failure) {
      showError(out, failure);
    }
  });

  return el(
    "section",
    { dataset: { testid: "request-detail" } },
    el("p", {}, el("a", { href: "#/requests" }, t("requests.back"))),
    el("h1", {}, factName(field(view, "factType") || field(record, "factType"))),
    el(
      "dl",
      { class: "fields" },
      el("dt", {}, t("requests.state")),
      el("dd", { dataset: { testid: "request-state" } }, hasTranslation(`requestState.${state}`) ? t(`requestState.${state}`) : printable(state || "")),
      el("dt", {}, t("requests.expiresLabel")),
      el("dd", {}, formatDate(field(view, "expires") || field(record, "expires"))),
      field(record, "note") ? [el("dt", {}, t("request.note")), el("dd", {}, printable(field(record, "note")))] : null,
    ),
    field(record, "claims") ? [el("h2", {}, t("requests.asked")), factClaims(field(record, "factType") || field(view, "factType"), field(record, "claims"), { testid: "request-claims" })] : null,
    el("h2", {}, t("requests.progress")),
    progress.length
      ? el(
          "ul",
          { class: "progress-list", dataset: { testid: "request-progress" } },
          progress.map((entry) =>
            el(
              "li",
              {},
              progressBadge(field(entry, "progress")),
              did(field(entry, "attester")),
              field(entry, "via") ? el("span", { class: "meta" }, `(${hasTranslation(`via.${field(entry, "via")}`) ? t(`via.${field(entry, "via")}`) : printable(field(entry, "via"))})`) : null,
            ),
          ),
        )
      : el("p", { class: "meta", dataset: { testid: "request-progress" } }, t("requests.noAnswers")),
    openLink ? el("p", { class: "meta" }, t("requests.openLinkState", { state: hasTranslation(`linkState.${openLink}`) ? t(`linkState.${openLink}`) : printable(String(openLink).replace(/_/g, " ")) })) : null,
    field(record, "link") && !closed ? [el("h2", {}, t("requests.link")), linkBox(field(record, "link"))] : null,
    el("div", { class: "actions" }, collect, closed ? null : withdraw),
    out,
  );
}

function collectionView(result) {
  const stored = result.stored || [];
  const refused = result.refused || [];
  const declined = result.declined || [];
  return el(
    "div",
    { class: "stack" },
    stored.length || refused.length || declined.length ? null : el("p", { class: "notice" }, t("requests.nothingYet")),
    stored.length
      ? el("div", { class: "success" }, el("h3", {}, t("requests.kept")), el("ul", {}, stored.map((s) => el("li", { dataset: { testid: "kept" } }, el("a", { href: `#/credential/${encodeURIComponent(s.id)}` }, t("requests.keptFrom")), " ", did(s.issuer)))))
      : null,
    refused.length
      ? el("div", { class: "error" }, el("h3", {}, t("requests.refused")), el("ul", {}, refused.map((r) => el("li", { dataset: { testid: "refused" } }, did(r.attester || r.id), ": ", printable(r.reason || "")))))
      : null,
    declined.length
      ? el("div", { class: "warning" }, el("h3", {}, t("requests.declined")), el("ul", {}, declined.map((d) => el("li", { dataset: { testid: "declined" } }, did(d.attester), d.reason ? `: ${printable(d.reason)}` : ""))))
      : null,
    result.state ? el("p", {}, t("requests.nowState", { state: hasTranslation(`requestState.${result.state}`) ? t(`requestState.${result.state}`) : printable(result.state) })) : null,
  );
}
