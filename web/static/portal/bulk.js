// Bulk issuance from a CSV file: parsed and checked here row by row (every row's mistakes at
// once), then the good rows are sent in chunks to POST /issuers/{id}/credentials/bulk, each
// chunk with its own Idempotency-Key. A progress bar and a live count follow the chunks; the
// report lists every row: issued, refused by the service (its per-item problem) or not sent
// (the local check's reason), and can be downloaded as CSV beside the issued credentials.

import { idempotencyKey } from "../common/api.js";
import { t } from "../common/i18n.js";
import { announce, busy, clear, download, el, failureMessage, scrollRegion, showError } from "../common/ui.js";
import { parseCsv, toCsv, withHeader } from "./csv.js";
import { FIELDS, REQUIRED, buildResidence } from "./residence.js";
import { field } from "./session.js";

/** Items per request: well under the service's default limit of 500. */
export const CHUNK = 50;

function columnsTable() {
  return scrollRegion(
    null,
    el(
      "table",
      { dataset: { testid: "bulk-columns" } },
      el("caption", {}, t("bulk.columnsCaption")),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("bulk.column")), el("th", { scope: "col" }, t("bulk.required")), el("th", { scope: "col" }, t("bulk.meaning")))),
      el(
        "tbody",
        {},
        FIELDS.map((name) =>
          el("tr", {}, el("th", { scope: "row" }, el("code", {}, name)), el("td", {}, REQUIRED.includes(name) ? t("portal.yes") : t("portal.no")), el("td", {}, t(`bulk.col.${name}`))),
        ),
      ),
    ),
  );
}

/** Reads the file into rows: [{row, subject, credential, problems}] or throws a user-facing Error. */
export function rowsFromCsv(text, issuerDid) {
  const { columns, records } = withHeader(parseCsv(text));
  const missing = REQUIRED.filter((name) => !columns.includes(name));
  if (missing.length) throw new Error(t("bulk.missingColumns", { columns: missing.join(", ") }));
  const unknown = columns.filter((name) => name && !FIELDS.includes(name));
  return {
    unknown,
    rows: records.map(({ row, values, extra }) => {
      const built = buildResidence(values, issuerDid);
      const problems = built.problems.map((p) => `${p.field}: ${t(p.key, p.params)}`);
      if (extra) problems.push(t("bulk.extraCells"));
      return { row, subject: values.subject || "", credential: problems.length ? null : built.credential, problems };
    }),
  };
}

export function renderBulk(container, { session, issuer }) {
  clear(container);
  const fileField = field("bulk.file", { type: "file", accept: ".csv,text/csv" }, "bulk.fileHint");
  const errors = el("div", { "aria-live": "assertive" });
  const preview = el("div", {});
  container.append(
    el(
      "section",
      { "aria-labelledby": "bulk-title", class: "stack" },
      el("h2", { id: "bulk-title" }, t("bulk.title")),
      el("p", {}, t("bulk.intro", { issuer: issuer.name })),
      columnsTable(),
      el("p", { class: "hint" }, t("bulk.rowsHint")),
      el("p", {}, el("a", { href: "/portal/residence-template.csv", download: "residence-template.csv", class: "button secondary" }, t("bulk.template"))),
      fileField.field,
      errors,
      preview,
    ),
  );
  fileField.input.addEventListener("change", async () => {
    showError(errors, null);
    clear(preview);
    const file = fileField.input.files && fileField.input.files[0];
    if (!file) return;
    let parsed;
    try {
      parsed = rowsFromCsv(await file.text(), issuer.did);
    } catch (failure) {
      showError(errors, { message: failure.message });
      return;
    }
    renderPreview(preview, { session, issuer, parsed, fileName: file.name });
  });
}

