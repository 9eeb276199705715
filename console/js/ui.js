// Small DOM helpers: element builder, labelled fields, inline field errors, dialogs, progress bars,
// and the browser → S3 upload (presigned POST with XMLHttpRequest upload progress).
import { api, ApiError } from "./api.js";

let uid = 0;
export const nextId = (prefix = "f") => `${prefix}-${++uid}`;

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else if (key === "checked" || key === "selected" || key === "disabled" || key === "multiple") el[key] = !!value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A labelled control. `name` is the API's field name, so a ValidationError lands next to it.
export function field(label, control, { hint, wide } = {}) {
  const id = control.id || nextId(control.name || "f");
  control.id = id;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  control.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return h(
    "div",
    { class: wide ? "field wide" : "field", dataset: { field: control.name || "" } },
    h("label", { for: id }, label),
    control,
    hint ? h("small", { id: hintId, class: "hint" }, hint) : null,
    h("div", { id: errorId, class: "field-error", role: "alert", hidden: true }),
  );
}

export const input = (name, attrs = {}) => h("input", { name, type: "text", ...attrs });
export const textarea = (name, attrs = {}) => h("textarea", { name, rows: 4, ...attrs });
export function select(name, options, attrs = {}) {
  return h(
    "select",
    { name, ...attrs },
    options.map(([value, text]) => h("option", { value, selected: attrs.value === value }, text)),
  );
}

export function form(attrs, ...children) {
  return h("form", { novalidate: true, ...attrs }, h("div", { class: "form-error", role: "alert", hidden: true }), ...children);
}

export function clearErrors(container) {
  container.querySelectorAll(".field-error").forEach((el) => {
    el.hidden = true;
    el.textContent = "";
  });
  container.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  container.querySelectorAll(".form-error").forEach((el) => {
    el.hidden = true;
    el.textContent = "";
  });
}

export function describe(error) {
  if (!(error instanceof ApiError)) return String(error && error.message ? error.message : error);
  if (error.status === 403) return `Your role does not allow this: ${error.message}`;
  if (error.status === 429) return `Too many attempts: ${error.message}`;
  if (error.status >= 500) return `The server failed (request ${error.requestId || "unknown"}). ${error.message}`;
  return error.message;
}

// Shows an API error next to the control it names (`field`, or its first dotted part), else on top.
export function showError(container, error) {
  clearErrors(container);
  const fieldName = error && error.field ? error.field : null;
  let control = null;
  if (fieldName) {
    const candidates = [fieldName, fieldName.split(".")[0], fieldName.split("[")[0]];
    for (const name of candidates) {
      control = container.querySelector(`[name="${CSS.escape(name)}"]`);
      if (control) break;
    }
  }
  const text = describe(error);
  if (!control && fieldName) {
    // a group of controls (checkbox lists, rule rows) shows its errors in its own box
    const name = fieldName.split(/[.[]/)[0];
    const box = container.querySelector(`[data-field="${CSS.escape(name)}"] > .field-error`);
    if (box) {
      box.textContent = text;
      box.hidden = false;
      return;
    }
  }
  if (control) {
    const box = document.getElementById(`${control.id}-error`);
    if (box) {
      // The API names the field in its message ("version: must be ..."); the label already does.
      box.textContent = text.startsWith(`${fieldName}: `) ? text.slice(fieldName.length + 2) : text;
      box.hidden = false;
      control.setAttribute("aria-invalid", "true");
      control.focus();
      return;
    }
  }
  const top = container.querySelector(".form-error") || container;
  top.textContent = text;
  top.hidden = false;
}

export function notice(text, kind = "info") {
  const area = document.getElementById("notices");
  if (!area) return;
  const item = h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text,
    h("button", { type: "button", class: "link", "aria-label": "Dismiss", onclick: () => item.remove() }, "×"));
  area.append(item);
  if (kind !== "error") setTimeout(() => item.remove(), 6000);
}

