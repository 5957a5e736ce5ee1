// Answering as an attester: open a pasted link or request id, or scan its QR code (where the
// browser has BarcodeDetector); review EXACTLY what would be signed (subject, fact, each claim,
// labelled as facts.js describes the fact), state the relation (a role the fact's schema
// allows, since, a few words) and sign — or decline with a reason.

import { t } from "../../common/i18n.js";
import { formatDate } from "../../common/format.js";
import { busy, el, showError, announce } from "../../common/ui.js";
import { actingAs, field, wallet } from "../state.js";
import { did, factName, printable } from "../view.js";
import { factClaims, rolesOf } from "../facts.js";

/** What to hand the core from what was pasted or scanned: an app link's target, else the text. */
export function targetOf(text) {
  const value = String(text || "").trim();
  const marker = value.indexOf("#/answer/");
  if (marker >= 0) return decodeURIComponent(value.slice(marker + "#/answer/".length));
  return value;
}

export async function render({ param, go }) {
  if (param) return review(param, go);
  return openScreen(go);
}

function openScreen(go) {
  const input = el("input", { id: "answer-target", type: "text", autocomplete: "off", spellcheck: "false", required: true, "aria-describedby": "answer-target-hint" });
  const errors = el("div", { "aria-live": "assertive" });
  const form = el(
    "form",
    { dataset: { testid: "answer-open" } },
    el("div", { class: "field" }, el("label", { for: input.id }, t("answer.target")), el("span", { class: "hint", id: "answer-target-hint" }, t("answer.targetHint")), input),
    errors,
    el("div", { class: "actions" }, el("button", { type: "submit", dataset: { testid: "answer-open-button" } }, t("answer.open")), scanButton(input, go, errors)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const target = targetOf(input.value);
    if (!target) {
      showError(errors, { code: "invalid", message: t("answer.needTarget") });
      return;
    }
    go(`answer/${encodeURIComponent(target)}`);
  });
  return el(
    "section",
    {},
    el("h1", {}, t("answer.title")),
    el("p", {}, t("answer.intro")),
    form,
    el("p", {}, el("a", { href: "#/inbox" }, t("answer.toInbox"))),
  );
}

function scanButton(input, go, errors) {
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return null;
  const area = el("div", { class: "scanner", "aria-live": "polite" });
  const button = el("button", { type: "button", class: "secondary", dataset: { testid: "scan" } }, t("answer.scan"));
  let stream = null;
  const stop = () => {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    area.replaceChildren();
  };
  button.addEventListener("click", async () => {
    if (stream) return stop();
    try {
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      const video = el("video", { playsinline: true, muted: true, "aria-label": t("answer.camera") });
      video.srcObject = stream;
      area.replaceChildren(el("p", {}, t("answer.scanning")), video, el("button", { type: "button", class: "secondary", onclick: stop }, t("answer.stopScan")));
      await video.play();
      const tick = async () => {
        if (!stream) return;
        try {
          const codes = await detector.detect(video);
          if (codes.length) {
            const text = codes[0].rawValue;
            stop();
            input.value = text;
            go(`answer/${encodeURIComponent(targetOf(text))}`);
            return;
          }
        } catch {
          // A frame that could not be read; try the next.
        }
        setTimeout(tick, 250);
      };
      tick();
    } catch (failure) {
      stop();
      showError(errors, { code: "invalid", message: t("answer.cameraFailed", { reason: (failure && failure.message) || "" }) });
    }
  });
  // The scanner area sits after the button row.
  queueMicrotask(() => button.closest("form") && button.closest("form").append(area));
  return button;
}

