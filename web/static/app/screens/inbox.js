// As an attester: the requests addressed to me (open one to review it), and the attestations I
// have given, each revocable after a confirmation.

import { t } from "../../common/i18n.js";
import { formatDate } from "../../common/format.js";
import { busy, el, showError, announce, confirmDialog } from "../../common/ui.js";
import { actingAs, field, wallet } from "../state.js";
import { did, factName } from "../view.js";
import { factSummary } from "../facts.js";

export async function render({ rerender }) {
  const w = wallet();
  const errors = el("div", { "aria-live": "assertive" });
  let inbox = [];
  let inboxError = null;
  try {
    inbox = await w.inbox(actingAs());
  } catch (failure) {
    inboxError = failure;
  }
  const given = await w.given();
  const inboxNode = el("div", { "aria-live": "polite" });
  if (inboxError) showError(inboxNode, inboxError);
  else if (!inbox.length) inboxNode.append(el("p", { class: "meta", dataset: { testid: "inbox" } }, t("inbox.none")));
  else
    inboxNode.append(
      el(
        "ul",
        { class: "cards", dataset: { testid: "inbox" } },
        inbox.map((item) =>
          el(
            "li",
            { class: "card", dataset: { testid: "inbox-item", id: field(item, "id") } },
            el("h3", {}, el("a", { href: `#/answer/${encodeURIComponent(field(item, "id"))}` }, factName(field(item, "factType")))),
            field(item, "claims") ? el("p", { dataset: { testid: "inbox-summary" } }, factSummary(field(item, "factType"), field(item, "claims"))) : null,
            el("p", { class: "meta" }, t("inbox.about"), " ", did(field(item, "subject"))),
            el("p", { class: "meta" }, t("inbox.expires", { date: formatDate(field(item, "expires")) })),
          ),
        ),
      ),
    );

  return el(
    "section",
    {},
    el("h1", {}, t("inbox.title")),
    el("p", {}, el("a", { href: "#/answer", class: "button secondary", dataset: { testid: "open-link" } }, t("inbox.openLink"))),
    el("h2", {}, t("inbox.requests")),
    inboxNode,
    el("h2", {}, t("inbox.given")),
    given.length
      ? el(
          "ul",
          { class: "cards", dataset: { testid: "given-list" } },
          given.map((g) => {
            const revoked = field(g, "revoked");
            const button = revoked
              ? null
              : el("button", { type: "button", class: "danger", dataset: { testid: "revoke" } }, t("inbox.revoke"));
            if (button)
              button.addEventListener("click", async () => {
                if (!(await confirmDialog(t("inbox.revokeConfirm"), { confirmLabel: t("inbox.revoke"), danger: true }))) return;
                try {
                  await busy(button, w.revoke(field(g, "id")));
                  announce(t("inbox.revoked"));
                  await rerender();
                } catch (failure) {
                  showError(errors, failure);
                }
              });
            return el(
              "li",
              { class: "card", dataset: { testid: "given", id: field(g, "id") } },
              el("h3", {}, factName(field(g, "factType"))),
              el("p", { class: "meta" }, t("inbox.about"), " ", did(field(g, "subject"))),
              el("p", { class: "meta" }, t("inbox.signed", { date: formatDate(field(g, "signed")) })),
              revoked ? el("p", {}, el("span", { class: "badge danger" }, t("inbox.revokedOn", { date: formatDate(revoked) }))) : el("div", { class: "actions" }, button),
            );
          }),
        )
      : el("p", { class: "meta", dataset: { testid: "given-list" } }, t("inbox.noneGiven")),
    errors,
  );
}
