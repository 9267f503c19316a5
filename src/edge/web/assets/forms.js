// forms.js — a form for every statement type, built from the same JSON schemas the ledger's parser
// validates with (/app/schemas.json), so a form cannot drift from the format. Owns turning schema
// nodes into labelled controls (every control carries data-field = its path in the body, e.g.
// "warrant/number") and reading them back into a statement body, with the errors shown at the
// field. Must never decide whether an act is allowed — the server's rules do, and their refusals
// are shown at the field they name.

import { enumLabel, fieldLabel, t, nowLocal, toUtc } from "./i18n.js";

/** Fields every statement has that the page fills itself, never the officer. */
export const SYSTEM_FIELDS = ["type", "id", "occurred_at", "facility", "signers", "after", "attests"];
/** Fields of a registered person that the subject register answers, never typed. */
const REGISTER_ANSWERS = ["subject", "commitment"];
/** The personal fields the register takes for a person who is not an officer (FORMAT.md §17.2). */
const PERSON_FIELDS = ["name", "nik", "sdp", "passport", "nationality", "birth_date"];
const MASS_UNITS = { mg: 1, g: 1000, kg: 1000000 };

let serial = 0;
const uid = () => `f${++serial}`;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c) e.append(c);
  return e;
}

/** Follows `$ref`s into common.json's $defs; answers the node and the name of the last def. */
export function resolve(schemas, node) {
  let ref = null;
  let n = node;
  while (n && n.$ref) {
    const m = /#\/\$defs\/(.+)$/.exec(n.$ref);
    if (!m) break;
    ref = m[1];
    const { $ref, ...rest } = n;
    n = { ...schemas.common.$defs[ref], ...rest };
  }
  return { node: n, ref };
}

function labelFor(id, name, required) {
  return el("label", { for: id }, fieldLabel(name), required ? null : el("small", { text: ` (${t("form.optional")})` }));
}

function wrap(path, name, required, control, id, hint) {
  const row = el("div", { class: "field", "data-field": path }, labelFor(id, name, required), control);
  if (hint) row.append(el("small", { class: "hint", text: hint }));
  row.append(el("div", { class: "error", role: "alert" }));
  return row;
}

function select(id, values, withNone = true) {
  const s = el("select", { id, name: id });
  if (withNone) s.append(el("option", { value: "", text: t("form.none") }));
  for (const v of values) s.append(el("option", { value: v, text: enumLabel(v) }));
  return s;
}

/** One control for a scalar schema node; answers {row, read()}; read() throws {path, message}. */
function scalar(ctx, path, name, schemaNode, required) {
  const { node, ref } = resolve(ctx.schemas, schemaNode);
  const id = uid();
  const fail = (message) => {
    throw { path, message };
  };
  const hint = ctx.english ? node.description || schemaNode.description : null;
  if (node.enum) {
    const s = select(id, node.enum);
    const row = wrap(path, name, required, s, id, hint);
    return { row, read: () => s.value || (required ? fail(t("form.required")) : undefined), set: (v) => (s.value = v) };
  }
  if (node.type === "boolean") {
    const s = el("select", { id }, el("option", { value: "", text: t("form.none") }), el("option", { value: "true", text: t("form.yes") }), el("option", { value: "false", text: t("form.no") }));
    const row = wrap(path, name, required, s, id, hint);
    const read = () => (s.value === "" ? (required ? fail(t("form.required")) : undefined) : s.value === "true");
    return { row, read, set: (v) => (s.value = String(v)) };
  }
  if (node.type === "integer" && name.endsWith("_mg") && name !== "readability_mg") return mass(path, name, required, id, hint);
  if (node.type === "integer") {
    const input = el("input", { id, type: "number", inputmode: "numeric", min: node.minimum ?? 0, step: 1 });
    const row = wrap(path, name, required, input, id, hint);
    const read = () => {
      if (input.value === "") return required ? fail(t("form.required")) : undefined;
      const n = Number(input.value);
      return Number.isInteger(n) ? n : fail(t("form.invalid"));
    };
    return { row, read, set: (v) => (input.value = v) };
  }
  if (ref === "utc_time") {
    const zone = ctx.zone;
    const input = el("input", { id, type: "datetime-local", value: nowLocal(zone) });
    const row = wrap(path, name, required, input, id, `${t("time.zone")}: ${zone}`);
    const read = () => (input.value ? toUtc(input.value, zone) : required ? fail(t("form.required")) : undefined);
    return { row, read, set: () => {} };
  }
  if (ref === "date") {
    const input = el("input", { id, type: "date" });
    return { row: wrap(path, name, required, input, id, hint), read: () => input.value || (required ? fail(t("form.required")) : undefined), set: (v) => (input.value = v) };
  }
  if (ref === "digest") return fileDigest(ctx, path, name, required, id, hint);
  return text(ctx, path, name, node, ref, required, id, hint);
}

