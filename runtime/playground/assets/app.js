// The Cog playground page. Everything goes through the playground server: /playground/config,
// /api/<Cog API path> (forwarded to the one target), /events/<id> (the target's webhooks, as SSE).
// Longer than 400 lines on purpose: it is the whole page (form builder, runner, output renderer,
// inspector, history) with no framework, and splitting it would mean a module loader.
"use strict";

const $ = (id) => document.getElementById(id);
const TERMINAL = ["succeeded", "failed", "canceled"];
const state = { config: null, schema: null, mode: "predictions", fields: [], current: null, history: [] };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function showBanner(message, retry) {
  $("banner-text").textContent = message;
  $("banner-retry").hidden = !retry;
  $("banner-retry").onclick = retry || null;
  $("banner").hidden = false;
}
window.addEventListener("error", (e) => showBanner("Page error: " + e.message));
window.addEventListener("unhandledrejection", (e) => showBanner("Page error: " + ((e.reason && e.reason.message) || e.reason)));

// One call through the proxy: {status, json, text}; status 0 when the playground itself is gone.
async function api(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch("/api" + path, init);
  } catch (e) {
    return { status: 0, json: { error: "the playground server is not answering (" + e.message + ")" }, text: "" };
  }
  const text = await response.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* shown as text */ }
  return { status: response.status, json, text };
}

function errorText(answer) {
  const j = answer.json;
  if (j && typeof j.error === "string") return j.error;
  if (j && j.detail !== undefined) return typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail, null, 2);
  return "HTTP " + answer.status + (answer.text ? ": " + answer.text.slice(0, 300) : "");
}

// ---- schema --------------------------------------------------------------------------------

