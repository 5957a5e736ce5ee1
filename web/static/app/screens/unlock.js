// Unlock: the passphrase (Argon2id takes a second or two: a progress bar says so), or a passkey
// when one was enrolled in this wallet (its header says which, readable while locked) and the
// browser offers WebAuthn.

import { t } from "../../common/i18n.js";
import { busy, el, showError } from "../../common/ui.js";
import { continueToPending } from "../app.js";
import { kdfProgress, passkeySecret, passkeySupported } from "../passphrase.js";
import { actingAs, nextPaint, refreshIdentities, setActingAs, state } from "../state.js";

export function render() {
  const pass = el("input", { id: "unlock-passphrase", type: "password", autocomplete: "current-password", required: true, autofocus: true });
  const progress = kdfProgress();
  const errors = el("div", { "aria-live": "assertive", dataset: { testid: "unlock-error" } });
  const submit = el("button", { type: "submit", dataset: { testid: "unlock" } }, t("unlock.button"));

  async function done(wallet) {
    state.wallet = wallet;
    await refreshIdentities();
    if (!actingAs() && state.identities[0]) setActingAs(state.identities[0].did);
    continueToPending();
  }

  const form = el(
    "form",
    {},
    el("div", { class: "field" }, el("label", { for: pass.id }, t("unlock.passphrase")), pass),
    progress.node,
    errors,
    el("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    try {
      progress.show();
      await nextPaint();
      const wallet = await busy(submit, state.core.WebWallet.open(state.store, pass.value, location.origin));
      progress.hide();
      await done(wallet);
    } catch (failure) {
      progress.hide();
      showError(errors, failure);
      pass.select();
    }
  });

  const passkey = el("div", { class: "actions", hidden: true, dataset: { testid: "unlock-passkey-part" } });
  if (passkeySupported()) {
    const button = el("button", { type: "button", class: "secondary", dataset: { testid: "unlock-passkey" } }, t("unlock.passkey"));
    button.addEventListener("click", async () => {
      showError(errors, null);
      try {
        const enrolled = await state.core.WebWallet.passkeysOf(state.store);
        const { id, secret } = await passkeySecret(enrolled);
        progress.show("unlock.opening");
        await nextPaint();
        try {
          const wallet = await busy(button, state.core.WebWallet.openWithPasskey(state.store, id, secret, location.origin));
          progress.hide();
          await done(wallet);
        } finally {
          secret.fill(0);
        }
      } catch (failure) {
        progress.hide();
        showError(errors, failure);
      }
    });
    passkey.append(button);
    // Offered only when this wallet has a passkey; a store that cannot be read says so on submit.
    state.core.WebWallet.passkeysOf(state.store).then(
      (enrolled) => {
        passkey.hidden = enrolled.length === 0;
        passkey.dataset.checked = "true";
      },
      () => {},
    );
  }

  return el(
    "section",
    { dataset: { testid: "unlock-screen" } },
    el("h1", {}, t("unlock.title")),
    el("p", {}, t("unlock.intro")),
    form,
    passkey,
    el("p", { class: "hint" }, t("unlock.forgot")),
  );
}