function text(ctx, path, name, node, ref, required, id, hint) {
  const upper = ["item_id", "seal_id", "incident_id", "sdp_id", "passport", "nationality"].includes(ref);
  const long = ref === "text";
  const input = long ? el("textarea", { id, rows: 3, maxlength: node.maxLength }) : el("input", { id, type: "text", maxlength: node.maxLength, autocapitalize: upper ? "characters" : "sentences", inputmode: ref === "nik" || ref === "seq" ? "numeric" : undefined });
  if (ref === "officer_id" && ctx.officers.length) input.setAttribute("list", "officer-list");
  const row = wrap(path, name, required, input, id, hint);
  const pattern = node.pattern ? new RegExp(node.pattern, "u") : null;
  const read = () => {
    let v = input.value.trim();
    if (upper) v = v.toUpperCase();
    if (v === "") return required ? fail(t("form.required")) : undefined;
    if (pattern && !pattern.test(v)) fail(`${t("form.invalid")} (${node.pattern})`);
    if (node.minLength && [...v].length < node.minLength) fail(t("form.invalid"));
    return node.type === "integer" ? Number(v) : v;
  };
  return { row, read, set: (v) => (input.value = v ?? "") };
  function fail(message) {
    throw { path, message };
  }
}

/** A mass typed in g, mg or kg with a decimal comma or point, recorded as integer milligrams. */
function mass(path, name, required, id, hint) {
  const input = el("input", { id, type: "text", inputmode: "decimal", autocomplete: "off" });
  const unit = el("select", { "aria-label": `${fieldLabel(name)} unit` }, ...Object.keys(MASS_UNITS).map((u) => el("option", { value: u, text: t(`unit.${u}`), selected: u === "g" })));
  const row = wrap(path, name, required, el("div", { class: "mass" }, input, unit), id, hint);
  const read = () => {
    const v = input.value.trim().replace(",", ".");
    if (v === "") {
      if (required) throw { path, message: t("form.required") };
      return undefined;
    }
    if (!/^\d+(\.\d+)?$/.test(v)) throw { path, message: t("form.invalid") };
    const mg = Math.round(Number(v) * MASS_UNITS[unit.value]);
    if (Math.abs(mg - Number(v) * MASS_UNITS[unit.value]) > 1e-6) throw { path, message: `${t("form.invalid")}: < 1 mg` };
    return mg;
  };
  return { row, read, set: (mgValue) => ((input.value = String(mgValue)), (unit.value = "mg")) };
}

/** A file (a lab report PDF) or a photo: uploaded to the server's blob store, recorded by digest. */
function fileDigest(ctx, path, name, required, id, hint, accept = "application/pdf,image/*") {
  const input = el("input", { id, type: "file", accept, capture: accept.startsWith("image") ? "environment" : undefined });
  const row = wrap(path, name, required, input, id, hint);
  const read = async () => {
    const file = input.files && input.files[0];
    if (!file) return required ? Promise.reject({ path, message: t("form.required") }) : undefined;
    return ctx.upload(file);
  };
  return { row, read, set: () => {} };
}

/** A list: repeated controls of the element node, with Add and Remove. */
function list(ctx, path, name, node, required) {
  const items = resolve(ctx.schemas, node.items).node;
  const box = el("fieldset", { class: "list", "data-field": path }, el("legend", { text: fieldLabel(name) + (required ? "" : ` (${t("form.optional")})`) }));
  if (items.enum) {
    const checks = items.enum.map((v) => {
      const id = uid();
      const c = el("input", { type: "checkbox", id, value: v });
      box.append(el("div", { class: "check" }, c, el("label", { for: id, text: enumLabel(v) })));
      return c;
    });
    box.append(el("div", { class: "error", role: "alert" }));
    const read = () => {
      const v = checks.filter((c) => c.checked).map((c) => c.value);
      // An optional list left empty is left out; a required one needs its minimum.
      if (!v.length && !required) return undefined;
      if (v.length < (node.minItems || 0)) throw { path, message: t("form.required") };
      return v;
    };
    return { row: box, read, set: (vs) => checks.forEach((c) => (c.checked = vs.includes(c.value))) };
  }
  const rows = [];
  const holder = el("div");
  const add = (value) => {
    const i = rows.length;
    const child = control(ctx, `${path}/${i}`, name, node.items, true);
    const remove = el("button", { type: "button", class: "link", text: t("form.remove") });
    const line = el("div", { class: "list-item" }, child.row, remove);
    const entry = { child, line };
    remove.onclick = () => {
      rows.splice(rows.indexOf(entry), 1);
      line.remove();
    };
    rows.push(entry);
    holder.append(line);
    if (value !== undefined) child.set(value);
  };
  const addButton = el("button", { type: "button", class: "secondary", text: `+ ${t("form.add")}` });
  addButton.onclick = () => add();
  box.append(holder, addButton, el("div", { class: "error", role: "alert" }));
  for (let i = 0; i < (node.minItems || 0); i++) add();
  const read = async () => {
    const out = [];
    for (const r of rows) {
      const v = await r.child.read();
      if (v !== undefined) out.push(v);
    }
    if (!out.length && !required) return undefined;
    if (out.length < (node.minItems || 0)) throw { path, message: t("form.required") };
    return out;
  };
  return { row: box, read, set: (vs) => { rows.splice(0).forEach((r) => r.line.remove()); (vs || []).forEach(add); } };
}

