// CSV as RFC 4180 writes it (and as spreadsheets export it): fields separated by commas, quoted
// with double quotes when they hold commas, quotes or line breaks, a doubled quote inside a quoted
// field, CRLF or LF line ends, and an optional UTF-8 byte order mark. Pure functions, no DOM.

/** Parses CSV text into rows of strings. Throws an Error with `line` for an unterminated quote. */
export function parseCsv(text) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let quoteLine = 0;
  let i = 0;
  const endField = () => {
    row.push(field);
    field = "";
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i += 1;
        continue;
      }
      if (c === "\n") line += 1;
      field += c;
      i += 1;
      continue;
    }
    if (c === '"' && field === "") {
      quoted = true;
      quoteLine = line;
      i += 1;
    } else if (c === ",") {
      endField();
      i += 1;
    } else if (c === "\r" && text[i + 1] === "\n") {
      endRow();
      line += 1;
      i += 2;
    } else if (c === "\n" || c === "\r") {
      endRow();
      line += 1;
      i += 1;
    } else {
      field += c;
      i += 1;
    }
  }
  if (quoted) {
    const error = new Error(`unterminated quoted field starting on line ${quoteLine}`);
    error.line = quoteLine;
    throw error;
  }
  if (field !== "" || row.length > 0) endRow();
  // Blank lines (a trailing newline, an empty line between records) are no records.
  return rows.filter((r) => !(r.length === 1 && r[0].trim() === ""));
}

/** One CSV field, quoted when it needs to be. */
export function csvField(value) {
  const text = value == null ? "" : String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Rows of values as CSV text with CRLF line ends (what spreadsheets expect). */
export function toCsv(rows) {
  return rows.map((row) => row.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/**
 * Rows with a header row → {columns, records: [{row, values: {column: value}}]}, where `row` is
 * the record's number counting the header as row 1 (as a spreadsheet numbers it). Column names
 * are trimmed and lower-cased; values are trimmed.
 */
export function withHeader(rows) {
  if (rows.length === 0) return { columns: [], records: [] };
  const columns = rows[0].map((name) => name.trim().toLowerCase());
  const records = rows.slice(1).map((cells, i) => {
    const values = {};
    columns.forEach((column, j) => {
      values[column] = (cells[j] ?? "").trim();
    });
    return { row: i + 2, values, extra: cells.length > columns.length };
  });
  return { columns, records };
}
