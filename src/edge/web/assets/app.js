// app.js — the workbench's screens: the key, enrollment, scan-first item pages, a form for every
// act, co-signing drafts, the outbox, and the administrator's enrollment requests. Owns what is
// shown and in what order; the words come from i18n.js, the forms from forms.js, the key from
// keys.js and the server from api.js. Must never hold a business rule: the ledger decides, and
// its answer (recorded, refused with the field and rule) is what the officer sees.

import * as keys from "./keys.js";
import * as api from "./api.js";
import { bodyForm, showErrors } from "./forms.js";
import { enumLabel, fieldLabel, grams, language, load, localTime, nowLocal, switchLanguage, t, toUtc } from "./i18n.js";
import { readPhoto, startCamera } from "./scan.js";

const ctx = { schemas: null, types: null, officers: [], facilities: {}, me: null, key: null, zone: "WIB", english: false };
const main = () => document.getElementById("main");
/** Replaces the screen's content; lists are spread and absent parts (null, false) left out. */
const show = (...children) => main().replaceChildren(...children.flat(2).filter((c) => c !== null && c !== undefined && c !== false));
/** Item ids this device last saw as heads, for `after` when the server cannot be reached. */
const HEADS_KEY = "custody-heads";
/** Acts that may name several items at once: one statement per item, all signed in one step. */
const MULTI_ITEM_TYPES = ["custody_released", "custody_received", "stored", "seizure_notified", "lab_requested", "destroyed"];
/** Fields whose value for each further item comes from that item's own state, not the form. */
const PER_ITEM_FROM_STATE = {
  seals: (item) => item.seals,
  mass_destroyed_mg: (item) => item.net_mass_mg,
  reweigh_seq: (item) => item.weighed_seq,
};

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e[k] = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/** Shows the screen at `hash`: a new hash is routed by its hashchange; the same one again here. */
function goTo(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

/** A statement type's name in the page's language (Indonesian first, the other beside it). */
const typeName = (type) => (language() === "en" ? ctx.types[type].english : ctx.types[type].indonesian);
const typeOther = (type) => (language() === "en" ? ctx.types[type].indonesian : ctx.types[type].english);

const button = (label, onclick, cls = "") => el("button", { type: "button", class: cls, onclick, text: label });
const link = (href, label, cls = "") => el("a", { href, class: cls, text: label });

function say(kind, message) {
  const box = document.getElementById("flash");
  box.className = `flash ${kind}`;
  box.textContent = message;
  box.hidden = !message;
}

// ---- start ----

async function boot() {
  await load();
  [ctx.schemas, ctx.types] = await Promise.all([fetch("/app/schemas.json").then((r) => r.json()), fetch("/app/types.json").then((r) => r.json())]);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
    navigator.serviceWorker.addEventListener("message", (e) => e.data && e.data.kind === "flush" && api.flush());
  }
  ["click", "keydown"].forEach((e) => document.addEventListener(e, keys.touch, { passive: true }));
  document.addEventListener("custody-signed-out", () => ((ctx.key = null), goTo("#/")));
  document.addEventListener("custody-outbox", header);
  window.addEventListener("online", () => api.flush().then(header));
  window.addEventListener("offline", header);
  window.addEventListener("hashchange", route);
  setInterval(() => navigator.onLine && api.flush(), 30000);
  await route();
  api.flush().catch(() => {});
}

async function whoAmI() {
  ctx.key = await keys.currentKey();
  ctx.english = language() === "en";
  if (!ctx.key) return (ctx.me = null);
  try {
    ctx.officers = await api.get("/v1/officers");
    ctx.me = ctx.officers.find((o) => o.keys.some((k) => k.key_id === ctx.key.keyid && k.until_seq === null)) || null;
    ctx.facilities = await api.get("/v1/facilities");
    localStorage.setItem("custody-roster", JSON.stringify({ officers: ctx.officers, facilities: ctx.facilities }));
  } catch (e) {
    if (!(e instanceof api.Offline)) return (ctx.me = null);
    const cached = JSON.parse(localStorage.getItem("custody-roster") || "null");
    if (cached) Object.assign(ctx, cached);
    ctx.me = ctx.officers.find((o) => o.keys.some((k) => k.key_id === ctx.key.keyid)) || null;
  }
  if (ctx.me && ctx.key.officer !== ctx.me.id) {
    ctx.key.officer = ctx.me.id;
    if (!ctx.key.session) await keys.setDeviceOfficer(ctx.me.id);
  }
  const home = ctx.facilities[ctx.me?.facility];
  ctx.zone = (home && home.time_zone) || "WIB";
}

async function header() {
  const waiting = (await api.queued().catch(() => [])).filter((e) => e.state === "waiting").length;
  const bar = document.getElementById("bar");
  const up = navigator.onLine && api.reachable;
  bar.replaceChildren(...[
    link("#/", t("app.title"), "brand"),
    el("span", { class: up ? "online" : "offline", id: "net", text: up ? t("status.online") : t("status.offline") }),
    link("#/outbox", `${t("nav.outbox")} (${waiting})`, "outbox-count"),
    button(t("lang.switch"), async () => (await switchLanguage(), route()), "link lang"),
    ctx.key ? button(t("nav.signout"), () => (ctx.key.session ? keys.signOut() : (location.hash = "#/")), "link") : null,
  ].filter(Boolean));
}