// A modal confirmation. With `typed`, the user must type that exact text to confirm.
export function confirmDialog(message, { confirmText = "Confirm", danger = false, typed = null } = {}) {
  return new Promise((resolve) => {
    const typedInput = typed ? input("confirmation", { autocomplete: "off" }) : null;
    const ok = h("button", { type: "submit", class: danger ? "danger" : "primary", disabled: !!typed }, confirmText);
    if (typedInput) typedInput.addEventListener("input", () => (ok.disabled = typedInput.value !== typed));
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": "Confirm" },
      h(
        "form",
        { method: "dialog" },
        h("p", {}, message),
        typedInput ? field(`Type ${typed} to confirm`, typedInput) : null,
        h("div", { class: "actions" },
          h("button", { type: "button", onclick: () => dialog.close("cancel") }, "Cancel"),
          ok),
      ),
    );
    ok.addEventListener("click", (event) => {
      event.preventDefault();
      dialog.close("ok");
    });
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

export function progressBar(label) {
  const bar = h("progress", { max: 100, value: 0, "aria-label": label });
  const text = h("span", { class: "progress-text" }, "0%");
  const wrap = h("div", { class: "progress" }, h("span", {}, label), bar, text);
  return {
    el: wrap,
    set(fraction) {
      const pct = Math.round(fraction * 100);
      bar.value = pct;
      text.textContent = `${pct}%`;
    },
    status(message) {
      text.textContent = message;
    },
  };
}

// Sends `file` to S3 with the presigned POST the API handed out; onProgress gets 0..1.
export function postToS3(post, file, onProgress) {
  return new Promise((resolve, reject) => {
    const data = new FormData();
    for (const [key, value] of Object.entries(post.fields)) data.append(key, value);
    data.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        const match = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "");
        reject(new Error(`The storage refused the file (${xhr.status})${match ? `: ${match[1]}` : ""}.`));
      }
    });
    xhr.addEventListener("error", () => reject(new Error("The upload failed: the storage could not be reached.")));
    xhr.open("POST", post.url);
    xhr.send(data);
  });
}

// Waits until the event worker has processed an upload; returns the upload (status processed/failed).
export async function waitForUpload(ws, uploadId, { timeoutMs = 120000, onStatus } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const upload = await api.get(`${ws}/uploads/${uploadId}`);
    if (onStatus) onStatus(upload.status);
    if (upload.status === "processed" || upload.status === "failed") return upload;
    if (Date.now() > deadline) return upload;
    await sleep(500);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A datetime-local value ("2026-12-04T18:00") as ISO-8601 in the workspace's time zone (its
 * utcOffset, "+08:00" for mPaaS's default Asia/Shanghai), so "18:00" means 18:00 there, wherever the
 * browser is. */
export function inWorkspaceZone(localValue, workspace) {
  const withSeconds = localValue.length === 16 ? `${localValue}:00` : localValue;
  return `${withSeconds}${(workspace && workspace.utcOffset) || "+00:00"}`;
}

export function when(value) {
  if (value === null || value === undefined || value === "") return "—";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export function bytes(n) {
  if (n === null || n === undefined) return "—";
  const units = ["B", "KB", "MB", "GB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}` }, text);
}

// Key/value rendering of an API object (never raw JSON).
export function facts(object) {
  const rows = Object.entries(object || {}).filter(([, v]) => v !== null && v !== undefined && v !== "");
  if (!rows.length) return h("p", { class: "muted" }, "—");
  return h(
    "dl",
    { class: "facts" },
    rows.map(([key, value]) => [h("dt", {}, key), h("dd", {}, display(value))]),
  );
}

export function display(value, nested = false) {
  if (Array.isArray(value)) return value.map((v) => display(v, true)).join(", ") || "—";
  if (value && typeof value === "object") {
    const text = Object.entries(value).map(([k, v]) => `${k}: ${display(v, true)}`).join(nested ? ", " : "; ") || "—";
    return nested ? `(${text})` : text;
  }
  return String(value);
}

export function table(columns, rows, { empty = "Nothing here yet.", caption } = {}) {
  if (!rows.length) return h("p", { class: "muted empty" }, empty);
  return h(
    "table",
    {},
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => h("td", {}, c.cell(row)))))),
  );
}

export function formValues(formEl) {
  const values = {};
  for (const el of formEl.elements) {
    if (!el.name || el.disabled || el.type === "file" || el.type === "submit" || el.type === "button") continue;
    if (el.closest("[hidden]")) continue;
    if (el.type === "checkbox") {
      if (el.dataset.list) {
        values[el.name] = values[el.name] || [];
        if (el.checked) values[el.name].push(el.value);
      } else values[el.name] = el.checked;
    } else if (el.type === "number") {
      if (el.value !== "") values[el.name] = Number(el.value);
    } else if (el.value.trim() !== "") values[el.name] = el.value.trim();
  }
  return values;
}

export function busy(button, promise) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  return promise.finally(() => {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  });
}
