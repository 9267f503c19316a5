// keys.js — the officer's Ed25519 key in the browser (WebCrypto) and the bytes it signs.
// Owns: making a non-extractable key kept in IndexedDB, or a key file's key held in memory only;
// the key id; DSSE's PAE; signing. Must never export a private key, send it anywhere, or sign
// anything but the exact bytes it is given (the statement bytes are never re-serialised after).

const DB_NAME = "custody";
const DB_VERSION = 1;
/** A key from a file is forgotten after this long without a tap or key press (shared terminals). */
export const SESSION_IDLE_MS_MAX = 10 * 60 * 1000;

export const PAYLOAD_TYPE = "application/vnd.custody.statement+json";

let memoryKey = null; // {privateKey, publicRaw, keyid, officer, session: true}
let idleTimer = null;

export function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains("keys")) db.createObjectStore("keys");
      if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "n", autoIncrement: true });
      if (!db.objectStoreNames.contains("settings")) db.createObjectStore("settings");
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function dbOp(store, mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const req = fn(tx.objectStore(store));
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function b64(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

export function unb64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The key id custody uses: the first 8 bytes of SHA-256 of the raw public key, in hex. */
export async function keyId(publicRaw) {
  const digest = await crypto.subtle.digest("SHA-256", publicRaw);
  return hex(new Uint8Array(digest).slice(0, 8));
}

/** DSSE pre-authentication encoding: "DSSEv1 SP len(type) SP type SP len(body) SP body". */
export function pae(payloadType, payload) {
  const enc = new TextEncoder();
  const type = enc.encode(payloadType);
  const head = enc.encode(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

/** Makes this device's key: the private half can never leave WebCrypto. */
export async function generate() {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const record = { privateKey: pair.privateKey, publicRaw, keyid: await keyId(publicRaw), officer: null, created: Date.now() };
  await dbOp("keys", "readwrite", (s) => s.put(record, "device"));
  let persisted = false;
  if (navigator.storage && navigator.storage.persist) persisted = await navigator.storage.persist();
  return { ...record, persisted };
}

/** The device key, if this browser made one. */
export async function deviceKey() {
  try {
    return (await dbOp("keys", "readonly", (s) => s.get("device"))) || null;
  } catch {
    return null;
  }
}

export async function setDeviceOfficer(officer) {
  const k = await deviceKey();
  if (!k) return;
  k.officer = officer;
  await dbOp("keys", "readwrite", (s) => s.put(k, "device"));
}

export async function forgetDeviceKey() {
  await dbOp("keys", "readwrite", (s) => s.delete("device"));
}

function pemToDer(text) {
  const m = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(text);
  if (!m) throw new Error("bukan berkas PKCS#8 PEM (BEGIN PRIVATE KEY) / not a PKCS#8 PEM file");
  return unb64(m[1].replace(/\s+/g, ""));
}

/**
 * A key file's key, for this session only. A PKCS#8 v1 file carries no public key, so the key is
 * first imported extractable just long enough to read its public half (JWK `x`), then imported
 * again non-extractable; the extractable copy is dropped at once.
 */
export async function importSession(fileText, officer) {
  const der = pemToDer(fileText);
  const tmp = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", tmp);
  const x = jwk.x.replace(/-/g, "+").replace(/_/g, "/");
  const publicRaw = unb64(x + "=".repeat((4 - (x.length % 4)) % 4));
  const privateKey = await crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
  der.fill(0);
  memoryKey = { privateKey, publicRaw, keyid: await keyId(publicRaw), officer, session: true };
  touch();
  return memoryKey;
}

/** Any tap or key press keeps a session key alive; idleness forgets it. */
export function touch() {
  if (!memoryKey) return;
  clearTimeout(idleTimer);
  idleTimer = setTimeout(signOut, SESSION_IDLE_MS_MAX);
}

export function signOut() {
  memoryKey = null;
  clearTimeout(idleTimer);
  document.dispatchEvent(new CustomEvent("custody-signed-out"));
}

/** The key in use: a session key from a file first, else this device's own. */
export async function currentKey() {
  return memoryKey || (await deviceKey());
}

export async function sign(key, bytes) {
  return new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, bytes));
}

/** Adds `key`'s DSSE signature over the envelope's payload bytes, exactly as received. */
export async function signEnvelope(key, envelope) {
  const payload = unb64(envelope.payload);
  const sig = await sign(key, pae(envelope.payloadType, payload));
  const signatures = envelope.signatures.filter((s) => s.keyid !== key.keyid);
  signatures.push({ keyid: key.keyid, sig: b64(sig) });
  return { ...envelope, signatures };
}

/** The envelope of statement text: its UTF-8 bytes are the payload, signed once by `key`. */
export async function envelopeOf(key, statementText) {
  const payload = new TextEncoder().encode(statementText);
  const unsigned = { payloadType: PAYLOAD_TYPE, payload: b64(payload), signatures: [] };
  return signEnvelope(key, unsigned);
}
