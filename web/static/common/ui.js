// Building the DOM without innerHTML: every text from others goes in as a text node. Also the
// small shared widgets: errors, busy buttons, the aria-live announcer, confirm dialogs, copying
// and downloads.

import { hasTranslation, t } from "./i18n.js";

const BOOLEAN_ATTRS = new Set(["disabled", "checked", "selected", "required", "hidden", "readonly", "multiple", "open", "autofocus"]);

/**
 * el("button", {class: "primary", type: "button", onclick: fn, dataset: {testid: "x"}}, "text", child…)
 * Attributes set with setAttribute; `on*` functions become listeners; `value` is set as a property;
 * boolean attributes are present when true. Children: nodes, strings (as text), arrays, null/false skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const node = tag === "svg" || tag === "path" ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      for (const [k, v] of Object.entries(value)) node.dataset[k] = v;
    } else if (name === "value") {
      node.value = value;
    } else if (name === "class" && Array.isArray(value)) {
      node.setAttribute("class", value.filter(Boolean).join(" "));
    } else if (BOOLEAN_ATTRS.has(name)) {
      if (value) node.setAttribute(name, "");
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.append(child);
    else node.append(document.createTextNode(String(child)));
  }
}

/** Removes every child of node. */
export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

/** An SVG element from markup our own code made (qrSvg), parsed as XML, never as HTML. */
export function svgFromMarkup(markup) {
  const doc = new DOMParser().parseFromString(markup, "image/svg+xml");
  const svg = doc.documentElement;
  if (svg.nodeName !== "svg") return el("span", {}, "");
  return document.importNode(svg, true);
}

/** The message for a failure: a translation of its code when there is one, else its message. */
export function failureMessage(failure) {
  const code = failure && failure.code;
  if (code && hasTranslation(`error.${code}`)) {
    const detail = failure.message && failure.message !== code ? failure.message : "";
    return detail ? `${t(`error.${code}`)} (${detail})` : t(`error.${code}`);
  }
  return (failure && failure.message) || String(failure);
}

/** Shows a failure in container (role=alert, so screen readers hear it). */
export function showError(container, failure) {
  if (!container) return;
  clear(container);
  if (failure == null) return;
  container.append(el("p", { class: "error", role: "alert" }, failureMessage(failure)));
}

/** Disables the button while the promise runs (aria-busy), then restores it; returns the result. */
export async function busy(button, promise) {
  const label = button ? button.textContent : "";
  if (button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.classList.add("is-busy");
  }
  try {
    return await promise;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.classList.remove("is-busy");
      button.textContent = label;
    }
  }
}

/**
 * After a screen was replaced, moves focus to its heading so keyboard and screen-reader users
 * know where they are, unless the screen already put focus inside it (on its first field).
 */
export function focusHeading(container, selector = "h1") {
  const active = document.activeElement;
  if (active && active !== container && container.contains(active)) return;
  const heading = container.querySelector(selector);
  if (!heading) return;
  if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
  heading.focus();
}

/**
 * A table in a box that scrolls sideways when the screen is narrower than the table. While it
 * scrolls, the box is a named region in the tab order, so the keyboard can scroll it too (axe's
 * scrollable-region-focusable); otherwise it is no stop of its own. The name is the table's own
 * (aria-labelledby or caption) unless `label` is given.
 */
export function scrollRegion(label, table) {
  const region = el("div", { class: "table-scroll" }, table);
  const caption = table.querySelector("caption");
  const labelledby = label ? null : table.getAttribute("aria-labelledby");
  const name = label || (caption ? caption.textContent : null);
  const update = () => {
    if (region.scrollWidth > region.clientWidth) {
      region.setAttribute("tabindex", "0");
      region.setAttribute("role", "region");
      if (labelledby) region.setAttribute("aria-labelledby", labelledby);
      else if (name) region.setAttribute("aria-label", name);
    } else {
      for (const attr of ["tabindex", "role", "aria-labelledby", "aria-label"]) region.removeAttribute(attr);
    }
  };
  if (typeof ResizeObserver === "function") new ResizeObserver(update).observe(region);
  return region;
}

let liveRegion = null;

/** Says message through a polite aria-live region. */
export function announce(message) {
  if (!liveRegion || !liveRegion.isConnected) {
    liveRegion = el("div", { class: "visually-hidden", "aria-live": "polite", role: "status", dataset: { testid: "announcer" } });
    document.body.append(liveRegion);
  }
  liveRegion.textContent = "";
  setTimeout(() => {
    liveRegion.textContent = message;
  }, 50);
}

/** A modal confirmation (a <dialog>); resolves true when confirmed. */
export function confirmDialog(message, { confirmLabel = t("common.confirm"), cancelLabel = t("common.cancel"), danger = false } = {}) {
  return new Promise((resolve) => {
    const dialog = el(
      "dialog",
      { class: "dialog", "aria-labelledby": "dialog-message", dataset: { testid: "confirm-dialog" } },
      el("p", { id: "dialog-message" }, message),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "button", class: "secondary", value: "cancel", onclick: () => dialog.close("cancel") }, cancelLabel),
        el("button", { type: "button", class: danger ? "danger" : "primary", value: "ok", onclick: () => dialog.close("ok") }, confirmLabel),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Offers data as a file download. */
export function download(filename, data, type = "application/octet-stream") {
  const blob = data instanceof Blob ? data : new Blob([data], { type });
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename, class: "visually-hidden" }, filename);
  document.body.append(link);
  link.click();
  // The click has started the download: the link goes now (a screen reader could otherwise meet
  // it outside every landmark), the object URL a little later.
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A button that copies text to the clipboard and announces it. */
export function copyButton(text, label = t("common.copy")) {
  return el(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(text);
          announce(t("common.copied"));
        } catch {
          announce(t("common.copyFailed"));
        }
      },
    },
    label,
  );
}

/** Reads a chosen file as text or bytes. */
export function readFile(file, as = "text") {
  return as === "bytes" ? file.arrayBuffer().then((b) => new Uint8Array(b)) : file.text();
}

// The skip link's "#main" would be a route change in apps that route on the hash: it moves focus
// to the main region instead (every page that has one imports this module).
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a.skip-link") : null;
  const main = document.getElementById("main");
  if (!link || !main) return;
  event.preventDefault();
  main.focus();
});
