// The one-time link an attester opens, as the citizen app shows it: ${origin}/app/#/answer/open:TOKEN.
// The core may hand back the service's URL (/attestation-requests/open/TOKEN); both name the same
// request, and the core's Target::parse accepts either.

import { t } from "../common/i18n.js";
import { el, copyButton, svgFromMarkup } from "../common/ui.js";
import { state } from "./state.js";

export function appLink(link) {
  if (!link) return null;
  const text = String(link);
  const service = text.match(/\/attestation-requests\/open\/([^/?#\s]+)/);
  if (service) return `${location.origin}/app/#/answer/open:${service[1]}`;
  const open = text.match(/^open:(.+)$/);
  if (open) return `${location.origin}/app/#/answer/open:${open[1]}`;
  return text;
}

/** The link shown as a QR code, as copyable text, and with a share button where the browser has one. */
export function linkBox(link) {
  const url = appLink(link);
  const input = el("input", { id: "request-link", type: "text", readonly: true, value: url, dataset: { testid: "request-link" } });
  input.addEventListener("focus", () => input.select());
  let qr = null;
  try {
    qr = el("div", { class: "qr", role: "img", "aria-label": t("link.qr"), dataset: { testid: "request-qr" } }, svgFromMarkup(state.core.qrSvg(url)));
  } catch {
    qr = null;
  }
  const share =
    typeof navigator.share === "function"
      ? el(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: () => navigator.share({ title: t("link.shareTitle"), text: t("link.shareText"), url }).catch(() => {}),
          },
          t("link.share"),
        )
      : null;
  return el(
    "div",
    { class: "link-box" },
    qr,
    el("div", { class: "field" }, el("label", { for: input.id }, t("link.label")), input),
    el("div", { class: "actions" }, copyButton(url, t("link.copy")), share),
    el("p", { class: "hint" }, t("link.hint")),
  );
}