function deref(ref) {
  let node = state.schema;
  for (const part of ref.replace(/^#\//, "").split("/")) node = node && node[part];
  return node || {};
}

// Follows $ref, a one-element allOf (Cog's enums) and Optional's anyOf [X, null]; the outer
// keys (title, description, default, x-order) win over the referenced schema's.
// A schema is the model's to write: $refs that form a cycle stop after MAX_REF_DEPTH steps (the
// field then takes JSON) rather than overflow the stack and leave no form.
const MAX_REF_DEPTH = 32;

function resolve(schema, depth = 0) {
  if (!schema || typeof schema !== "object" || depth > MAX_REF_DEPTH) return {};
  const rest = { ...schema };
  let inner = null;
  if (rest.$ref) { inner = typeof rest.$ref === "string" ? deref(rest.$ref) : {}; delete rest.$ref; }
  else if (Array.isArray(rest.allOf) && rest.allOf.length === 1) { inner = resolve(rest.allOf[0], depth + 1); delete rest.allOf; }
  else if (Array.isArray(rest.anyOf)) {
    const others = rest.anyOf.filter((s) => s && s.type !== "null");
    if (others.length === 1) { inner = resolve(others[0], depth + 1); delete rest.anyOf; rest.nullable = true; }
  }
  return inner ? { ...resolve(inner, depth + 1), ...rest } : rest;
}

const LONG_TEXT = /prompt|text|caption|description|message|question|instruction|context|system/i;

function fieldKind(name, s) {
  if (Array.isArray(s.enum)) return "select";
  if (s.type === "boolean") return "checkbox";
  if (s.type === "integer" || s.type === "number") return s.minimum !== undefined && s.maximum !== undefined ? "slider" : "number";
  if (s.type === "string" && s.format === "uri") return "file";
  if (s.type === "string" && s.format === "password") return "secret";
  if (s.type === "string") return LONG_TEXT.test(name) || (s.maxLength || 0) > 200 || String(s.default || "").includes("\n") ? "textarea" : "text";
  if (s.type === "array") {
    const items = resolve(s.items || {});
    return items.type === "string" && items.format === "uri" ? "files" : "list";
  }
  return "json";
}

function hintFor(s) {
  const parts = [s.type || "any"];
  if (s.format === "uri") parts[0] = "file";
  if (s.minimum !== undefined || s.maximum !== undefined) parts.push((s.minimum ?? "−∞") + " … " + (s.maximum ?? "∞"));
  if (s.minLength !== undefined || s.maxLength !== undefined) parts.push("length " + (s.minLength ?? 0) + "…" + (s.maxLength ?? "∞"));
  return parts.join(", ");
}

function readFileAsDataUrl(file) {
  return new Promise((resolve_, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve_(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// ---- the form ------------------------------------------------------------------------------

// A field: its node, read() → {present, value} or {error}, setError(message).
function buildField(name, s, required) {
  const kind = fieldKind(name, s);
  const id = "in-" + name;
  const hasDefault = s.default !== undefined && s.default !== null;
  const error = el("div", { class: "field-error", hidden: true });
  const wrap = el("div", { class: "field field-" + kind, "data-field": name });
  const label = el("label", { for: id }, s.title || name, required ? el("span", { class: "required", title: "required" }, "*") : null,
    el("span", { class: "hint" }, hintFor(s)));
  const field = { name, kind, schema: s, node: wrap };
  let control;
  const text = (v) => (v === undefined || v === null ? "" : String(v));
  const numberAttrs = { type: "number", id, min: s.minimum, max: s.maximum, step: s.type === "integer" ? "1" : "any", value: text(s.default), required };
  const readNumber = (input) => {
    if (input.value.trim() === "") return { present: false };
    const n = Number(input.value);
    if (!Number.isFinite(n)) return { error: "not a number" };
    return { present: true, value: n };
  };
  if (kind === "select") {
    const select = el("select", { id, required });
    if (!required && !hasDefault) select.append(el("option", { value: "" }, "(none)"));
    s.enum.forEach((v, i) => select.append(el("option", { value: String(i), selected: v === s.default }, String(v))));
    control = select;
    field.read = () => (select.value === "" ? { present: false } : { present: true, value: s.enum[Number(select.value)] });
  } else if (kind === "checkbox") {
    const box = el("input", { type: "checkbox", id, checked: s.default === true });
    control = box;
    field.read = () => ({ present: true, value: box.checked });
  } else if (kind === "slider") {
    const number = el("input", numberAttrs);
    const range = el("input", { type: "range", id: "range-" + name, min: s.minimum, max: s.maximum, step: s.type === "integer" ? "1" : "any", value: text(s.default ?? s.minimum) });
    range.addEventListener("input", () => { number.value = range.value; });
    number.addEventListener("input", () => { if (number.value !== "") range.value = number.value; });
    control = el("div", { class: "slider" }, range, number);
    field.read = () => readNumber(number);
  } else if (kind === "number") {
    const number = el("input", numberAttrs);
    control = number;
    field.read = () => readNumber(number);
  } else if (kind === "text" || kind === "secret" || kind === "textarea") {
    const input = kind === "textarea" ? el("textarea", { id, required, minlength: s.minLength, maxlength: s.maxLength, rows: 3 }, text(s.default))
      : el("input", { type: kind === "secret" ? "password" : "text", id, required, value: text(s.default), minlength: s.minLength, maxlength: s.maxLength, pattern: s.pattern });
    control = input;
    field.read = () => (input.value === "" && !required ? { present: false } : { present: true, value: input.value });
  } else if (kind === "file" || kind === "files") {
    const many = kind === "files";
    const picker = el("input", { type: "file", id, multiple: many });
    const url = el("input", { type: "url", id: "url-" + name, placeholder: "or a URL (http://…, data:…)", value: many ? "" : text(s.default) });
    const names = el("div", { class: "file-name" });
    let picked = [];
    const take = async (files) => {
      // A data: URL is a third larger than the file, and the request must fit the proxy's cap.
      const bytes = [...files].reduce((sum, f) => sum + f.size, 0);
      const limit = state.config.limits.max_request_bytes;
      if (bytes * 4 / 3 > limit) {
        field.setError("too large to send inline: the playground forwards requests up to " + Math.floor(limit / 1048576) + " MiB; give a URL instead");
        return;
      }
      field.setError("");
      picked = await Promise.all([...files].map(async (f) => ({ name: f.name, size: f.size, url: await readFileAsDataUrl(f) })));
      names.textContent = picked.map((f) => f.name + " (" + f.size + " bytes)").join(", ");
      wrap.dataset.ready = String(picked.length);
    };
    picker.addEventListener("change", () => take(picker.files));
    const drop = el("div", { class: "drop" }, picker, names, url, el("div", { class: "muted" }, "Pick or drop a file: it is sent as a data: URL"));
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); take(e.dataTransfer.files); });
    control = drop;
    field.read = () => {
      const urls = picked.map((f) => f.url).concat(url.value.trim() ? url.value.trim().split(/\s+/) : []);
      if (urls.length === 0) return required ? { error: "choose a file" } : { present: false };
      return { present: true, value: many ? urls : urls[0] };
    };
  } else if (kind === "list") {
    const items = resolve(s.items || {});
    const area = el("textarea", { id, rows: 3, placeholder: "one item per line" }, Array.isArray(s.default) ? s.default.join("\n") : "");
    control = area;
    field.read = () => {
      const lines = area.value.split("\n").filter((l) => l.trim() !== "");
      if (lines.length === 0) return required ? { error: "give at least one item" } : { present: false };
      const values = [];
      for (const line of lines) {
        if (items.type === "integer" || items.type === "number") {
          const n = Number(line);
          if (!Number.isFinite(n)) return { error: JSON.stringify(line) + " is not a number" };
          values.push(n);
        } else if (items.type === "boolean") values.push(/^(true|1|yes)$/i.test(line.trim()));
        else values.push(line);
      }
      return { present: true, value: values };
    };
  } else {
    const area = el("textarea", { id, rows: 3, placeholder: "JSON" }, s.default !== undefined ? JSON.stringify(s.default, null, 2) : "");
    control = area;
    field.read = () => {
      if (area.value.trim() === "") return required ? { error: "required" } : { present: false };
      try { return { present: true, value: JSON.parse(area.value) }; } catch (e) { return { error: "not valid JSON: " + e.message }; }
    };
  }
  field.setError = (message) => {
    wrap.classList.toggle("invalid", !!message);
    error.hidden = !message;
    error.textContent = message || "";
  };
  wrap.append(...[label, s.description ? el("p", { class: "description" }, s.description) : null, control, error].filter(Boolean));
  return field;
}

function inputSchemaName() { return state.mode === "trainings" ? "TrainingInput" : "Input"; }
function outputSchema() { return resolve((state.schema.components.schemas || {})[state.mode === "trainings" ? "TrainingOutput" : "Output"] || {}); }

function buildForm() {
  const form = $("form");
  form.replaceChildren();
  const schemas = (state.schema.components || {}).schemas || {};
  const input = schemas[inputSchemaName()];
  if (!input) {
    form.append(el("p", { class: "error" }, "The model's /openapi.json has no components.schemas." + inputSchemaName() + "."));
    state.fields = [];
    return;
  }
  const required = input.required || [];
  const props = Object.entries(input.properties || {})
    .sort(([, a], [, b]) => (a["x-order"] ?? 1e9) - (b["x-order"] ?? 1e9));
  // The title is the property's own (an enum's referenced schema is titled after its type).
  const titled = (name) => name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  state.fields = props.map(([name, raw]) => buildField(name, { ...resolve(raw), title: raw.title || titled(name) }, required.includes(name)));
  if (state.fields.length === 0) form.append(el("p", { class: "muted" }, "This model takes no inputs."));
  for (const f of state.fields) form.append(f.node);
  $("form-title").textContent = state.mode === "trainings" ? "Training input" : "Input";
}

function buildTabs() {
  const tabs = $("tabs");
  tabs.replaceChildren();
  const paths = state.schema.paths || {};
  const schemas = (state.schema.components || {}).schemas || {};
  const modes = [];
  if (paths["/predictions"] && schemas.Input) modes.push(["predictions", "Predictions"]);
  if (paths["/trainings"] && schemas.TrainingInput) modes.push(["trainings", "Trainings"]);
  // A server in train mode (--x-mode train) has only trainings.
  if (modes.length && !modes.some(([mode]) => mode === state.mode)) state.mode = modes[0][0];
  if (modes.length === 1 && modes[0][0] === "predictions") return;
  for (const [mode, title] of modes) {
    tabs.append(el("button", { type: "button", id: "tab-" + mode, class: mode === state.mode ? "active" : "",
      onclick: () => { state.mode = mode; buildTabs(); buildForm(); } }, title));
  }
}

// ---- running -------------------------------------------------------------------------------

function newId() { return "pg-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 8); }

function collectInput() {
  const input = {};
  let ok = true;
  for (const f of state.fields) {
    f.setError("");
    const r = f.read();
    if (r.error) { f.setError(r.error); ok = false; } else if (r.present) input[f.name] = r.value;
  }
  return ok ? input : null;
}

function applyState(entry, s) {
  for (const key of ["status", "output", "logs", "error", "metrics"]) if (s[key] !== undefined) entry[key] = s[key];
}

// A browser keeps about six connections per host, and each followed run holds one: runs whose
// webhooks never come must not take them all (every later request would wait). Beyond this many,
// the oldest stop being followed; choosing one in History follows it again (the sink replays).
const MAX_FOLLOWED = 3;

function subscribe(entry) {
  const followed = state.history.filter((e) => e !== entry && e.source);
  for (const old of followed.slice(MAX_FOLLOWED - 1)) { old.source.close(); old.source = null; }
  const source = new EventSource("/events/" + encodeURIComponent(entry.id));
  entry.source = source;
  source.addEventListener("webhook", (event) => {
    const s = JSON.parse(event.data);
    applyState(entry, s);
    entry.webhooks = (entry.webhooks || 0) + 1;
    if (typeof entry.error === "string" && entry.error.startsWith("No webhook has arrived")) entry.error = undefined;
    if (TERMINAL.includes(s.status)) finish(entry);
    render();
  });
}

function finish(entry) {
  if (entry.source) { entry.source.close(); entry.source = null; }
  entry.finished = new Date();
  render();
}

async function run(event) {
  event.preventDefault();
  $("error").hidden = true;
  const form = $("form");
  if (!$("novalidate").checked && !form.reportValidity()) return;
  const input = collectInput();
  if (!input) return;
  const async = $("async").checked;
  const entry = { id: newId(), mode: state.mode, status: "starting", output: null, logs: "", started: new Date(), async };
  const body = { id: entry.id, input };
  const headers = {};
  if (async) {
    body.webhook = state.config.webhook_url;
    body.webhook_events_filter = ["start", "output", "logs", "completed"];
    headers.Prefer = "respond-async";
    subscribe(entry);  // before the request: no webhook can come before the stream is open
  }
  entry.request = { method: "POST", path: "/" + state.mode, headers: { "Content-Type": "application/json", ...headers }, body };
  state.history.unshift(entry);
  state.current = entry;
  render();
  const answer = await api("POST", "/" + state.mode, body, headers);
  entry.response = { status: answer.status, body: answer.json ?? answer.text };
  if (answer.status === 200 && answer.json) { applyState(entry, answer.json); finish(entry); }
  else if (answer.status === 202 && answer.json) {
    if (!TERMINAL.includes(entry.status)) applyState(entry, answer.json);
    // A model that cannot reach the sink would leave the page waiting without a word: say why.
    setTimeout(() => {
      if (entry.webhooks || entry.finished) return;
      entry.error = "No webhook has arrived from the model after 15 s. Its server must reach " + state.config.webhook_url +
        " (restart the playground with --webhook-host set to a name the model's server resolves to this machine), or run without Async.";
      render();
    }, 15000);
  }
  else {
    entry.status = answer.status === 422 && answer.json && Array.isArray(answer.json.detail) ? "invalid" : "error";
    entry.error = errorText(answer);
    if (entry.status === "invalid") showFieldErrors(answer.json.detail);
    finish(entry);
  }
  render();
}

function showFieldErrors(detail) {
  const loose = [];
  for (const item of detail) {
    const loc = Array.isArray(item.loc) ? item.loc : [];
    const name = loc[0] === "body" && loc[1] === "input" ? loc[2] : undefined;
    const field = state.fields.find((f) => f.name === name);
    if (field) field.setError(item.msg || "invalid");
    else loose.push(loc.join(".") + ": " + (item.msg || "invalid"));
  }
  if (loose.length) state.current.error = loose.join("\n");
  else state.current.error = "The server refused the input (422): see the marked fields.";
}

async function cancel() {
  const entry = state.current;
  if (!entry || TERMINAL.includes(entry.status)) return;
  entry.canceling = true;
  render();
  const answer = await api("POST", "/" + entry.mode + "/" + encodeURIComponent(entry.id) + "/cancel", {});
  if (answer.status !== 200) { entry.cancelError = errorText(answer); render(); }
}

// ---- rendering -----------------------------------------------------------------------------

function isFileLike(v) { return typeof v === "string" && (/^data:[^,]*,/.test(v) || /^https?:\/\//.test(v)); }

function mediaKind(v) {
  const data = /^data:([a-z]+)\//i.exec(v);
  if (data) return ["image", "audio", "video"].includes(data[1].toLowerCase()) ? data[1].toLowerCase() : "file";
  const path = v.split(/[?#]/)[0].toLowerCase();
  if (/\.(png|jpe?g|gif|webp|svg|bmp|avif)$/.test(path)) return "image";
  if (/\.(wav|mp3|ogg|flac|m4a|aac)$/.test(path)) return "audio";
  if (/\.(mp4|webm|mov|mkv)$/.test(path)) return "video";
  return "file";
}

function renderFile(v) {
  const kind = mediaKind(v);
  if (kind === "image") return el("img", { class: "output-image", src: v, alt: "output image" });
  if (kind === "audio") return el("audio", { class: "output-audio", src: v, controls: true });
  if (kind === "video") return el("video", { class: "output-video", src: v, controls: true });
  const name = v.startsWith("data:") ? "output file (" + (/^data:([^;,]*)/.exec(v)[1] || "data") + ")" : v.split("/").pop();
  return el("a", { class: "output-file", href: v, download: "" }, "Download " + name);
}

function renderValue(value, schema) {
  if (value === null || value === undefined) return el("p", { class: "muted" }, "No output.");
  if (Array.isArray(value)) {
    if (schema && schema["x-cog-array-display"] === "concatenate" && value.every((v) => typeof v === "string")) {
      return el("pre", { class: "output-text" }, value.join(""));
    }
    if (value.length > 0 && value.every(isFileLike)) return el("div", { class: "gallery" }, value.map(renderFile));
    return el("ol", { class: "output-list" }, value.map((v) => el("li", {}, renderValue(v))));
  }
  if (typeof value === "object") return el("pre", { class: "output-json" }, JSON.stringify(value, null, 2));
  if (isFileLike(value)) return renderFile(value);
  return el("pre", { class: "output-text" }, String(value));
}

// Long strings (data: URLs) shortened for display; copying takes the full text.
function shorten(value) {
  return JSON.stringify(value, (k, v) => (typeof v === "string" && v.length > 300 ? v.slice(0, 120) + "…(" + v.length + " chars)" : v), 2);
}

function curlFor(entry, full) {
  const quote = (s) => "'" + s.replace(/'/g, "'\\''") + "'";
  const r = entry.request;
  const parts = ["curl", "-s", "-X", r.method, quote(state.config.target + r.path)];
  for (const [k, v] of Object.entries(r.headers)) parts.push("-H", quote(k + ": " + v));
  parts.push("-d", quote(full ? JSON.stringify(r.body) : shorten(r.body).replace(/\n\s*/g, " ")));
  return parts.join(" ");
}

function render() {
  const entry = state.current;
  $("cancel").disabled = !entry || !!entry.finished || TERMINAL.includes(entry.status);
  renderHistory();
  if (!entry) return;
  const status = $("status");
  const seconds = entry.metrics && typeof entry.metrics.predict_time === "number" ? " (" + entry.metrics.predict_time.toFixed(2) + " s)" : "";
  status.textContent = entry.status + (entry.canceling && !TERMINAL.includes(entry.status) ? " — canceling…" : "") + seconds;
  status.className = "status " + entry.status;
  const problem = [entry.error, entry.cancelError && "cancel: " + entry.cancelError].filter(Boolean).join("\n");
  $("error").hidden = !problem;
  $("error").textContent = problem;
  const out = $("output");
  const schema = entry.mode === state.mode ? outputSchema() : {};
  out.replaceChildren(entry.output === null || entry.output === undefined
    ? el("p", { class: "muted" }, TERMINAL.includes(entry.status) || entry.finished ? "No output." : "Waiting for output…")
    : renderValue(entry.output, schema));
  $("logs").textContent = entry.logs || "";
  $("inspect-request").textContent = entry.request.method + " " + state.config.target + entry.request.path + "\n" +
    Object.entries(entry.request.headers).map(([k, v]) => k + ": " + v).join("\n") + "\n\n" + shorten(entry.request.body);
  $("inspect-response").textContent = entry.response ? "HTTP " + entry.response.status + "\n\n" + shorten(entry.response.body)
    : "(waiting)";
  $("inspect-curl").textContent = curlFor(entry, false);
}

function renderHistory() {
  const list = $("history");
  list.replaceChildren(...state.history.map((entry) => el("li", { class: entry === state.current ? "current" : "" },
    el("button", { type: "button", onclick: () => {
      state.current = entry;
      if (entry.async && !entry.source && !entry.finished && !TERMINAL.includes(entry.status)) subscribe(entry);
      render();
    } },
      entry.started.toLocaleTimeString() + " · " + entry.mode.replace(/s$/, "") + " · " + entry.status))));
}

async function copyCurl() {
  if (!state.current) return;
  const text = curlFor(state.current, true);
  try { await navigator.clipboard.writeText(text); $("copy-curl").textContent = "Copied"; }
  catch (e) {
    const area = el("textarea", {}, text);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
    $("copy-curl").textContent = "Copied";
  }
  setTimeout(() => { $("copy-curl").textContent = "Copy"; }, 1500);
}

// ---- start ---------------------------------------------------------------------------------

async function pollHealth() {
  const answer = await api("GET", "/health-check");
  const health = $("health");
  const status = answer.json && answer.json.status;
  health.textContent = status ? status : "unreachable";
  health.className = "health " + (status === "READY" || status === "BUSY" ? "ok" : "bad");
  health.title = status ? "" : errorText(answer);
  // The model came up after the page: read its schema now rather than wait for Retry.
  if (!state.schema && (status === "READY" || status === "BUSY")) loadSchema();
}

async function loadSchema() {
  $("banner").hidden = true;
  $("run").disabled = !state.schema;
  const answer = await api("GET", "/openapi.json");
  if (answer.status !== 200 || !answer.json) {
    $("form").replaceChildren(el("p", { class: "error" }, "Could not read the model's schema: " + errorText(answer)));
    showBanner("Could not read " + state.config.target + "/openapi.json: " + errorText(answer), loadSchema);
    return;
  }
  state.schema = answer.json;
  $("run").disabled = false;
  buildTabs();
  buildForm();
}

// A page that goes away mid-run cancels what it started: a synchronous run would otherwise keep
// the model busy (and the proxy's request open) for nobody, and no page could show its result.
// keepalive lets the request outlive the page.
function cancelUnfinishedRuns() {
  for (const entry of state.history) {
    if (entry.finished || TERMINAL.includes(entry.status)) continue;
    fetch("/api/" + entry.mode + "/" + encodeURIComponent(entry.id) + "/cancel",
      { method: "POST", keepalive: true, headers: { "Content-Type": "application/json" }, body: "{}" }).catch(() => {});
  }
}

async function start() {
  window.addEventListener("pagehide", cancelUnfinishedRuns);
  $("form").addEventListener("submit", run);
  $("cancel").addEventListener("click", cancel);
  $("reset").addEventListener("click", () => { if (state.schema) buildForm(); });
  $("copy-curl").addEventListener("click", copyCurl);
  $("novalidate").addEventListener("change", () => { $("form").noValidate = $("novalidate").checked; });
  try {
    const response = await fetch("/playground/config");
    state.config = await response.json();
  } catch (e) {
    showBanner("The playground server is not answering: " + e.message, () => location.reload());
    return;
  }
  $("target").textContent = state.config.target;
  await loadSchema();
  pollHealth();
  setInterval(pollHealth, 5000);
}

start();