async function review(target, go) {
  const w = wallet();
  const view = await w.review(target, actingAs());
  const factType = field(view, "factType");
  const claims = field(view, "claims");
  const subject = field(view, "subject");
  const note = field(view, "note");
  const roles = rolesOf(factType);

  const role = el("select", { id: "role", required: true }, el("option", { value: "" }, t("answer.chooseRole")), roles.map((r) => el("option", { value: r }, t(`role.${r}`))));
  const since = el("input", { id: "relation-since", type: "date" });
  const description = el("textarea", { id: "relation-note", rows: 2, "aria-describedby": "relation-note-hint" });
  const reason = el("textarea", { id: "decline-reason", rows: 2 });
  const errors = el("div", { "aria-live": "assertive", dataset: { testid: "answer-error" } });
  const result = el("div", { "aria-live": "polite", dataset: { testid: "answer-result" } });
  const sign = el("button", { type: "submit", dataset: { testid: "sign" } }, t("answer.sign"));
  const decline = el("button", { type: "button", class: "danger", dataset: { testid: "decline" } }, t("answer.decline"));

  const signForm = el(
    "form",
    { dataset: { testid: "sign-form" } },
    el("h2", {}, t("answer.yourRelation")),
    el("div", { class: "field" }, el("label", { for: role.id }, t("answer.role")), role),
    el("div", { class: "field" }, el("label", { for: since.id }, t("answer.since")), since),
    el("div", { class: "field" }, el("label", { for: description.id }, t("answer.relationNote")), el("span", { class: "hint", id: "relation-note-hint" }, t("answer.relationNoteHint")), description),
    el("div", { class: "actions" }, sign),
  );
  const declineForm = el(
    "form",
    { dataset: { testid: "decline-form" } },
    el("h2", {}, t("answer.declineTitle")),
    el("div", { class: "field" }, el("label", { for: reason.id }, t("answer.reason")), reason),
    el("div", { class: "actions" }, decline),
  );

  const done = (message) => {
    signForm.hidden = true;
    declineForm.hidden = true;
    result.replaceChildren(el("p", { class: "success", dataset: { testid: "answer-done" } }, message), el("p", {}, el("a", { href: "#/inbox" }, t("answer.toInbox"))));
    announce(message);
  };

  signForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(errors, null);
    if (!role.value) {
      role.setAttribute("aria-invalid", "true");
      role.focus();
      showError(errors, { code: "invalid", message: t("answer.needRole") });
      return;
    }
    role.removeAttribute("aria-invalid");
    // `reviewed` is what was shown: the core signs only if the request still asks exactly that.
    const relation = { role: role.value, suite: "rdfc", reviewed: view };
    if (since.value) relation.since = since.value;
    if (description.value.trim()) relation.description = description.value.trim();
    try {
      await busy(sign, w.attestSign(target, relation, actingAs()));
      done(t("answer.signed"));
    } catch (failure) {
      showError(errors, failure);
    }
  });
  decline.addEventListener("click", async () => {
    showError(errors, null);
    try {
      await busy(decline, w.attestDecline(target, reason.value.trim() || undefined, actingAs()));
      done(t("answer.declined"));
    } catch (failure) {
      showError(errors, failure);
    }
  });

  return el(
    "section",
    { dataset: { testid: "review" } },
    el("h1", {}, t("answer.reviewTitle")),
    el("p", {}, t("answer.reviewIntro", { fact: factName(factType) })),
    el(
      "dl",
      { class: "fields", dataset: { testid: "review-fields" } },
      el("dt", {}, t("answer.subject")),
      el("dd", {}, did(subject, "review-subject")),
      el("dt", {}, t("answer.fact")),
      el("dd", { dataset: { testid: "review-fact" } }, factName(factType)),
      field(view, "expires") ? [el("dt", {}, t("answer.expires")), el("dd", {}, formatDate(field(view, "expires")))] : null,
      note ? [el("dt", {}, t("answer.theirNote")), el("dd", { class: "quote" }, printable(note))] : null,
    ),
    el("h2", {}, t("answer.youWouldState")),
    claims ? factClaims(factType, claims, { testid: "review-claims", exact: true }) : el("p", { class: "warning" }, t("answer.noClaims")),
    el("details", {}, el("summary", {}, t("answer.exactJson")), el("pre", { dataset: { testid: "review-json" } }, printable(JSON.stringify(claims, null, 2)))),
    claims ? signForm : null,
    declineForm,
    errors,
    result,
  );
}