/** An object with fixed fields (a warrant, a storage location, a description). */
function object(ctx, path, name, node, required) {
  const box = el("fieldset", { class: "object", "data-field": path }, el("legend", { text: fieldLabel(name) }));
  const need = new Set(node.required || []);
  const parts = Object.entries(node.properties || {}).map(([k, v]) => {
    const c = control(ctx, `${path}/${k}`, k, v, need.has(k));
    box.append(c.row);
    return [k, c];
  });
  const read = async () => {
    const out = {};
    for (const [k, c] of parts) {
      const v = await c.read();
      if (v !== undefined) out[k] = v;
    }
    return Object.keys(out).length || required ? out : undefined;
  };
  return { row: box, read, set: (v) => parts.forEach(([k, c]) => v && v[k] !== undefined && c.set(v[k])) };
}

/**
 * A person (or a search's area or parcel): one of several forms, chosen by kind. A person who is
 * not an officer is put into the subject register when the act is signed and named by the
 * register's answer, so no identifier of a civilian goes into the ledger (rules version 4).
 */
function choice(ctx, path, name, node, required) {
  const alternatives = node.oneOf.map((a) => resolve(ctx.schemas, a).node).flatMap((a) => (a.oneOf ? a.oneOf.map((b) => resolve(ctx.schemas, b).node) : [a]));
  const kinds = alternatives.map((a) => a.properties.kind.const).filter((k) => !["inmate", "visitor", "foreign_national"].includes(k));
  const box = el("fieldset", { class: "choice", "data-field": path }, el("legend", { text: fieldLabel(name) + (required ? "" : ` (${t("form.optional")})`) }));
  const kindId = uid();
  const kind = select(kindId, kinds);
  box.append(el("div", { class: "field", "data-field": `${path}/kind` }, el("label", { for: kindId, text: fieldLabel("kind") }), kind));
  const panels = {};
  for (const k of kinds) {
    const alt = alternatives.find((a) => a.properties.kind.const === k);
    const panel = el("div", { class: "panel", hidden: true });
    const parts = [];
    if (k === "subject") {
      panel.append(el("p", { class: "hint", text: t("form.person.register") }));
      const cat = scalar(ctx, `${path}/category`, "category", alt.properties.category, true);
      panel.append(cat.row);
      parts.push(["category", cat]);
      for (const f of PERSON_FIELDS) {
        const c = scalar(ctx, `${path}/${f}`, f, personFieldSchema(ctx, f), false);
        panel.append(c.row);
        parts.push([f, c]);
      }
    } else {
      const need = new Set(alt.required || []);
      for (const [f, v] of Object.entries(alt.properties)) {
        if (f === "kind" || REGISTER_ANSWERS.includes(f)) continue;
        const c = control(ctx, `${path}/${f}`, f, v, need.has(f));
        panel.append(c.row);
        parts.push([f, c]);
      }
    }
    panels[k] = { panel, parts };
    box.append(panel);
  }
  kind.onchange = () => Object.entries(panels).forEach(([k, p]) => (p.panel.hidden = k !== kind.value));
  box.append(el("div", { class: "error", role: "alert" }));
  const read = async () => {
    if (!kind.value) {
      if (required) throw { path: `${path}/kind`, message: t("form.required") };
      return undefined;
    }
    const values = { kind: kind.value };
    for (const [f, c] of panels[kind.value].parts) {
      const v = await c.read();
      if (v !== undefined) values[f] = v;
    }
    if (kind.value !== "subject") return values;
    const { kind: _k, category, ...fields } = values;
    return ctx.registerPerson({ kind: category, ...fields }, path);
  };
  return { row: box, read, set: () => {} };
}

