// api.js — talking to the custody server from the page: signed reads (RFC 9421, the same
// components and parameters as the command line), envelopes posted as-is, signed requests to the
// subject register, and the outbox of signed envelopes kept while the server cannot be reached.
// Must never change an envelope's payload after it was signed, and never drop an envelope the
// server has not answered.

import { language, t } from "./i18n.js";
import { b64, currentKey, dbOp, pae, sign } from "./keys.js";

const COMPONENTS = ['"@method"', '"@authority"', '"@path"', '"@query"'];
const SUBJECT_REQUEST_TYPE = "application/vnd.custody.subject-request+json";

/** A server's words in the page's language (`messages`, `{id, en}`), else its English `message`. */
export function inLanguage(messages, message) {
  return (messages && typeof messages === "object" && messages[language()]) || message;
}

/** A server's refusal: `messages` keeps both languages, `message` is the page's. */
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(inLanguage(e.messages, e.message) || `HTTP ${status}`);
    this.status = status;
    this.code = e.code;
    this.field = e.field;
    this.messages = e.messages;
  }
}

export class Offline extends Error {}

/** Whether the last request reached the server (a phone can be "online" with the server down). */
export let reachable = true;

function nonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return b64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The Signature-Input and Signature headers for `method url` (RFC 9421 §2.5). */
export async function signatureHeaders(key, method, url) {
  const u = new URL(url, location.href);
  const created = Math.floor(Date.now() / 1000);
  const params = `(${COMPONENTS.join(" ")});created=${created};keyid="${key.keyid}";alg="ed25519";nonce="${nonce()}"`;
  const base =
    `"@method": ${method}\n` +
    `"@authority": ${u.host.toLowerCase()}\n` +
    `"@path": ${u.pathname || "/"}\n` +
    `"@query": ?${u.search.replace(/^\?/, "")}\n` +
    `"@signature-params": ${params}`;
  const sig = await sign(key, new TextEncoder().encode(base));
  return { "signature-input": `custody=${params}`, signature: `custody=:${b64(sig)}:` };
}

async function send(method, path, { body, signed = true, raw = false, contentType, accept } = {}) {
  const headers = {};
  if (accept) headers.accept = accept;
  if (signed) {
    const key = await currentKey();
    if (!key) throw new ApiError(401, { error: { message: t("error.nokey") } });
    Object.assign(headers, await signatureHeaders(key, method, path));
  }
  if (body !== undefined) headers["content-type"] = contentType || "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: "no-store" });
    reachable = true;
  } catch {
    reachable = false;
    throw new Offline(path);
  }
  if (raw) {
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
    return response;
  }
  const text = await response.text();
  let value = null;
  try {
    value = text ? JSON.parse(text) : null;
  } catch {
    value = { error: { message: text } };
  }
  if (!response.ok) throw new ApiError(response.status, value);
  return value;
}

export const get = (path) => send("GET", path);
export const getPublic = (path) => send("GET", path, { signed: false });
export const post = (path, value, signed = true) => send("POST", path, { body: JSON.stringify(value), signed });
export const del = (path) => send("DELETE", path);
export const putBlob = (path, bytes, type) => send("PUT", path, { body: bytes, contentType: type });
export const getBlob = (path) => send("GET", path, { raw: true });
/** A list route's answer as CSV (the server turns its JSON into rows, the same as `--csv`). */
export const getCsv = (path) => send("GET", path, { raw: true, accept: "text/csv" }).then((r) => r.blob());

/** JSON with every object's keys sorted and no spaces: what serde_json writes for a value. */
export function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A signed request to the subject register (FORMAT.md §17.6); answers the server's reply. */
export async function subjectRequest(path, request) {
  const key = await currentKey();
  const r = { ...request, officer: key.officer, at: Math.floor(Date.now() / 1000) };
  const sig = await sign(key, pae(SUBJECT_REQUEST_TYPE, new TextEncoder().encode(canonical(r))));
  return post(path, { request: r, sig: b64(sig) }, false);
}

/** Posts an envelope; answers the receipt. Throws Offline when the server cannot be reached. */
export function submitEnvelope(envelope) {
  return post("/v1/statements", envelope, false);
}

// ---- the outbox: signed envelopes waiting for the server, in the order they were signed ----

export async function queue(envelope, summary) {
  await dbOp("outbox", "readwrite", (s) => s.add({ envelope, summary, state: "waiting", at: Date.now() }));
  document.dispatchEvent(new CustomEvent("custody-outbox"));
  if (navigator.serviceWorker && navigator.serviceWorker.controller) {
    navigator.serviceWorker.controller.postMessage({ kind: "outbox" });
  }
}

export function queued() {
  return dbOp("outbox", "readonly", (s) => s.getAll());
}

let flushing = null;

/**
 * Sends waiting envelopes oldest first and stops at the first that cannot be sent (the order of
 * acts on one item matters). The server answers the same statement id once, so an envelope sent
 * twice (a reply lost on the way back) is "already recorded", never a second entry.
 */
export function flush() {
  if (!flushing) flushing = flushOnce().finally(() => (flushing = null));
  return flushing;
}

async function flushOnce() {
  const results = [];
  for (const entry of await queued()) {
    if (entry.state !== "waiting") continue;
    try {
      const receipt = await submitEnvelope(entry.envelope);
      await dbOp("outbox", "readwrite", (s) => s.delete(entry.n));
      results.push({ entry, receipt });
    } catch (e) {
      if (e instanceof Offline || (e instanceof ApiError && (e.status >= 500 || e.status === 429))) break;
      entry.state = "rejected";
      entry.error = e.message;
      // Both languages, so the outbox shows the refusal in whichever the page speaks later.
      if (e.messages) entry.messages = e.messages;
      await dbOp("outbox", "readwrite", (s) => s.put(entry));
      results.push({ entry, error: e.message });
    }
  }
  document.dispatchEvent(new CustomEvent("custody-outbox"));
  return results;
}
