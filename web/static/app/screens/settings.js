// Settings: my DID in full (for an administrator to accredit, or someone to address a request
// to), my identities and a new one, the service, the key derivation, passkey unlock where
// offered, the app's version and update state, and the way to erase everything.

import { t } from "../../common/i18n.js";
import { formatDate, formatNumber } from "../../common/format.js";
import { busy, el, showError, announce, copyButton } from "../../common/ui.js";
import { identitiesChanged } from "../app.js";
import { enrollPasskey, passkeySupported, prfOffered } from "../passphrase.js";
import { currentIdentity, setActingAs, state, wallet } from "../state.js";
import { printable } from "../view.js";

export function render({ rerender }) {
  const w = wallet();
  const info = w.info();
  const me = currentIdentity() || {};

  const label = el("input", { id: "new-identity-label", required: true, autocomplete: "off", "aria-describedby": "new-identity-hint" });
  const errors = el("div", { "aria-live": "assertive" });
  const add = el("button", { type: "submit", class: "secondary", dataset: { testid: "new-identity" } }, t("settings.newIdentity"));
  const form = el(
    "form",
    {},
    el("div", { class: "field" }, el("label", { for: label.id }, t("settings.identityLabel")), el("span", { class: "hint", id: "new-identity-hint" }, t("settings.identityHint")), label),
    errors,
    el("div", { class: "actions" }, add),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    if (!label.value.trim()) {
      label.focus();
      showError(errors, { code: "invalid", message: t("settings.needLabel") });
      return;
    }
    try {
      const created = await busy(add, w.newIdentity(label.value.trim()));
      await identitiesChanged();
      setActingAs(created.did);
      announce(t("settings.identityCreated", { label: created.label }));
      await rerender();
    } catch (failure) {
      showError(errors, failure);
    }
  });

  const update = el("dd", { dataset: { testid: "update-state" } }, updateText());
  const version = el("dd", { dataset: { testid: "app-version" } }, state.update.version || "—");
  const onUpdate = () => {
    update.textContent = updateText();
    version.textContent = state.update.version || "—";
  };
  window.addEventListener("corroborate-update", onUpdate);

  return el(
    "section",
    {},
    el("h1", {}, t("settings.title")),
    el("h2", {}, t("settings.me")),
    el("p", {}, t("settings.meText", { label: printable(me.label || "") })),
    el("div", { class: "did-box" }, el("code", { class: "did", dataset: { testid: "my-did" } }, me.did || ""), el("div", { class: "actions" }, copyButton(me.did || ""))),
    el("h2", {}, t("settings.identities")),
    el(
      "ul",
      { dataset: { testid: "identities" } },
      state.identities.map((i) => el("li", {}, el("strong", {}, printable(i.label)), " — ", el("code", { class: "did" }, i.did), i.created ? el("span", { class: "meta" }, ` (${formatDate(i.created)})`) : null)),
    ),
    form,
    el("h2", {}, t("settings.wallet")),
    el(
      "dl",
      { class: "fields" },
      el("dt", {}, t("settings.service")),
      el("dd", {}, el("code", {}, printable(info.service || ""))),
      el("dt", {}, t("settings.created")),
      el("dd", {}, info.created ? formatDate(info.created) : "—"),
      el("dt", {}, t("settings.kdf")),
      el("dd", {}, info.kdf ? t("settings.kdfText", { memory: formatNumber(Math.round(info.kdf.memoryKib / 1024)), iterations: info.kdf.iterations, parallelism: info.kdf.parallelism }) : "—"),
      el("dt", {}, t("settings.recovery")),
      el("dd", {}, info.recovery ? t("backup.recoveryNow", { threshold: info.recovery.threshold, shares: info.recovery.shares }) : t("settings.noRecovery")),
      el("dt", {}, t("settings.version")),
      version,
      el("dt", {}, t("settings.update")),
      update,
    ),
    passkeyPart(w, info, me),
    el("h2", {}, t("settings.dangerZone")),
    el("p", {}, el("a", { href: "#/backup" }, t("nav.backup"))),
    el("p", {}, el("a", { href: "#/erase", class: "button danger", dataset: { testid: "to-erase" } }, t("erase.title"))),
  );
}

