// Calls to the service's API (same origin, relative paths). Errors are the service's RFC 9457
// problems ({code, title, detail}); they become ApiFailure {status, code, message}.

export class ApiFailure extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.name = "ApiFailure";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** api("POST", "/credentials/issue", {token, body, idempotencyKey}) → the JSON answer (null when empty). */
export async function api(method, path, { token, body, idempotencyKey, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json, application/problem+json", ...headers }, redirect: "error" };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (idempotencyKey) init.headers["Idempotency-Key"] = idempotencyKey;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    throw new ApiFailure(0, "network", e && e.message ? e.message : "The service could not be reached.");
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const problem = data && typeof data === "object" ? data : {};
    const inner = problem.error && typeof problem.error === "object" ? problem.error : {};
    const code = problem.code ?? inner.code ?? `http_${response.status}`;
    const message = problem.detail ?? inner.message ?? problem.title ?? response.statusText;
    throw new ApiFailure(response.status, code, message, problem);
  }
  return data;
}

/** A fresh random Idempotency-Key. */
export function idempotencyKey() {
  return crypto.randomUUID();
}
