// What the issuer issued (GET /issuers/{id}/credentials, metadata only, newest first, paged) and
// changing a credential's status (POST /credentials/status, after a confirmation): suspending
// it, lifting the suspension, or revoking it. A revocation is final: a revoked credential offers
// no action, and when the service refuses a change (the credential was revoked meanwhile, 409)
// the list is reloaded with the refusal above it, so the operator sees why and what is true now.

import { formatDateTime } from "../common/format.js";
import { t } from "../common/i18n.js";
import { announce, busy, clear, confirmDialog, el, failureMessage, scrollRegion, showError } from "../common/ui.js";

export const PAGE = 20;

function stateOf(credential) {
  if (credential.revoked) return { key: "issued.state.revoked", cls: "badge danger", value: "revoked" };
  if (credential.suspended) return { key: "issued.state.suspended", cls: "badge warn", value: "suspended" };
  if (credential.validUntil && new Date(credential.validUntil) < new Date()) return { key: "issued.state.expired", cls: "badge neutral", value: "expired" };
  return { key: "issued.state.active", cls: "badge ok", value: "active" };
}

/** What each status change sends and says; `value` is the new bit of the `purpose` entry. */
const CHANGES = {
  suspend: { purpose: "suspension", value: true, confirm: "issued.confirmSuspend", label: "issued.suspend", named: "issued.suspendNamed", done: "issued.suspendedDone", cls: "secondary" },
  lift: { purpose: "suspension", value: false, confirm: "issued.confirmLift", label: "issued.lift", named: "issued.liftNamed", done: "issued.liftedDone", cls: "secondary" },
  revoke: { purpose: "revocation", value: true, confirm: "issued.confirmRevoke", label: "issued.revoke", named: "issued.revokeNamed", done: "issued.revoked", cls: "danger", danger: true },
};

/** The message for a refused status change: a conflict means the credential is revoked. */
function refusal(failure) {
  if (failure && failure.code === "conflict") return { message: t("issued.refusedRevoked") };
  return { ...failure, message: failureMessage(failure), code: null };
}

export async function renderIssued(container, { session, issuer, offset = 0, failure = null }) {
  clear(container);
  const errors = el("div", { "aria-live": "assertive", dataset: { testid: "issued-errors" } });
  const status = el("p", { role: "status" }, t("portal.loading"));
  const heading = el("h2", { id: "issued-title" }, t("issued.title"));
  container.append(heading, el("p", {}, t("issued.intro", { issuer: issuer.name })), status, errors);
  if (failure) showError(errors, failure);
  let page;
  try {
    page = await session.call("GET", `/issuers/${encodeURIComponent(issuer.id)}/credentials?limit=${PAGE}&offset=${offset}`);
  } catch (failed) {
    status.remove();
    showError(errors, failed);
    return;
  }
  status.textContent = page.total === 0 ? t("issued.none") : t("issued.range", { from: offset + 1, to: offset + page.credentials.length, total: page.total });

  const change = async (credential, kind, button) => {
    const c = CHANGES[kind];
    const sure = await confirmDialog(t(c.confirm, { id: credential.id, subject: credential.subject || "—" }), {
      confirmLabel: t(c.label),
      cancelLabel: t("issued.keep"),
      danger: Boolean(c.danger),
    });
    if (!sure) {
      button.focus();
      return;
    }
    showError(errors, null);
    let refused = null;
    try {
      await busy(
        button,
        session.call("POST", "/credentials/status", {
          body: { credentialId: credential.id, credentialStatus: { type: "BitstringStatusListEntry", statusPurpose: c.purpose }, status: c.value },
        }),
      );
      announce(t(c.done, { id: credential.id }));
    } catch (failed) {
      refused = refusal(failed);
    }
    // Either way the list is read again: after a refusal it shows the state that caused it.
    await renderIssued(container, { session, issuer, offset, failure: refused });
    const again = container.querySelector("h2");
    if (again) {
      again.setAttribute("tabindex", "-1");
      again.focus();
    }
  };

  const actions = (credential) => {
    if (credential.revoked) return null;
    const kinds = credential.suspended ? ["lift", "revoke"] : ["suspend", "revoke"];
    return el(
      "div",
      { class: "row-actions" },
      kinds.map((kind) => {
        const c = CHANGES[kind];
        const button = el("button", { type: "button", class: c.cls, "aria-label": t(c.named, { id: credential.id }), dataset: { action: kind } }, t(c.label));
        button.addEventListener("click", () => change(credential, kind, button));
        return button;
      }),
    );
  };

  if (page.credentials.length) {
    container.append(
      scrollRegion(
        null,
        el(
          "table",
          { dataset: { testid: "issued-list" }, "aria-labelledby": "issued-title" },
          el("thead", {}, el("tr", {}, ["issued.id", "issued.subject", "issued.type", "issued.issued", "issued.state", "issued.actions"].map((key) => el("th", { scope: "col" }, t(key))))),
          el(
            "tbody",
            {},
            page.credentials.map((credential) => {
              const state = stateOf(credential);
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
                el("td", {}, actions(credential)),
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