function updateText() {
  const s = state.update || {};
  const key = `update.state.${s.state || "unknown"}`;
  return t(key, { version: s.version || "", reason: s.reason || "" });
}

function passkeyPart(w, info, me) {
  if (!passkeySupported() || typeof w.enablePasskey !== "function") return null;
  const errors = el("div", { "aria-live": "assertive", dataset: { testid: "passkey-status" } });
  const list = el("ul", { dataset: { testid: "passkeys" } });
  const showList = (passkeys) => {
    list.replaceChildren(
      ...(passkeys.length === 0
        ? [el("li", {}, t("settings.passkeysNone"))]
        : passkeys.map((p, i) => {
            const forget = el("button", { type: "button", class: "secondary", dataset: { testid: "forget-passkey" }, "aria-label": `${t("settings.forgetPasskey")} ${i + 1}` }, t("settings.forgetPasskey"));
            forget.addEventListener("click", async () => {
              showError(errors, null);
              try {
                update(await busy(forget, w.forgetPasskey(p.id)));
                announce(t("settings.passkeyForgotten"));
                errors.replaceChildren(el("p", { class: "success" }, t("settings.passkeyForgotten")));
              } catch (failure) {
                showError(errors, failure);
              }
            });
            return el("li", {}, `${t("settings.passkey")} ${i + 1} — ${t("settings.passkeyAdded", { date: formatDate(p.added) })} `, forget);
          })),
    );
  };
  let enrolled = info.passkeys || [];
  const pass = el("input", { id: "passkey-passphrase", type: "password", autocomplete: "current-password", "aria-describedby": "passkey-passphrase-hint" });
  const button = el("button", { type: "submit", class: "secondary", dataset: { testid: "enable-passkey" } }, t("settings.enablePasskey"));
  const full = el("p", { class: "hint", hidden: true }, t("settings.passkeyMax", { max: MAX_PASSKEYS }));
  const update = (passkeys) => {
    enrolled = passkeys;
    showList(passkeys);
    button.disabled = passkeys.length >= MAX_PASSKEYS;
    full.hidden = passkeys.length < MAX_PASSKEYS;
  };
  update(enrolled);
  const form = el(
    "form",
    { dataset: { testid: "passkey-form" } },
    el("div", { class: "field" }, el("label", { for: pass.id }, t("settings.passkeyPassphrase")), el("span", { class: "hint", id: "passkey-passphrase-hint" }, t("settings.passkeyPassphraseHint")), pass),
    full,
    el("div", { class: "actions" }, button),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    if (!pass.value) {
      pass.focus();
      showError(errors, { code: "invalid", message: t("settings.passkeyNeedPassphrase") });
      return;
    }
    try {
      if ((await prfOffered()) === false) throw { code: "no_prf", message: t("passkey.noPrf") };
      // The passphrase first: a mistyped one must not leave a passkey behind on the device.
      await busy(button, w.checkPassphrase(pass.value));
      const { id, salt, secret } = await enrollPasskey(me.label, enrolled.map((p) => p.id));
      try {
        update(await busy(button, w.enablePasskey(pass.value, id, salt, secret)));
      } finally {
        secret.fill(0);
      }
      pass.value = "";
      errors.replaceChildren(el("p", { class: "success" }, t("settings.passkeyOn")));
      announce(t("settings.passkeyOn"));
    } catch (failure) {
      showError(errors, failure);
      if (failure && failure.code === "wrong_passphrase") pass.select();
    }
  });
  return el(
    "section",
    {},
    el("h2", {}, t("settings.passkey")),
    el("p", {}, t("settings.passkeyText")),
    el("p", { class: "hint" }, t("settings.passkeyStays")),
    el("h3", {}, t("settings.passkeys")),
    list,
    form,
    errors,
  );
}

/** As many passkeys as the core lets one wallet have. */
const MAX_PASSKEYS = 8;