/** The schema of a personal field, from the legacy person forms that carried it in the clear. */
function personFieldSchema(ctx, field) {
  if (field === "birth_date") return { $ref: "urn:custody:schema:common#/$defs/date" };
  if (field === "name") return { $ref: "urn:custody:schema:common#/$defs/name" };
  return { $ref: `urn:custody:schema:common#/$defs/${field === "sdp" ? "sdp_id" : field}` };
}

/** The control for any schema node at `path`. */
export function control(ctx, path, name, schemaNode, required) {
  const { node, ref } = resolve(ctx.schemas, schemaNode);
  if (ref === "digest_list" || (node.type === "array" && resolve(ctx.schemas, node.items).ref === "digest")) return photos(ctx, path, name, required);
  if (node.oneOf) return choice(ctx, path, name, node, required);
  if (node.type === "array") return list(ctx, path, name, node, required);
  if (node.type === "object" && node.properties) return object(ctx, path, name, node, required);
  if (node.type === "object") return jsonObject(path, name, required);
  return scalar(ctx, path, name, schemaNode, required);
}

/** A correction's `fields` (JSON pointer → value): typed as lines "pointer = value". */
function jsonObject(path, name, required) {
  const id = uid();
  const area = el("textarea", { id, rows: 3, placeholder: "/net_mass_mg = 10790" });
  const row = wrap(path, name, required, area, id, null);
  const read = () => {
    const out = {};
    for (const line of area.value.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const m = /^(\/\S*)\s*=\s*(.*)$/.exec(line);
      if (!m) throw { path, message: t("form.invalid") };
      try {
        out[m[1]] = JSON.parse(m[2]);
      } catch {
        out[m[1]] = m[2];
      }
    }
    if (!Object.keys(out).length && required) throw { path, message: t("form.required") };
    return Object.keys(out).length ? out : undefined;
  };
  return { row, read, set: () => {} };
}

/** Photos: taken with the camera or chosen from files; each is uploaded and named by digest. */
function photos(ctx, path, name, required) {
  const id = uid();
  const input = el("input", { id, type: "file", accept: "image/*", multiple: true, capture: "environment" });
  const previews = el("div", { class: "photos" });
  input.onchange = () => {
    previews.replaceChildren(...Array.from(input.files).map((f) => el("img", { src: URL.createObjectURL(f), alt: f.name })));
  };
  const row = wrap(path, name, required, el("div", {}, input, previews), id, null);
  const read = async () => {
    const out = [];
    for (const f of Array.from(input.files || [])) out.push(await ctx.upload(f));
    return out.length || required ? out : undefined;
  };
  return { row, read, set: () => {} };
}

/** The whole body form of `type`: answers {element, controls, read()}. */
export function bodyForm(ctx, type) {
  const schema = ctx.schemas.types[type];
  const need = new Set(schema.required || []);
  const element = el("div", { class: "body" });
  const controls = [];
  for (const [name, node] of Object.entries(schema.properties)) {
    if (SYSTEM_FIELDS.includes(name)) continue;
    const c = control(ctx, name, name, node, need.has(name));
    element.append(c.row);
    controls.push([name, c]);
  }
  const read = async () => {
    const body = {};
    const errors = [];
    for (const [name, c] of controls) {
      try {
        const v = await c.read();
        if (v !== undefined) body[name] = v;
      } catch (e) {
        errors.push(e && e.path ? e : { path: name, message: String(e && e.message ? e.message : e) });
      }
    }
    return { body, errors };
  };
  return { element, controls: Object.fromEntries(controls), read };
}

/** Shows each error at the control it names (a path in the body, or the nearest enclosing one). */
export function showErrors(form, errors) {
  form.querySelectorAll(".error").forEach((e) => (e.textContent = ""));
  form.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
  let first = null;
  for (const { path, message } of errors) {
    let p = String(path || "").replace(/^\//, "");
    let target = null;
    while (p && !(target = form.querySelector(`[data-field="${CSS.escape(p)}"]`))) p = p.replace(/\/?[^/]*$/, "");
    target = target || form.querySelector(".form-errors");
    if (!target) continue;
    target.classList.add("invalid");
    const box = target.querySelector(":scope > .error") || target;
    box.textContent = message;
    first = first || target;
  }
  if (first) first.scrollIntoView({ block: "center" });
}
