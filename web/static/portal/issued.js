// What the issuer issued (GET /issuers/{id}/credentials, metadata only, newest first, paged) and
// revoking one (POST /credentials/status with the revocation entry, after a confirmation).
// Revocation is final; the list shows each credential's state after it.

import { formatDateTime } from "../common/format.js";
import { t } from "../common/i18n.js";
import { announce, clear, confirmDialog, el, showError } from "../common/ui.js";

export const PAGE = 20;

function stateOf(credential) {
  if (credential.revoked) return { key: "issued.state.revoked", cls: "badge danger", value: "revoked" };
  if (credential.suspended) return { key: "issued.state.suspended", cls: "badge warn", value: "suspended" };
  if (credential.validUntil && new Date(credential.validUntil) < new Date()) return { key: "issued.state.expired", cls: "badge neutral", value: "expired" };
  return { key: "issued.state.active", cls: "badge ok", value: "active" };
}

export async function renderIssued(container, { session, issuer, offset = 0 }) {
  clear(container);
  const errors = el("div", { "aria-live": "assertive" });
  const status = el("p", { role: "status" }, t("portal.loading"));
  const heading = el("h2", { id: "issued-title" }, t("issued.title"));
  container.append(heading, el("p", {}, t("issued.intro", { issuer: issuer.name })), status, errors);
  let page;
  try {
    page = await session.call("GET", `/issuers/${encodeURIComponent(issuer.id)}/credentials?limit=${PAGE}&offset=${offset}`);
  } catch (failure) {
    status.remove();
    showError(errors, failure);
    return;
  }
  status.textContent = page.total === 0 ? t("issued.none") : t("issued.range", { from: offset + 1, to: offset + page.credentials.length, total: page.total });

  const revoke = async (credential, button) => {
    const sure = await confirmDialog(t("issued.confirmRevoke", { id: credential.id, subject: credential.subject || "" }), {
      confirmLabel: t("issued.revoke"),
      cancelLabel: t("issued.keep"),
      danger: true,
    });
    if (!sure) {
      button.focus();
      return;
    }
    showError(errors, null);
    try {
      await session.call("POST", "/credentials/status", {
        body: { credentialId: credential.id, credentialStatus: { type: "BitstringStatusListEntry", statusPurpose: "revocation" }, status: true },
      });
      announce(t("issued.revoked", { id: credential.id }));
      await renderIssued(container, { session, issuer, offset });
      const again = container.querySelector("h2");
      if (again) again.focus();
    } catch (failure) {
      showError(errors, failure);
    }
  };

  if (page.credentials.length) {
    container.append(
      el(
        "div",
        { class: "table-scroll" },
        el(
          "table",
          { dataset: { testid: "issued-list" }, "aria-labelledby": "issued-title" },
          el("thead", {}, el("tr", {}, ["issued.id", "issued.subject", "issued.type", "issued.issued", "issued.state", "issued.actions"].map((key) => el("th", { scope: "col" }, t(key))))),
          el(
            "tbody",
            {},
            page.credentials.map((credential) => {
              const state = stateOf(credential);
              const button = el("button", { type: "button", class: "danger", "aria-label": t("issued.revokeNamed", { id: credential.id }) }, t("issued.revoke"));
              button.addEventListener("click", () => revoke(credential, button));
              return el(
                "tr",
                { dataset: { credentialId: credential.id, state: state.value } },
                el("td", { class: "mono" }, credential.id),
                el("td", { class: "mono" }, credential.subject || "—"),
                el("td", {}, credential.type),
                el("td", {}, formatDateTime(credential.issued)),
                el(
                  "td",
                  {},
                  el("span", { class: state.cls, dataset: { testid: "credential-state" } }, t(state.key)),
                  credential.revoked ? el("span", { class: "hint" }, ` ${formatDateTime(credential.revoked)}`) : null,
                ),
                el("td", {}, credential.revoked ? null : button),
              );
            }),
          ),
        ),
      ),
    );
  }
  const pager = el("nav", { class: "actions", "aria-label": t("issued.pages") });
  if (offset > 0) pager.append(el("button", { type: "button", class: "secondary", onclick: () => renderIssued(container, { session, issuer, offset: Math.max(0, offset - PAGE) }) }, t("issued.previous")));
  if (offset + page.credentials.length < page.total) pager.append(el("button", { type: "button", class: "secondary", onclick: () => renderIssued(container, { session, issuer, offset: offset + PAGE }) }, t("issued.next")));
  pager.append(el("button", { type: "button", class: "secondary", onclick: () => renderIssued(container, { session, issuer, offset }) }, t("issued.refresh")));
  container.append(pager);
}
