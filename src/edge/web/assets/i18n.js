// i18n.js — the page's words, from the catalogues id.json (Indonesian, the default) and en.json.
// Owns the language choice (kept on the device) and formatting numbers and times the way each
// language writes them. Must never show a catalogue key where a word is missing without saying so.

let lang = localStorage.getItem("custody-lang") || "id";
let words = {};

export async function load() {
  const response = await fetch(`/app/${lang}.json`);
  words = await response.json();
  document.documentElement.lang = lang;
}

export function language() {
  return lang;
}

export async function switchLanguage() {
  lang = lang === "id" ? "en" : "id";
  localStorage.setItem("custody-lang", lang);
  await load();
}

/** The word for `key`; a missing one shows as ⟦key⟧ so a test (and a reader) sees the gap. */
export function t(key) {
  return Object.prototype.hasOwnProperty.call(words, key) ? words[key] : `⟦${key}⟧`;
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(words, key);
}

export function fieldLabel(name) {
  return t(`field.${name}`);
}

export function enumLabel(value) {
  return has(`enum.${value}`) ? words[`enum.${value}`] : value;
}

/** Masses: integer milligrams shown in grams with the language's decimal mark (10,790 g). */
export function grams(mg) {
  if (mg === null || mg === undefined) return "—";
  const g = (mg / 1000).toFixed(3);
  return `${lang === "id" ? g.replace(".", ",") : g} g`;
}

/** Offsets of Indonesia's three zones from UTC, in minutes. */
export const ZONES = { WIB: 420, WITA: 480, WIT: 540 };

/** A UTC instant as local time in `zone`: "Senin, 4 Agustus 2025 pukul 09.30 WIB". */
export function localTime(iso, zone = "WIB") {
  if (!iso) return "—";
  const offset = ZONES[zone] ?? 420;
  const d = new Date(Date.parse(iso) + offset * 60000);
  const days = lang === "id"
    ? ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"]
    : ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
  const months = lang === "id"
    ? ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"]
    : ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mm = String(d.getUTCMinutes()).padStart(2, "0");
  const date = `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
  return lang === "id" ? `${date} pukul ${hh}.${mm} ${zone}` : `${date} at ${hh}:${mm} ${zone}`;
}

/** `YYYY-MM-DDTHH:MM` (a datetime-local control's value) in `zone` → RFC 3339 UTC with ms. */
export function toUtc(localValue, zone = "WIB") {
  const offset = ZONES[zone] ?? 420;
  const ms = Date.parse(`${localValue}:00Z`) - offset * 60000;
  return new Date(ms).toISOString();
}

/** Now in `zone`, as a datetime-local control's value. */
export function nowLocal(zone = "WIB") {
  const offset = ZONES[zone] ?? 420;
  return new Date(Date.now() + offset * 60000).toISOString().slice(0, 16);
}