const ROUTES = [
  [/^#\/?$/, home],
  [/^#\/key$/, keyScreen],
  [/^#\/enroll$/, enrollScreen],
  [/^#\/item\/(.+)$/, itemScreen],
  [/^#\/record$/, chooseAct],
  [/^#\/record\/([a-z_]+)(?:\?(.*))?$/, recordScreen],
  [/^#\/drafts$/, draftsScreen],
  [/^#\/draft\/(.+)$/, draftScreen],
  [/^#\/outbox$/, outboxScreen],
  [/^#\/deadlines$/, deadlinesScreen],
  [/^#\/holdings$/, holdingsScreen],
  [/^#\/holdings\/(officer|unit)\/(.+)$/, holderScreen],
  [/^#\/search(?:\?(.*))?$/, searchScreen],
  [/^#\/incident\/(.+)$/, incidentScreen],
  [/^#\/person\/(.+)$/, personScreen],
  [/^#\/stocktake$/, stocktakeScreen],
  [/^#\/requests$/, requestsScreen],
];

let renders = 0;

async function route() {
  say("", "");
  await whoAmI();
  await header();
  const hash = location.hash || "#/";
  for (const [re, screen] of ROUTES) {
    const m = re.exec(hash);
    if (m) {
      show(el("p", { class: "muted", text: "…" }));
      try {
        await screen(...m.slice(1).map((x) => (x === undefined ? x : decodeURIComponent(x))));
      } catch (e) {
        say("bad", e instanceof api.Offline ? t("error.network") : e.message);
      }
      // Which rendering of a screen this is, so that a reader (a test, a screen reader's user)
      // can tell the new screen from the one it replaced.
      main().dataset.ready = String(++renders);
      return;
    }
  }
  location.hash = "#/";
}

// ---- home, key and enrollment ----

async function home() {
  if (!ctx.key) return keyScreen();
  if (!ctx.me) return enrollScreen();
  const isAdmin = ctx.me.roles.includes("admin");
  show(
    el("h1", { text: `${ctx.me.name} (NIP ${ctx.me.id})` }),
    scanBox(),
    el("nav", { class: "tiles" },
      link("#/record", t("nav.record"), "tile"),
      link("#/drafts", t("nav.drafts"), "tile"),
      link("#/outbox", t("nav.outbox"), "tile"),
      link("#/deadlines", t("nav.deadlines"), "tile"),
      link("#/holdings", t("nav.holdings"), "tile"),
      link("#/search", t("nav.search"), "tile"),
      link("#/stocktake", t("nav.stocktake"), "tile"),
      isAdmin ? link("#/requests", t("nav.requests"), "tile") : null),
    el("p", { class: "muted", text: `${t("key.id")} ${ctx.key.keyid}${ctx.key.session ? " · " + t("key.session") : ""}` }),
  );
}

function scanBox() {
  const input = el("input", { id: "scan", type: "text", autocomplete: "off", autocapitalize: "characters", enterkeyhint: "go" });
  const open = () => input.value.trim() && (location.hash = `#/item/${encodeURIComponent(input.value.trim().toUpperCase())}`);
  input.onkeydown = (e) => e.key === "Enter" && open();
  const video = el("video", { class: "camera", hidden: true, playsinline: true, muted: true });
  const cam = button(t("scan.camera"), async () => {
    try {
      await startCamera(video, (text) => ((input.value = text), open()));
    } catch {
      say("warn", t("scan.unsupported"));
    }
  }, "secondary");
  const photo = el("input", { id: "scan-photo", type: "file", accept: "image/*", capture: "environment" });
  photo.onchange = async () => {
    const label = photo.files[0] && (await readPhoto(photo.files[0]));
    if (!label) return say("warn", t("scan.nolabel"));
    input.value = label;
    open();
  };
  return el("div", { class: "scan" },
    el("label", { for: "scan", text: t("scan.label") }),
    el("div", { class: "row" }, input, button(t("scan.open"), open), cam),
    el("label", { for: "scan-photo", class: "small", text: t("scan.photo") }), photo,
    video);
}

async function keyScreen() {
  const officer = el("input", { id: "import-officer", type: "text", inputmode: "numeric" });
  const file = el("input", { id: "import-file", type: "file", accept: ".pem,.key,application/x-pem-file" });
  const importKey = async () => {
    const f = file.files[0];
    if (!f) return say("bad", `${t("key.import.file")}: ${t("form.required")}`);
    try {
      await keys.importSession(await f.text(), officer.value.trim());
      goTo("#/");
    } catch (e) {
      say("bad", e.message);
    }
  };
  const generate = async () => {
    const k = await keys.generate();
    if (!k.persisted) say("warn", t("key.persist.denied"));
    goTo("#/enroll");
  };
  show(
    el("h1", { text: t("app.title") }),
    el("p", { text: t("key.none") }),
    button(t("key.generate"), generate, "primary"),
    el("details", {},
      el("summary", { text: t("key.import") }),
      el("p", { class: "muted", text: t("key.session") }),
      el("label", { for: "import-officer", text: t("key.import.officer") }), officer,
      el("label", { for: "import-file", text: t("key.import.file") }), file,
      button(t("key.import.go"), importKey, "primary")),
  );
}

async function enrollScreen() {
  if (!ctx.key) return keyScreen();
  if (ctx.me) return home();
  const pending = JSON.parse(localStorage.getItem("custody-enroll") || "null");
  if (pending && pending.keyid === ctx.key.keyid) return showEnrollCode(pending.code);
  const schema = ctx.schemas.common.$defs.officer;
  const { public_key: _pk, ...properties } = schema.properties;
  const form = bodyForm({ ...ctx, schemas: { ...ctx.schemas, types: { _enroll: { properties: { officer: { ...schema, properties, required: schema.required.filter((r) => r !== "public_key") } }, required: ["officer"] } } } }, "_enroll");
  const facility = el("input", { id: "enroll-facility", type: "text", autocapitalize: "characters" });
  const send = async () => {
    const { body, errors } = await form.read();
    if (!facility.value.trim()) errors.push({ path: "facility", message: t("form.required") });
    if (errors.length) return showErrors(main(), errors);
    const publicKey = keys.b64(ctx.key.publicRaw);
    const pop = keys.b64(await keys.sign(ctx.key, new TextEncoder().encode(`custody-enrollment-request:v1 ${body.officer.id} ${publicKey}`)));
    try {
      const answer = await api.post("/v1/enrollment-requests", { officer: body.officer, public_key: publicKey, facility: facility.value.trim().toUpperCase(), pop }, false);
      localStorage.setItem("custody-enroll", JSON.stringify({ keyid: ctx.key.keyid, code: answer.code }));
      showEnrollCode(answer.code);
    } catch (e) {
      showErrors(main(), [{ path: e.field ? `officer/${e.field.replace(/^officer\//, "")}` : "", message: e.message }]);
      say("bad", e.message);
    }
  };
  show(
    el("h1", { text: t("enroll.title") }),
    el("p", { class: "muted", text: `${t("key.id")} ${ctx.key.keyid}` }),
    form.element,
    el("div", { class: "field", "data-field": "facility" }, el("label", { for: "enroll-facility", text: fieldLabel("facility") }), facility, el("div", { class: "error" })),
    el("div", { class: "form-errors" }),
    button(t("enroll.send"), send, "primary"),
  );
}

function showEnrollCode(code) {
  show(
    el("h1", { text: t("enroll.title") }),
    el("p", { text: t("enroll.code") }),
    el("p", { class: "code", id: "enroll-code", text: code }),
    el("img", { class: "qr", alt: code, src: `/app/qr.svg?t=${encodeURIComponent(`custody-enroll:${code}`)}` }),
    el("p", { class: "muted", text: t("enroll.wait") }),
  );
  setTimeout(() => location.hash === "#/enroll" && route(), 5000);
}

// ---- items ----

/**
 * Remembers what this device last saw of an item: its head (for `after`) and the state a
 * several-item act reads (seals, mass, weighing), so an act can be signed while offline.
 */
function rememberHead(id, head, item = null) {
  const heads = JSON.parse(localStorage.getItem(HEADS_KEY) || "{}");
  const known = heads[id] || {};
  heads[id] = item ? { head, seals: item.seals, net_mass_mg: item.net_mass_mg, weighed_seq: item.weighed_seq } : { ...known, head };
  localStorage.setItem(HEADS_KEY, JSON.stringify(heads));
}

async function findItem(label) {
  try {
    const item = await api.get(`/v1/items/${encodeURIComponent(label)}`);
    rememberHead(item.id, item.head, item);
    return item;
  } catch (e) {
    if (!(e instanceof api.ApiError) || e.status !== 404) throw e;
  }
  const items = await api.get("/v1/items");
  const list = Array.isArray(items) ? items : items.items || [];
  const bySeal = list.find((i) => (i.seals || []).includes(label));
  return bySeal ? findItem(bySeal.id) : null;
}

/** The acts that make sense next for an item in this status (the ledger still decides). */
function nextActs(item) {
  if (item.status === "in_transit") return ["custody_received", "lab_received", "note_added"];
  if (item.status !== "held") return ["note_added", "correction"];
  const acts = ["item_sealed", "weighed", "custody_released", "seizure_recorded", "sample_set_aside", "seizure_notified", "lab_requested", "stored", "checked_out", "returned", "destroyed", "note_added"];
  return item.lab ? ["lab_result", ...acts] : acts;
}

async function itemScreen(label) {
  const item = await findItem(label);
  if (!item) return show(el("h1", { text: t("item.notfound") }), el("p", { class: "code", text: label }), scanBox());
  const history = await api.get(`/v1/items/${encodeURIComponent(item.id)}/history`).catch(() => ({ events: [] }));
  const audit = await api.get(`/v1/items/${encodeURIComponent(item.id)}/audit`).catch(() => ({ findings: [], deadlines: [] }));
  const dl = el("dl", { class: "facts" });
  const fact = (k, v) => dl.append(el("dt", { text: k }), el("dd", { text: v ?? "—" }));
  fact(t("item.status"), enumLabel(item.status));
  fact(t("item.holder"), item.holder ? `${item.holder_name || ""} (NIP ${item.holder})` : item.unit);
  fact(t("item.seals"), (item.seals || []).join(", ") || "—");
  fact(t("item.mass"), grams(item.net_mass_mg));
  fact(fieldLabel("description"), item.description);
  const acts = nextActs(item).map((type) => link(`#/record/${type}?item=${encodeURIComponent(item.id)}`, typeName(type), "tile small"));
  const events = (history.events || []).map((ev) => el("li", {},
    el("strong", { text: `#${ev.seq} ${ev.indonesian}` }), el("br"),
    el("span", { class: "muted", text: localTime(ev.occurred_at, ctx.zone) }), el("br"),
    el("span", { text: eventLine(ev) }), el("br"),
    el("span", { class: "muted", text: (ev.signers || []).map((s) => `${enumLabel(s.role)}: ${s.name} (${s.officer})`).join("; ") })));
  const preview = el("img", { class: "label-preview", alt: `${t("item.labels")}: ${item.id}` });
  api.getBlob(`/v1/items/${encodeURIComponent(item.id)}/label.svg`)
    .then((r) => r.blob())
    .then((b) => (preview.src = URL.createObjectURL(b)))
    .catch(() => preview.remove());
  show(
    el("h1", { class: "code", text: item.id }),
    preview,
    dl,
    button(t("item.labels"), () => openSigned(`/v1/items/${encodeURIComponent(item.id)}/label.svg`), "secondary"),
    el("h2", { text: t("item.next") }), el("nav", { class: "tiles" }, acts),
    el("h2", { text: t("item.masses") }), massHistory(item, history.events || []),
    el("h2", { text: t("item.photos") }), attachmentsOf(item),
    el("h2", { text: t("item.graph") }), custodyGraph(history.events || [], audit.findings || []),
    el("h2", { text: t("item.findings") }), findingsList(audit),
    el("h2", { text: t("item.history") }), el("ol", { class: "timeline" }, events),
  );
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text = null) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  return e;
}

/**
 * Who held the item when, from its find to now or its end: one lane per holder, a bar for each
 * time they held it, a dashed line for each handover in transit, a red mark at each act an audit
 * finding cites. Drawn from the item's history only; it adds nothing the history does not say.
 */
function custodyGraph(events, findings) {
  if (!events.length) return el("p", { text: "—" });
  const holderOf = (e) => (e.holder ? `${e.holder_name || e.holder}` : e.status === "in_transit" ? null : "—");
  const lanes = [];
  for (const e of events) {
    const h = holderOf(e);
    if (h && !lanes.includes(h)) lanes.push(h);
  }
  const times = events.map((e) => Date.parse(e.occurred_at));
  const terminal = ["destroyed", "returned", "forfeited"].includes(events[events.length - 1].status);
  const start = times[0];
  const end = Math.max(terminal ? times[times.length - 1] : Date.now(), start + 3600000);
  const [width, laneH, left, top] = [340, 26, 110, 8];
  const x = (ms) => left + ((ms - start) / (end - start)) * (width - left - 6);
  const y = (lane) => top + lane * laneH + laneH / 2;
  const graph = svg("svg", { viewBox: `0 0 ${width} ${top * 2 + lanes.length * laneH + 14}`, class: "graph", role: "img", "aria-label": t("item.graph") });
  lanes.forEach((name, i) => {
    graph.append(svg("text", { x: 2, y: y(i) + 4, "font-size": 9 }, name.length > 22 ? `${name.slice(0, 21)}…` : name));
    graph.append(svg("line", { x1: left, x2: width - 4, y1: y(i), y2: y(i), stroke: "#e1e6eb" }));
  });
  events.forEach((e, i) => {
    const h = holderOf(e);
    const from = times[i];
    const to = i + 1 < events.length ? times[i + 1] : end;
    if (h) {
      graph.append(svg("rect", { x: x(from), y: y(lanes.indexOf(h)) - 6, width: Math.max(2, x(to) - x(from)), height: 12, fill: "#17324d", rx: 2 }));
    } else {
      const prev = lanes.indexOf(holderOf(events[i - 1] || e) || lanes[0]);
      const next = lanes.indexOf(holderOf(events[i + 1] || e) || lanes[0]);
      graph.append(svg("line", { x1: x(from), x2: x(to), y1: y(Math.max(prev, 0)), y2: y(Math.max(next, 0)), stroke: "#a06b00", "stroke-dasharray": "3 2", "stroke-width": 2 }));
    }
  });
  const flagged = new Set(findings.flatMap((f) => f.seqs));
  events.forEach((e, i) => {
    if (!flagged.has(e.seq)) return;
    const lane = Math.max(0, lanes.indexOf(holderOf(e) || lanes[0]));
    graph.append(svg("circle", { cx: x(times[i]), cy: y(lane), r: 4, fill: "#b00020" }, null));
  });
  const axis = top * 2 + lanes.length * laneH + 10;
  graph.append(svg("text", { x: left, y: axis, "font-size": 8 }, localTime(events[0].occurred_at, ctx.zone).replace(/^[^,]*, /, "")));
  return el("div", { class: "graph-box", id: "custody-graph" }, graph);
}

/** The audit of an item's lot as a defence lawyer would read it: severity, class, proving acts. */
function findingsList(audit) {
  const en = language() === "en";
  const severity = { info: ["informasi", "info"], warning: ["peringatan", "warning"], serious: ["serius", "serious"], critical: ["kritis", "critical"] };
  const items = (audit.findings || []).map((f) => el("li", { class: `finding ${f.severity}` },
    el("strong", { text: `${(severity[f.severity] || [f.severity, f.severity])[en ? 1 : 0].toUpperCase()} · ${en ? f.name : f.name_id || f.name}` }), el("br"),
    el("span", { text: en ? f.english : f.indonesian }), el("br"),
    el("span", { class: "muted", text: `${t("item.proving")}: ${f.seqs.map((q) => `#${q}`).join(", ")}` })));
  const clocks = (audit.deadlines || []).map((d) => el("li", { class: d.overdue ? "overdue" : "running" },
    `${d.overdue ? t("deadlines.overdue") : t("deadlines.due")} ${localTime(d.due_at, ctx.zone)} · ${en ? d.english : d.indonesian} (${en ? d.basis : d.basis_id})`));
  if (!items.length && !clocks.length) return el("p", { id: "findings", text: t("item.nofindings") });
  return el("ul", { class: "list", id: "findings" }, items, clocks);
}

// ---- holdings: what this officer holds now ----

/** Saves `blob` as a file named `name` (the browser's download). */
function saveAs(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A button that saves the list at `path` as a CSV file named `name`, for a spreadsheet. */
function csvButton(path, name) {
  const button = el("button", { type: "button", class: "secondary", id: "csv", text: t("csv.download") });
  button.onclick = async () => saveAs(await api.getCsv(path), name);
  return button;
}

async function holdingsScreen() {
  const path = `/v1/officers/${encodeURIComponent(ctx.me.id)}/holdings`;
  const list = await api.get(path);
  const items = Array.isArray(list) ? list : list.items || [];
  show(el("h1", { text: t("nav.holdings") }), csvButton(path, `barang-dikuasai-${ctx.me.id}.csv`), items.length
    ? el("ul", { class: "list", id: "holdings" }, items.map((i) => el("li", {},
      link(`#/item/${encodeURIComponent(i.id)}`, i.id, "code small"), ` · ${enumLabel(i.status)} · ${grams(i.net_mass_mg)}`, el("br"),
      el("span", { class: "muted", text: `${i.description || ""} · ${(i.seals || []).join(", ")}` }))))
    : el("p", { id: "holdings-none", text: t("holdings.none") }));
}

// ---- what another officer, a unit or an evidence room holds ----

async function holderScreen(kind, who) {
  const name = decodeURIComponent(who);
  const path = kind === "unit" ? `/v1/units/${encodeURIComponent(name)}/holdings` : `/v1/officers/${encodeURIComponent(name)}/holdings`;
  const list = await api.get(path);
  const items = Array.isArray(list) ? list : list.items || [];
  show(el("h1", { text: `${t("holdings.of")} ${kind === "unit" ? name : (items[0] && items[0].holder_name) || name}` }),
    csvButton(path, `barang-dikuasai-${name.replace(/[^A-Za-z0-9-]+/g, "-")}.csv`),
    items.length ? itemList(items, "holder-items") : el("p", { id: "holder-none", text: t("holdings.nothing") }));
}

/** Every act that set a mass, with the masses after it; each weighing (and each act that set the
 * mass later masses rest on) carries the readability (±) of the balance it was recorded with. */
function massHistory(item, events) {
  let last = "";
  const rows = [];
  for (const ev of events) {
    const masses = `${grams(ev.gross_mass_mg)} / ${grams(ev.net_mass_mg)}`;
    if ((ev.gross_mass_mg == null && ev.net_mass_mg == null) || masses === last) continue;
    last = masses;
    const plusMinus = ev.readability_mg != null ? ` (± ${grams(ev.readability_mg)})` : "";
    rows.push(el("tr", {}, el("td", { text: `#${ev.seq}` }), el("td", { text: typeName(ev.type) }), el("td", { text: `${masses}${plusMinus}` })));
  }
  if (!rows.length) return el("p", { id: "mass-history", class: "muted", text: "—" });
  return el("table", { id: "mass-history", class: "masses" },
    el("tr", {}, el("th", { text: "#" }), el("th", { text: t("item.act") }), el("th", { text: t("item.grossnet") })), rows);
}

/** The photos (and other attachments) the item's history names, fetched with a signed read and
 * shown from memory; one that is not a picture is a button that opens it. */
function attachmentsOf(item) {
  const box = el("div", { id: "photos", class: "photos" });
  api.get(`/v1/items/${encodeURIComponent(item.id)}/attachments`).then(async (list) => {
    if (!list.length) return box.append(el("p", { class: "muted", text: t("item.nophotos") }));
    for (const a of list) {
      const blob = await (await api.getBlob(`/v1/blobs/${a.digest}`)).blob();
      const url = URL.createObjectURL(blob);
      box.append(blob.type.startsWith("image/")
        ? el("img", { src: url, alt: `#${a.seq} ${a.digest.slice(0, 12)}`, class: "photo" })
        : link(url, `#${a.seq} ${a.digest.slice(0, 12)}…`, "secondary"));
    }
  }).catch(() => box.append(el("p", { class: "muted", text: t("item.nophotos") })));
  return box;
}

/** A list of items, each a link to its page with its status, holder and the day it was found. */
function itemList(items, id) {
  return el("ul", { class: "list", id }, items.map((i) => el("li", { "data-item": i.id },
    link(`#/item/${encodeURIComponent(i.id)}`, i.id, "code small"), ` · ${enumLabel(i.status)} · ${grams(i.net_mass_mg)}`, el("br"),
    el("span", { class: "muted", text: `${i.holder_name || i.unit || "—"} · ${localTime(i.born_at, ctx.zone)}` }))));
}

// ---- search: by label, seal, incident, case, person, officer, facility and date range ----

/** Whether `item` matches every criterion given (an empty one matches everything). */
function matches(item, { q, from, to }) {
  const found = Date.parse(item.born_at);
  if (from && found < Date.parse(toUtc(`${from}T00:00`, ctx.zone))) return false;
  if (to && found >= Date.parse(toUtc(`${to}T00:00`, ctx.zone)) + 86400000) return false;
  if (!q) return true;
  const words = [item.id, item.incident, item.case, item.holder, item.holder_name, item.unit, item.description, item.facility,
    ...(item.seals || []), ...(item.persons || [])];
  return words.some((w) => w && String(w).toUpperCase().includes(q.toUpperCase()));
}

async function searchScreen(query = "") {
  const params = new URLSearchParams(query);
  const given = { q: (params.get("q") || "").trim(), facility: params.get("facility") || "", from: params.get("from") || "", to: params.get("to") || "" };
  const field = (id, type, value, label) => [el("label", { for: id, text: label }), el("input", { id, type, value, autocomplete: "off" })];
  const form = el("form", { id: "search-form" },
    ...field("search-q", "text", given.q, t("search.keyword")),
    ...field("search-facility", "text", given.facility, t("search.facility")),
    el("div", { class: "row" }, ...field("search-from", "date", given.from, t("search.from")), ...field("search-to", "date", given.to, t("search.to"))),
    el("button", { type: "submit", class: "primary", text: t("search.go") }));
  form.onsubmit = (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const [k, id] of [["q", "search-q"], ["facility", "search-facility"], ["from", "search-from"], ["to", "search-to"]]) {
      const v = document.getElementById(id).value.trim();
      if (v) next.set(k, v);
    }
    goTo(`#/search?${next}`);
  };
  if (!query) return show(el("h1", { text: t("nav.search") }), form);
  const facility = given.facility.toUpperCase();
  const items = (await api.get(facility ? `/v1/items?facility=${encodeURIComponent(facility)}` : "/v1/items")).filter((i) => matches(i, given));
  const q = given.q.toUpperCase();
  const shortcuts = [
    /^INS-/.test(q) ? link(`#/incident/${encodeURIComponent(q)}`, `${t("incident.title")} ${q}`, "tile small") : null,
    /^SUBJ-/i.test(given.q) ? link(`#/person/${encodeURIComponent(given.q.toLowerCase())}`, `${t("person.title")} ${given.q.toLowerCase()}`, "tile small") : null,
    /^\d{8}$|^\d{18}$/.test(q) ? link(`#/holdings/officer/${q}`, `${t("holdings.of")} ${q}`, "tile small") : null,
  ].filter(Boolean);
  show(el("h1", { text: t("nav.search") }), form,
    shortcuts.length ? el("nav", { class: "tiles", id: "search-shortcuts" }, shortcuts) : null,
    el("h2", { text: `${t("search.results")} (${items.length})` }),
    items.length ? itemList(items, "search-results") : el("p", { id: "search-none", text: t("search.none") }));
}

// ---- an incident and a person: every act that names them ----

/** What an act did, in the page's language: the server's Indonesian line (uraian) or the English
 * summary. */
function eventLine(ev) {
  return (language() === "en" ? ev.summary : ev.uraian || ev.summary) || "";
}

/** Events as the incident and person views list them, each with its items linked. */
function eventList(events, id) {
  return el("ul", { class: "list", id }, events.map((ev) => el("li", {},
    el("strong", { text: `#${ev.seq} ${language() === "en" ? ctx.types[ev.type].english : ev.indonesian}` }), el("br"),
    el("span", { class: "muted", text: `${localTime(ev.occurred_at, ctx.zone)} · ${ev.facility}` }), el("br"),
    el("span", { text: eventLine(ev) }), el("br"),
    ...(ev.items || []).map((i) => link(`#/item/${encodeURIComponent(i)}`, i, "code small")))));
}

/** Saves the evidence bundle of `item` (the file a prosecutor verifies offline) as a download. */
function bundleButton(item) {
  const b = button(`${t("case.bundle")} ${item}`, async () =>
    saveAs(await (await api.getBlob(`/v1/items/${encodeURIComponent(item)}/bundle`)).blob(), `${item}.bundle.json`), "secondary bundle");
  b.dataset.item = item;
  return b;
}

/** Saves the case bundle of incident `id` (every item of the case in one file the prosecutor
 * verifies offline) as a download. */
function caseBundleButton(id) {
  const b = button(t("case.casebundle"), async () =>
    saveAs(await (await api.getBlob(`/v1/incidents/${id}/bundle`)).blob(), `${decodeURIComponent(id)}.bundle.json`), "bundle");
  b.id = "case-bundle";
  return b;
}

/** An incident as a case: its items, the audit's findings over all of them, each item's bundle to
 * download, what verifying a bundle proves and what it cannot, and every act. */
async function incidentScreen(id) {
  const view = await api.get(`/v1/incidents/${id}`);
  // A reader who may not see every item of the incident gets no case audit (403): shown as such.
  const audit = await api.get(`/v1/incidents/${id}/audit`).catch(() => null);
  const items = view.items || [];
  show(el("h1", { text: `${t("incident.title")} ${decodeURIComponent(id)}` }),
    el("h2", { text: t("incident.items") }), itemList(items, "incident-items"),
    el("h2", { text: t("case.findings") }),
    audit ? el("div", { id: "incident-findings" }, findingsList(audit)) : el("p", { id: "incident-findings", class: "muted", text: t("case.noaudit") }),
    el("h2", { text: t("case.bundles") }),
    // The case bundle only for a reader who may see the whole case (who gets its audit).
    el("div", { id: "incident-bundles" }, ...(audit ? [caseBundleButton(id)] : []), ...items.map((i) => bundleButton(i.id))),
    el("p", { text: t("case.verified") }),
    el("p", { class: "muted", text: t("case.notverified") }),
    el("h2", { text: t("incident.events") }), eventList(view.events || [], "incident-events"));
}

async function personScreen(key) {
  const view = await api.get(`/v1/persons/${key}`);
  show(el("h1", { text: `${t("person.title")} ${decodeURIComponent(key)}` }),
    el("p", { class: "muted", text: t("person.register") }),
    eventList(view.events || [], "person-events"));
}

// ---- stock-take: every label on the shelf scanned, the missing and the unexpected listed ----

async function stocktakeScreen() {
  const held = await api.get(`/v1/officers/${encodeURIComponent(ctx.me.id)}/holdings`);
  const expected = (Array.isArray(held) ? held : held.items || []).map((i) => i.id);
  const found = [];
  const input = el("input", { id: "stocktake-scan", type: "text", autocomplete: "off", autocapitalize: "characters", enterkeyhint: "next" });
  const lists = el("div", { id: "stocktake" });
  const redraw = () => {
    const missing = expected.filter((id) => !found.includes(id));
    const extra = found.filter((id) => !expected.includes(id));
    const section = (key, ids, cls) => [el("h2", { text: `${t(key)} (${ids.length})` }), el("ul", { class: `list ${cls}` }, ids.map((id) => el("li", { class: "code small", text: id })))];
    lists.replaceChildren(...section("stocktake.found", found.filter((id) => expected.includes(id)), "found"), ...section("stocktake.missing", missing, "missing"), ...section("stocktake.extra", extra, "extra"));
  };
  input.onkeydown = (e) => {
    if (e.key !== "Enter") return;
    const label = input.value.trim().toUpperCase();
    if (label && !found.includes(label)) found.push(label);
    input.value = "";
    redraw();
  };
  const record = () => {
    sessionStorage.setItem("custody-prefill", JSON.stringify({
      scope: `${t("nav.holdings")}: ${ctx.me.name} (${ctx.me.id})`,
      items_found: found.filter((id) => expected.includes(id)),
      items_missing: expected.filter((id) => !found.includes(id)),
      items_extra: found.filter((id) => !expected.includes(id)),
      seals_checked: true,
    }));
    goTo("#/record/inventory_counted");
  };
  redraw();
  show(el("h1", { text: t("nav.stocktake") }), el("p", { class: "muted", text: t("stocktake.how") }),
    el("label", { for: "stocktake-scan", text: t("scan.label") }), input, lists,
    button(t("stocktake.record"), record, "primary"));
}

// ---- recording an act ----

function chooseAct() {
  const types = Object.keys(ctx.types).filter((type) => type !== "ledger_genesis" && canAct(type));
  show(el("h1", { text: t("record.choose") }), el("nav", { class: "tiles" }, types.map((type) => link(`#/record/${type}`, typeName(type), "tile small"))));
}

/** Whether this officer may take the acting role of `type` (the first signer row). */
function canAct(type) {
  const acting = ctx.types[type].signers[0];
  return ctx.me && acting.officer_roles.some((r) => ctx.me.roles.includes(r));
}

function signersSection(type) {
  const box = el("fieldset", { class: "signers", "data-field": "signers" }, el("legend", { text: t("form.signers") }));
  const pickers = [];
  ctx.types[type].signers.forEach((rule, r) => {
    const eligible = ctx.officers.filter((o) => !o.revoked_at && rule.officer_roles.some((x) => o.roles.includes(x)));
    const count = Math.max(rule.min, r === 0 ? 1 : 0);
    const addPicker = (preset) => {
      const id = `signer-${rule.role}-${pickers.filter((p) => p.role === rule.role).length}`;
      const s = el("select", { id, "data-role": rule.role }, el("option", { value: "", text: t("form.none") }), eligible.map((o) => el("option", { value: o.id, text: `${o.name} (${o.id})`, selected: o.id === preset })));
      box.insertBefore(el("div", { class: "field" }, el("label", { for: id, text: `${enumLabel(rule.role)}${r === 0 ? "" : ""}` }), s), addButtons[r]);
      pickers.push({ role: rule.role, select: s });
    };
    const addButtons = [];
    addButtons[r] = rule.max > count ? button(`+ ${enumLabel(rule.role)}`, () => addPicker(), "secondary small") : el("span");
    box.append(addButtons[r]);
    for (let i = 0; i < count; i++) addPicker(r === 0 && i === 0 ? ctx.me.id : "");
  });
  box.append(el("div", { class: "error", role: "alert" }));
  const read = () => pickers.filter((p) => p.select.value).map((p) => ({ role: p.role, officer: p.select.value }));
  return { element: box, read };
}

function commonSection() {
  const facilities = Object.keys(ctx.facilities);
  const facility = el("select", { id: "facility" }, facilities.map((f) => el("option", { value: f, text: ctx.facilities[f].name ? `${ctx.facilities[f].name} (${f})` : f, selected: f === ctx.me.facility })));
  const when = el("input", { id: "occurred_at", type: "datetime-local" });
  const zone = () => (ctx.facilities[facility.value] || {}).time_zone || ctx.zone;
  const zoneNote = el("small", { class: "hint" });
  const refresh = () => {
    when.value = when.value || nowLocal(zone());
    zoneNote.textContent = `${t("time.zone")}: ${zone()}`;
  };
  facility.onchange = refresh;
  refresh();
  const element = el("div", {},
    el("div", { class: "field", "data-field": "facility" }, el("label", { for: "facility", text: fieldLabel("facility") }), facility, el("div", { class: "error" })),
    el("div", { class: "field", "data-field": "occurred_at" }, el("label", { for: "occurred_at", text: fieldLabel("occurred_at") }), when, zoneNote, el("div", { class: "error" })));
  const read = () => {
    return { facility: facility.value, occurred_at: toUtc(when.value, zone()) };
  };
  return { element, read };
}

function extraItems(type) {
  if (!MULTI_ITEM_TYPES.includes(type)) return { element: null, read: () => [] };
  const holder = el("div", { class: "extra-items" });
  const inputs = [];
  const add = () => {
    const id = `extra-item-${inputs.length}`;
    const input = el("input", { id, type: "text", autocapitalize: "characters" });
    inputs.push(input);
    holder.append(el("div", { class: "field", "data-field": `items-extra/${inputs.length - 1}` }, el("label", { for: id, text: `${fieldLabel("item")} ${inputs.length + 1}` }), input, el("div", { class: "error" })));
  };
  const element = el("fieldset", { class: "multi" }, el("legend", { text: t("form.items") }), holder, button(`+ ${fieldLabel("item")}`, add, "secondary small"));
  return { element, read: () => inputs.map((i) => i.value.trim().toUpperCase()).filter(Boolean) };
}

function uuidv7() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  const ms = Date.now();
  for (let i = 0; i < 6; i++) b[i] = Math.floor(ms / 2 ** (8 * (5 - i))) & 0xff;
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = keys.hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The items a body touches (`item`, `sample`, `items[].item`), as the ledger counts them. */
function touched(body) {
  const out = [];
  if (body.item) out.push(body.item);
  if (body.sample) out.push(body.sample);
  for (const i of body.items || []) if (i && i.item) out.push(i.item);
  return out;
}

async function headOf(id) {
  try {
    const item = await api.get(`/v1/items/${encodeURIComponent(id)}`);
    rememberHead(id, item.head, item);
    return item;
  } catch (e) {
    if (e instanceof api.ApiError && e.status === 404) return null;
    if (e instanceof api.Offline) {
      const heads = JSON.parse(localStorage.getItem(HEADS_KEY) || "{}");
      return heads[id] ? { id, ...heads[id] } : null;
    }
    throw e;
  }
}

/** The statement text for one item: common fields, signers, `after`, then the body. */
async function statementText(type, common, signers, body) {
  const after = {};
  for (const id of touched(body)) {
    const item = await headOf(id);
    after[id] = item ? item.head : null;
  }
  const statement = { type, id: uuidv7(), occurred_at: common.occurred_at, facility: common.facility, signers, after, ...body };
  return JSON.stringify(statement);
}

async function recordScreen(type, query) {
  if (!ctx.me) return home();
  const params = new URLSearchParams(query || "");
  const form = bodyForm({ ...ctx, upload, registerPerson }, type);
  for (const [name, value] of params) if (form.controls[name]) form.controls[name].set(value);
  // What another screen prepared (a stock-take's lists), used once.
  const prefill = JSON.parse(sessionStorage.getItem("custody-prefill") || "null");
  sessionStorage.removeItem("custody-prefill");
  for (const [name, value] of Object.entries(prefill || {})) if (form.controls[name]) form.controls[name].set(value);
  // An act on an item the officer opened starts from what the ledger says of it: its seals.
  const item = params.get("item") ? await headOf(params.get("item")).catch(() => null) : null;
  if (item && item.seals && item.seals.length && form.controls.seals) form.controls.seals.set(item.seals);
  const common = commonSection();
  const signers = signersSection(type);
  const extra = extraItems(type);
  const go = button(t("form.submit"), () => submitAct(type, form, common, signers, extra, go), "primary");
  show(
    el("h1", { text: typeName(type) }),
    el("p", { class: "muted", text: typeOther(type) }),
    el("datalist", { id: "officer-list" }, ctx.officers.filter((o) => !o.revoked_at).map((o) => el("option", { value: o.id, text: `${o.name} (${o.id})` }))),
    el("form", { id: "act", "data-type": type, onsubmit: (e) => e.preventDefault() }, common.element, form.element, extra.element, signers.element, el("div", { class: "form-errors", role: "alert" }), go),
  );
}

/**
 * Puts a person who is not an officer into the subject register (FORMAT.md §17.6) and answers
 * the statement's person object: their subject id and commitment, never their identifiers.
 */
async function registerPerson(fields, path) {
  try {
    const answer = await api.subjectRequest("/v1/subjects", { action: "record", fields });
    return answer.person;
  } catch (e) {
    const field = e.field ? `${path}/${String(e.field).replace(/^.*fields\//, "")}` : path;
    throw { path: field, message: e instanceof api.Offline ? t("error.network") : e.message };
  }
}

async function upload(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const digest = `sha256:${keys.hex(await crypto.subtle.digest("SHA-256", bytes))}`;
  await api.putBlob(`/v1/blobs/${digest}`, bytes, file.type || "application/octet-stream");
  return digest;
}

async function submitAct(type, form, common, signers, extra, go) {
  const formEl = document.getElementById("act");
  go.disabled = true;
  try {
    const { body, errors } = await form.read();
    const who = signers.read();
    if (!who.length) errors.push({ path: "signers", message: t("form.required") });
    if (errors.length) return showErrors(formEl, errors), say("bad", t("form.error"));
    const c = common.read();
    const bodies = [body];
    for (const id of extra.read()) bodies.push(await bodyForItem(body, id));
    const texts = [];
    for (const b of bodies) texts.push(await statementText(type, c, who, b));
    const envelopes = [];
    for (const text of texts) envelopes.push(await keys.envelopeOf(ctx.key, text));
    const others = who.some((s) => s.officer !== ctx.me.id);
    if (others) return await startDrafts(envelopes);
    await recordAll(envelopes, formEl);
  } catch (e) {
    showErrors(formEl, [{ path: (e.field || "").replace(/^\//, ""), message: e.message }]);
    say("bad", `${t("result.refused")}: ${e.message}`);
  } finally {
    go.disabled = false;
  }
}

/** The body for a further item of a several-item act: the same, with that item's own seals. */
async function bodyForItem(body, id) {
  const item = await headOf(id);
  const out = { ...body, item: id };
  for (const [field, from] of Object.entries(PER_ITEM_FROM_STATE)) {
    if (field in body && item && from(item) !== null && from(item) !== undefined) out[field] = from(item);
  }
  return out;
}

async function recordAll(envelopes, formEl) {
  const receipts = [];
  for (const envelope of envelopes) {
    try {
      receipts.push(await api.submitEnvelope(envelope));
    } catch (e) {
      if (!(e instanceof api.Offline)) throw e;
      for (const rest of envelopes.slice(receipts.length)) await api.queue(rest, JSON.parse(new TextDecoder().decode(keys.unb64(rest.payload))).type);
      show(el("p", { class: "flash warn", id: "result", text: t("result.queued") }), link("#/outbox", t("nav.outbox")));
      return;
    }
  }
  receipts.forEach((r, i) => touched(statementOf(envelopes[i])).forEach((id) => rememberHead(id, r.leaf_hash)));
  showReceipts(receipts, envelopes.map(statementOf));
}

function statementOf(envelope) {
  return JSON.parse(new TextDecoder().decode(keys.unb64(envelope.payload)));
}

/** Acts that create labels to stick on: a new item, a new sample, new seals. */
const LABEL_TYPES = ["contraband_found", "seizure_recorded", "sample_set_aside", "item_sealed"];

function showReceipts(receipts, statements) {
  const rows = receipts.map((r, i) => el("div", { class: "receipt" },
    el("p", { class: "flash good", text: `${r.duplicate ? t("result.already") : t("result.recorded")} ${r.seq}` }),
    statements[i] && LABEL_TYPES.includes(statements[i].type) ? button(t("item.labels"), () => openSigned(`/v1/entries/${r.seq}/labels`), "secondary") : null,
    statements[i] && statements[i].type === "search_conducted" ? link(`#/record/contraband_found?incident=${encodeURIComponent(statements[i].incident)}`, `+ ${typeName("contraband_found")}`, "tile small") : null,
    statements[i] && statements[i].item ? link(`#/item/${encodeURIComponent(statements[i].item)}`, statements[i].item, "tile small") : null));
  show(el("div", { id: "result" }, rows), link("#/", t("nav.home"), "tile"));
}

/** Opens a signed read (a label sheet, a photo) in a new tab: the tab cannot sign, so the page fetches it. */
async function openSigned(path) {
  const response = await api.getBlob(path);
  const url = URL.createObjectURL(await response.blob());
  window.open(url, "_blank", "noopener");
}

async function startDrafts(envelopes) {
  const ids = [];
  for (const envelope of envelopes) {
    const draft = await api.post("/v1/drafts", envelope, false);
    ids.push(draft.id);
  }
  goTo(`#/draft/${ids.join(",")}`);
}

// ---- drafts: co-signing ----

async function draftsScreen() {
  const drafts = await api.get("/v1/drafts");
  const list = Array.isArray(drafts) ? drafts : drafts.drafts || [];
  show(el("h1", { text: t("nav.drafts") }), list.length ? el("ul", { class: "list" }, list.map((d) => el("li", {}, link(`#/draft/${d.id}`, `${ctx.types[d.type] ? typeName(d.type) : d.type} · ${d.statement?.item || ""}`)))) : el("p", { text: t("drafts.none") }));
}

/** A value of a statement as a person reads it: grams, local time, names beside staff numbers. */
function shownValue(key, v) {
  if (key.endsWith("_mg") && typeof v === "number") return grams(v);
  if (key === "occurred_at") return localTime(v, ctx.zone);
  if (typeof v === "boolean") return t(v ? "form.yes" : "form.no");
  if (Array.isArray(v)) return v.map((x) => shownValue(key, x)).join(", ");
  if (v && typeof v === "object") return Object.entries(v).map(([k, x]) => `${fieldLabel(k)}: ${shownValue(k, x)}`).join("; ");
  const officer = ["to_officer", "officer"].includes(key) && ctx.officers.find((o) => o.id === v);
  if (officer) return `${officer.name} (${officer.id})`;
  return enumLabel(String(v));
}

function statementView(statement) {
  const dl = el("dl", { class: "facts" });
  for (const [k, v] of Object.entries(statement)) {
    if (["after", "signers", "id", "type"].includes(k)) continue;
    dl.append(el("dt", { text: fieldLabel(k) }), el("dd", { text: shownValue(k, v) }));
  }
  return dl;
}

async function draftScreen(idList) {
  const ids = idList.split(",");
  const drafts = [];
  for (const id of ids) drafts.push(await api.get(`/v1/drafts/${encodeURIComponent(id)}`));
  const mine = (d) => d.signers.find((s) => s.officer === ctx.me.id);
  const shareUrl = `${location.origin}/#/draft/${ids.join(",")}`;
  const sections = drafts.map((d) => el("section", { class: "draft", "data-draft": d.id },
    el("h2", { text: typeName(d.type) }),
    el("h3", { text: t("draft.what") }), statementView(d.statement),
    el("ul", { class: "signers" }, d.signers.map((s) => el("li", { class: s.signed ? "signed" : "waiting", text: `${enumLabel(s.role)}: ${s.name || s.officer} — ${s.signed ? t("draft.signed") : s.declined ? `${t("draft.declined")}: ${s.declined.reason}` : t("draft.missing")}` }))),
    d.stale && d.stale.length ? el("p", { class: "flash warn", text: `${t("draft.stale")} ${t("draft.again")}: ${d.signers.map((x) => x.name || x.officer).join(", ")}` }) : null,
    d.stale && d.stale.length && d.signers[0].officer === ctx.me.id ? button(t("draft.remake"), () => remakeDraft(d), "secondary") : null));
  const needMe = drafts.some((d) => mine(d) && !mine(d).signed);
  const complete = drafts.every((d) => d.complete);
  const reason = el("input", { id: "decline-reason", type: "text", placeholder: fieldLabel("reason") });
  show(
    el("h1", { text: t("nav.drafts") }),
    sections,
    needMe ? button(t("draft.sign"), () => signDrafts(drafts, idList), "primary") : null,
    needMe ? el("details", {}, el("summary", { text: t("draft.decline") }), el("label", { for: "decline-reason", text: fieldLabel("reason") }), reason, button(t("draft.decline"), () => declineDrafts(drafts, reason.value, idList), "secondary")) : null,
    complete ? button(t("draft.submit"), () => submitDrafts(drafts), "primary") : null,
    el("p", { text: t("result.draft") }), el("p", { class: "code small" }, link(shareUrl, shareUrl)),
    el("img", { class: "qr", alt: shareUrl, src: `/app/qr.svg?t=${encodeURIComponent(shareUrl)}` }),
  );
}

/**
 * A stale draft made again: the same act with a new id and the items' current heads, signed by
 * its maker; every other signer must sign the new one (they would be signing other bytes).
 */
async function remakeDraft(draft) {
  const { id: _id, after: _after, ...rest } = draft.statement;
  const after = {};
  for (const item of touched(draft.statement)) {
    const now = await headOf(item);
    after[item] = now ? now.head : null;
  }
  const text = JSON.stringify({ type: rest.type, id: uuidv7(), occurred_at: rest.occurred_at, facility: rest.facility, signers: rest.signers, after, ...rest });
  const made = await api.post("/v1/drafts", await keys.envelopeOf(ctx.key, text), false);
  await api.del(`/v1/drafts/${encodeURIComponent(draft.id)}`);
  goTo(`#/draft/${made.id}`);
}

async function signDrafts(drafts, idList) {
  for (const d of drafts) {
    const signed = await keys.signEnvelope(ctx.key, d.envelope);
    const mine = signed.signatures.find((s) => s.keyid === ctx.key.keyid);
    await api.post(`/v1/drafts/${encodeURIComponent(d.id)}/signatures`, mine, false);
  }
  await draftScreen(idList);
}

async function declineDrafts(drafts, reason, idList) {
  for (const d of drafts) await api.post(`/v1/drafts/${encodeURIComponent(d.id)}/decline`, { reason });
  await draftScreen(idList);
}

async function submitDrafts(drafts) {
  const receipts = [];
  for (const d of drafts) receipts.push(await api.post(`/v1/drafts/${encodeURIComponent(d.id)}/submit`, {}));
  drafts.forEach((d, i) => touched(d.statement).forEach((id) => rememberHead(id, receipts[i].leaf_hash)));
  showReceipts(receipts, drafts.map((d) => d.statement));
}

// ---- deadlines: the statutory clocks running for the items this officer may read ----

async function deadlinesScreen() {
  const list = await api.get("/v1/deadlines");
  const rows = list.map((d) => el("li", { class: d.overdue ? "overdue" : "running", "data-item": d.item },
    el("strong", { text: `${d.overdue ? t("deadlines.overdue") : t("deadlines.due")} ${localTime(d.due_at, ctx.zone)}` }), el("br"),
    link(`#/item/${encodeURIComponent(d.item)}`, d.item, "code small"), ` · ${language() === "en" ? d.english : d.indonesian}`, el("br"),
    el("span", { class: "muted", text: `${language() === "en" ? d.basis : d.basis_id} · ${t("deadlines.since")} #${d.started_seq}` })));
  show(el("h1", { text: t("nav.deadlines") }), csvButton("/v1/deadlines", "tenggat-waktu.csv"), list.length ? el("ul", { class: "list", id: "deadlines" }, rows) : el("p", { id: "deadlines-none", text: t("deadlines.none") }));
}

// ---- outbox ----

async function outboxScreen() {
  const entries = await api.queued();
  show(
    el("h1", { text: t("nav.outbox") }),
    entries.length ? el("ul", { class: "list", id: "outbox" }, entries.map((e) => el("li", { class: e.state }, `${ctx.types[e.summary] ? typeName(e.summary) : e.summary} — ${e.state === "waiting" ? t("outbox.waiting") : `${t("outbox.rejected")}: ${api.inLanguage(e.messages, e.error)}`}`))) : el("p", { id: "outbox-empty", text: t("outbox.none") }),
    button(t("outbox.send"), async () => {
      const results = await api.flush();
      await outboxScreen();
      if (results.length) main().prepend(...results.map((r) => el("p", { class: r.error ? "flash bad" : "flash good", text: r.error ? r.error : `${t("result.recorded")} ${r.receipt.seq}` })));
    }, "primary"),
  );
}

// ---- the administrator's enrollment requests ----

async function requestsScreen() {
  const answer = await api.get("/v1/enrollment-requests");
  const list = (Array.isArray(answer) ? answer : answer.requests || []).filter((r) => (r.status || "pending") === "pending");
  show(
    el("h1", { text: t("nav.requests") }),
    list.length ? el("ul", { class: "list" }, list.map((r) => el("li", { "data-code": r.code },
      el("strong", { class: "code", text: r.code }), el("br"),
      `${r.officer.name} (${r.officer.id}) · ${r.officer.unit} · ${r.officer.roles.map(enumLabel).join(", ")} · ${r.facility}`, el("br"),
      button(t("requests.approve"), () => approve(r), "primary small"),
      button(t("requests.reject"), async () => (await api.del(`/v1/enrollment-requests/${r.code}`), requestsScreen()), "secondary small")))) : el("p", { text: t("requests.none") }),
  );
}

async function approve(request) {
  const statement = {
    type: "officer_enrolled",
    id: uuidv7(),
    occurred_at: new Date().toISOString(),
    facility: request.facility,
    signers: [{ role: "admin", officer: ctx.me.id }],
    after: {},
    officer: { ...request.officer, public_key: request.public_key },
  };
  try {
    const receipt = await api.submitEnvelope(await keys.envelopeOf(ctx.key, JSON.stringify(statement)));
    say("good", `${t("result.recorded")} ${receipt.seq}`);
  } catch (e) {
    say("bad", `${t("result.refused")}: ${e.message}`);
  }
  await requestsScreen();
}

boot().catch((e) => say("bad", e.message));
