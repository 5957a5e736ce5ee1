// Who saw what: each presentation with its verifier, policy, time, what was disclosed and the
// outcome.

import { t, hasTranslation } from "../../common/i18n.js";
import { formatDateTime } from "../../common/format.js";
import { el } from "../../common/ui.js";
import { field, wallet } from "../state.js";
import { did, factName, printable } from "../view.js";

export async function render() {
  const records = await wallet().log();
  return el(
    "section",
    {},
    el("h1", {}, t("log.title")),
    el("p", {}, t("log.intro")),
    records.length
      ? el(
          "ol",
          { class: "cards", dataset: { testid: "log" } },
          [...records].reverse().map((r) => {
            const outcome = field(r, "outcome");
            return el(
              "li",
              { class: "card", dataset: { testid: "log-entry" } },
              el("h2", { class: "h3" }, formatDateTime(field(r, "presented"))),
              el(
                "dl",
                { class: "fields" },
                el("dt", {}, t("log.verifier")),
                el("dd", {}, did(field(r, "verifier"))),
                el("dt", {}, t("log.policy")),
                el("dd", {}, field(r, "policy") ? [el("code", {}, printable(field(r, "policy"))), " ", t("present.version", { version: printable(field(r, "policyVersion") || "") })] : t("log.noPolicy")),
                el("dt", {}, t("log.outcome")),
                el("dd", {}, outcome ? (hasTranslation(`outcome.${outcome}`) ? t(`outcome.${outcome}`) : printable(outcome)) : t("log.noAnswer")),
                el("dt", {}, t("log.disclosed")),
                el(
                  "dd",
                  {},
                  el(
                    "ul",
                    {},
                    (field(r, "disclosed") || []).map((d) => el("li", {}, factName(field(d, "factType")), " — ", t("present.from"), " ", did(field(d, "issuer")))),
                  ),
                ),
              ),
            );
          }),
        )
      : el("p", { class: "meta", dataset: { testid: "log" } }, t("log.none")),
  );
}