function renderPreview(container, { session, issuer, parsed, fileName }) {
  const { rows, unknown } = parsed;
  const good = rows.filter((r) => r.credential);
  const bad = rows.length - good.length;
  const start = el("button", { type: "button", class: "primary", disabled: good.length === 0 }, t("bulk.start", { count: good.length }));
  const progress = el("progress", { max: String(Math.max(rows.length, 1)), value: "0", id: "bulk-progress", dataset: { testid: "bulk-progress" }, "aria-describedby": "bulk-count" });
  const count = el("p", { id: "bulk-count", role: "status", "aria-live": "polite", dataset: { testid: "bulk-count" } });
  const errors = el("div", { "aria-live": "assertive" });
  const report = el("div", {});
  container.append(
    el(
      "section",
      { class: "stack", "aria-labelledby": "bulk-preview-title" },
      el("h3", { id: "bulk-preview-title" }, t("bulk.previewTitle", { file: fileName })),
      el("p", {}, t("bulk.previewCounts", { rows: rows.length, good: good.length, bad })),
      unknown.length ? el("p", { class: "warning" }, t("bulk.unknownColumns", { columns: unknown.join(", ") })) : null,
      el("div", { class: "actions" }, start),
      el("label", { for: "bulk-progress" }, t("bulk.progress")),
      progress,
      count,
      errors,
      report,
    ),
  );
  const outcomes = new Map(); // row number → {ok, detail, credential}
  for (const r of rows) if (!r.credential) outcomes.set(r.row, { ok: false, detail: t("bulk.notSent", { reasons: r.problems.join("; ") }) });
  const showCount = (done) => {
    progress.value = done;
    const issued = [...outcomes.values()].filter((o) => o.ok).length;
    count.textContent = t("bulk.count", { done, total: rows.length, issued, failed: done - issued });
  };
  showCount(bad);

  start.addEventListener("click", async () => {
    start.disabled = true;
    showError(errors, null);
    const run = async () => {
      for (let i = 0; i < good.length; i += CHUNK) {
        const chunk = good.slice(i, i + CHUNK);
        try {
          const answer = await session.call("POST", `/issuers/${encodeURIComponent(issuer.id)}/credentials/bulk`, {
            body: { credentials: chunk.map((r) => r.credential) },
            idempotencyKey: idempotencyKey(),
          });
          for (const item of answer.results || []) {
            const r = chunk[item.index];
            if (!r) continue;
            if (item.verifiableCredential) outcomes.set(r.row, { ok: true, detail: item.verifiableCredential.id, credential: item.verifiableCredential });
            else outcomes.set(r.row, { ok: false, detail: item.problem ? `${item.problem.code}: ${item.problem.detail}` : t("bulk.noAnswer") });
          }
          for (const r of chunk) if (!outcomes.has(r.row)) outcomes.set(r.row, { ok: false, detail: t("bulk.noAnswer") });
        } catch (failure) {
          for (const r of chunk) outcomes.set(r.row, { ok: false, detail: failureMessage(failure) });
          if (failure && failure.status === 401) {
            showError(errors, failure);
            break;
          }
        }
        showCount(bad + Math.min(i + CHUNK, good.length));
      }
    };
    await busy(start, run());
    start.disabled = true;
    showCount(outcomes.size);
    renderReport(report, rows, outcomes);
    const issued = [...outcomes.values()].filter((o) => o.ok).length;
    announce(t("bulk.finished", { issued, failed: rows.length - issued }));
  });
}

function renderReport(container, rows, outcomes) {
  clear(container);
  const lines = rows.map((r) => {
    const o = outcomes.get(r.row) || { ok: false, detail: t("bulk.noAnswer") };
    return { row: r.row, subject: r.subject, ok: o.ok, detail: o.detail, credential: o.credential };
  });
  const issued = lines.filter((l) => l.ok).map((l) => l.credential);
  const csv = () => toCsv([["row", "subject", "result", "detail"], ...lines.map((l) => [l.row, l.subject, l.ok ? "issued" : "failed", l.detail])]);
  container.append(
    el("h3", { id: "bulk-report-title" }, t("bulk.reportTitle")),
    el(
      "div",
      { class: "actions" },
      el("button", { type: "button", class: "secondary", dataset: { testid: "bulk-report-csv" }, onclick: () => download("bulk-report.csv", csv(), "text/csv") }, t("bulk.downloadReport")),
      el(
        "button",
        {
          type: "button",
          class: "secondary",
          disabled: issued.length === 0,
          dataset: { testid: "bulk-credentials-json" },
          onclick: () => download("issued-credentials.json", JSON.stringify(issued, null, 2), "application/json"),
        },
        t("bulk.downloadCredentials", { count: issued.length }),
      ),
    ),
    scrollRegion(
      null,
      el(
        "table",
        { dataset: { testid: "bulk-report" }, "aria-labelledby": "bulk-report-title" },
        el("thead", {}, el("tr", {}, ["bulk.row", "bulk.subject", "bulk.result", "bulk.detail"].map((key) => el("th", { scope: "col" }, t(key))))),
        el(
          "tbody",
          {},
          lines.map((l) =>
            el(
              "tr",
              { dataset: { row: String(l.row), result: l.ok ? "issued" : "failed" } },
              el("td", {}, String(l.row)),
              el("td", { class: "mono" }, l.subject),
              el("td", {}, el("span", { class: l.ok ? "badge ok" : "badge danger" }, l.ok ? t("bulk.issued") : t("bulk.failed"))),
              el("td", { class: l.ok ? "mono" : "" }, l.detail),
            ),
          ),
        ),
      ),
    ),
  );
}
