// Switch configuration: items (list/search, add/edit, enable/disable, delete), per-key history with a
// diff and rollback, and import/export of the JSON document the API exports.
import { api, ApiError } from "../api.js";
import {
  badge, busy, clear, clearErrors, confirmDialog, describe, display, field, form, formValues, h, input, select, showError,
  table, textarea, when,
} from "../ui.js";
import { rulesEditor } from "../rules.js";

const TYPES = [["string", "String"], ["number", "Number"], ["boolean", "Boolean"], ["json", "JSON"]];
const PLATFORMS = [["all", "All platforms"], ["android", "Android"], ["ios", "iOS"]];
let query = { keyword: "", platform: "" };

export async function render(body, ctx) {
  const list = h("div");
  const area = h("div");
  const detail = h("div");
  const reload = () => renderList(list, detail, ctx);
  const keyword = input("keyword", { type: "search", value: query.keyword, placeholder: "key, note or value" });
  const platform = select("platform", [["", "All"], ...PLATFORMS.slice(1)], { value: query.platform });
  const search = form(
    {
      class: "toolbar",
      "aria-label": "Search configuration",
      onsubmit: (event) => {
        event.preventDefault();
        query = { keyword: keyword.value.trim(), platform: platform.value };
        reload();
      },
    },
    field("Search", keyword),
    field("Platform", platform),
    h("button", { type: "submit" }, "Search"),
    ctx.canEdit ? h("button", { type: "button", class: "primary", onclick: () => clear(area, itemForm(ctx, area, reload)) }, "New item") : null,
    ctx.canEdit ? h("button", { type: "button", onclick: () => clear(area, importForm(ctx, area, reload)) }, "Import") : null,
    h("button", { type: "button", onclick: (event) => busy(event.target, exportAll(ctx)) }, "Export"),
  );
  clear(body, search, area, list, detail);
  await reload();
}

async function renderList(list, detail, ctx) {
  const page = await api.get(`${ctx.ws}/config/items`, { keyword: query.keyword, platform: query.platform, pageSize: 100 });
  const reload = () => renderList(list, detail, ctx);
  clear(list, table(
    [
      { label: "Key", cell: (i) => h("code", {}, i.key) },
      { label: "Type", cell: (i) => i.type },
      { label: "Platform", cell: (i) => i.platform },
      { label: "Value", cell: (i) => (i.value ?? "—") },
      { label: "Targeted", cell: (i) => String((i.targetedValues || []).length) },
      { label: "State", cell: (i) => (i.active ? badge("enabled", "ok") : badge("disabled", "muted")) },
      { label: "Version", cell: (i) => String(i.version) },
      { label: "Updated", cell: (i) => when(i.updatedAt || i.createdAt) },
      { label: "Actions", cell: (i) => itemActions(i, ctx, detail, reload) },
    ],
    page.items,
    { empty: "No configuration items match.", caption: `${page.total} item(s)` },
  ));
}

function itemActions(item, ctx, detail, reload) {
  const buttons = [h("button", { type: "button", "aria-label": `History of ${item.key}`, onclick: () => showHistory(detail, item.key, ctx, reload) }, "History")];
  if (!ctx.canEdit) return buttons;
  buttons.push(
    h("button", { type: "button", "aria-label": `Edit ${item.key}`, onclick: () => clear(detail, itemForm(ctx, detail, reload, item)) }, "Edit"),
    h("button", {
      type: "button",
      "aria-label": `${item.active ? "Disable" : "Enable"} ${item.key}`,
      onclick: async () => {
        const verb = item.active ? "disable" : "enable";
        if (!(await confirmDialog(`${item.active ? "Disable" : "Enable"} ${item.key}? Devices see the change after the next publish.`, { confirmText: item.active ? "Disable" : "Enable" }))) return;
        try {
          await api.post(`${ctx.ws}/config/items/${encodeURIComponent(item.key)}/${verb}`, { revision: item.revision });
          ctx.notice(`${item.key} ${verb}d.`);
          reload();
        } catch (error) {
          ctx.notice(describe(error), "error");
        }
      },
    }, item.active ? "Disable" : "Enable"),
    h("button", {
      type: "button",
      class: "danger",
      "aria-label": `Delete ${item.key}`,
      onclick: async () => {
        if (!(await confirmDialog(`Delete ${item.key}?`, { confirmText: "Delete", danger: true }))) return;
        try {
          await api.del(`${ctx.ws}/config/items/${encodeURIComponent(item.key)}`);
          ctx.notice(`${item.key} deleted.`);
          reload();
        } catch (error) {
          ctx.notice(describe(error), "error");
        }
      },
    }, "Delete"),
  );
  return buttons;
}

// Targeted values: a value for the devices a target picks (whitelists, client versions, rules, rollout);
// the first matching one wins, else the default value.
function targetedEditor(initial) {
  const rows = h("div");
  let touched = false;
  const add = (tv = null) => {
    touched = true;
    const value = h("input", { type: "text", "aria-label": "Targeted value", value: tv ? tv.value : "" });
    const lists = h("input", { type: "text", "aria-label": "Whitelist IDs", placeholder: "e.g. 1, 2", value: tv && tv.whitelistIds ? tv.whitelistIds.join(", ") : "" });
    const versions = h("input", { type: "text", "aria-label": "Client versions", placeholder: "e.g. 5.0-5.9",
      value: tv && tv.clientVersions ? tv.clientVersions.map((r) => (typeof r === "string" ? r : `${r.min ?? ""}-${r.max ?? ""}`)).join(", ") : "" });
    const rollout = h("input", { type: "number", min: 0, max: 100, step: "0.01", "aria-label": "Rollout percent", value: tv && tv.rollout && tv.rollout.percent !== undefined ? tv.rollout.percent : "" });
    const rules = rulesEditor(tv ? tv.rules : [], { label: "Rules of this value", name: "targetedRules" });
    const row = h("div", { class: "card targeted-row" },
      h("div", { class: "grid" },
        h("label", { class: "field" }, h("span", {}, "Value"), value),
        h("label", { class: "field" }, h("span", {}, "Whitelist IDs"), lists),
        h("label", { class: "field" }, h("span", {}, "Client versions"), versions),
        h("label", { class: "field" }, h("span", {}, "Rollout %"), rollout)),
      rules,
      h("button", { type: "button", "aria-label": "Remove targeted value", onclick: () => { touched = true; row.remove(); } }, "Remove value"));
    const split = (text) => text.split(",").map((v) => v.trim()).filter(Boolean);
    row.read = () => {
      const out = { value: value.value };
      if (split(lists.value).length) out.whitelistIds = split(lists.value);
      if (split(versions.value).length) out.clientVersions = split(versions.value);
      if (rules.read().length) out.rules = rules.read();
      if (rollout.value !== "") out.rollout = { percent: Number(rollout.value) };
      return out;
    };
    row.addEventListener("input", () => (touched = true));
    row.addEventListener("change", () => (touched = true));
    rows.append(row);
  };
  const error = h("div", { class: "field-error", role: "alert", hidden: true });
  const el = h("fieldset", { class: "field wide targeted", dataset: { field: "targetedValues" } },
    h("legend", {}, "Targeted values (the first match wins; others get the default)"),
    rows,
    h("button", { type: "button", onclick: () => add() }, "Add targeted value"),
    error);
  for (const tv of initial || []) add(tv);
  touched = false;
  el.read = () => [...rows.children].map((row) => row.read());
  el.touched = () => touched;
  return el;
}

function itemForm(ctx, area, done, item = null) {
  const targeted = targetedEditor(item ? item.targetedValues : []);
  const active = h("input", { type: "checkbox", name: "active", checked: item ? item.active : true });
  const submit = h("button", { type: "submit", class: "primary" }, item ? "Save item" : "Add item");
  const el = form(
    {
      class: "card",
      "aria-label": item ? `Edit ${item.key}` : "New configuration item",
      onsubmit: async (event) => {
        event.preventDefault();
        const values = formValues(el);
        values.active = active.checked;
        if (values.note === undefined) values.note = "";
        if (!item || targeted.touched()) values.targetedValues = targeted.read();
        await busy(submit, (async () => {
          try {
            if (item) {
              delete values.key;
              await api.patch(`${ctx.ws}/config/items/${encodeURIComponent(item.key)}`, { ...values, revision: item.revision });
            } else await api.post(`${ctx.ws}/config/items`, values);
            ctx.notice(`${item ? item.key : values.key} saved.`);
            clear(area);
            done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h3", {}, item ? `Edit ${item.key}` : "New configuration item"),
    h("div", { class: "grid" },
      field("Key", input("key", { value: item ? item.key : "", readonly: !!item, placeholder: "e.g. feature.newHome" })),
      field("Type", select("type", TYPES, { value: item ? item.type : "string" })),
      field("Platform", select("platform", PLATFORMS, { value: item ? item.platform : "all" })),
      field("Default value", input("value", { value: item ? item.value ?? "" : "" })),
      field("Note", textarea("note", { rows: 2, value: item ? item.note : "" }), { wide: true }),
      h("label", { class: "check" }, active, h("span", {}, "Enabled")),
      targeted),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  return el;
}

async function showHistory(box, key, ctx, reloadList) {
  const [{ versions }, current] = await Promise.all([
    api.get(`${ctx.ws}/config/items/${encodeURIComponent(key)}/history`),
    api.get(`${ctx.ws}/config/items/${encodeURIComponent(key)}`).catch(() => null),
  ]);
  clear(box, h("section", { class: "card", "aria-label": `History of ${key}` },
    h("h3", {}, `History of ${key}`),
    table(
      [
        { label: "Version", cell: (v) => String(v.version) },
        { label: "Action", cell: (v) => v.action },
        { label: "When", cell: (v) => when(v.at) },
        { label: "By", cell: (v) => v.by },
        { label: "Changes", cell: (v) => diffView(v.changes) },
        {
          label: "Actions",
          cell: (v) => (ctx.canEdit && current && v.version !== current.version && v.item
            ? h("button", {
                type: "button",
                "aria-label": `Roll back ${key} to version ${v.version}`,
                onclick: async () => {
                  if (!(await confirmDialog(`Roll ${key} back to version ${v.version}? This writes a new version with its content.`, { confirmText: "Roll back" }))) return;
                  try {
                    await api.post(`${ctx.ws}/config/items/${encodeURIComponent(key)}/rollback`, { version: v.version, revision: current.revision });
                    ctx.notice(`${key} rolled back to version ${v.version}.`);
                    await reloadList();
                    await showHistory(box, key, ctx, reloadList);
                  } catch (error) {
                    ctx.notice(describe(error), "error");
                  }
                },
              }, "Roll back")
            : "—"),
        },
      ],
      versions,
    )));
}

function diffView(changes) {
  if (!changes || !changes.length) return "—";
  return h("pre", { class: "diff" }, changes.map((c) => [
    h("div", {}, h("strong", {}, c.field)),
    c.before !== null && c.before !== undefined ? h("div", { class: "del" }, `- ${display(c.before)}`) : null,
    c.after !== null && c.after !== undefined ? h("div", { class: "add" }, `+ ${display(c.after)}`) : null,
  ]));
}

function importForm(ctx, area, done) {
  const file = h("input", { type: "file", name: "file", accept: ".json,application/json" });
  const skip = h("input", { type: "checkbox", name: "skipInvalid" });
  const result = h("div");
  const submit = h("button", { type: "submit", class: "primary" }, "Import file");
  const el = form(
    {
      class: "card",
      "aria-label": "Import configuration",
      onsubmit: async (event) => {
        event.preventDefault();
        const chosen = file.files[0];
        clearErrors(el);
        await busy(submit, (async () => {
          try {
            if (!chosen) throw new ApiError(400, { message: "choose a JSON file (an export of this page)", field: "file" });
            let document;
            try {
              document = JSON.parse(await chosen.text());
            } catch {
              throw new ApiError(400, { message: "is not valid JSON", field: "file" });
            }
            if (!document || typeof document !== "object" || Array.isArray(document)) {
              throw new ApiError(400, { message: 'must be an object like {"items": [...]}', field: "file" });
            }
            const outcome = await api.post(`${ctx.ws}/config/import`, { ...document, skipInvalid: skip.checked });
            clear(result, importResult(outcome));
            ctx.notice(`Imported ${outcome.imported.length} item(s).`);
            done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h3", {}, "Import configuration"),
    h("div", { class: "grid" },
      field("JSON file", file, { hint: 'the document Export writes: {"items": [...]}' }),
      h("label", { class: "check" }, skip, h("span", {}, "Skip invalid items and import the rest"))),
    result,
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Close"), submit),
  );
  return el;
}

function importResult(outcome) {
  const rows = [
    ...outcome.imported.map((key) => ({ item: key, result: "imported" })),
    ...outcome.skipped.map((key) => ({ item: key, result: "skipped: the key exists" })),
    ...outcome.invalid.map((i) => ({ item: `#${i.index + 1}`, result: `invalid: ${i.field} ${i.rule}` })),
  ];
  return table([{ label: "Item", cell: (r) => r.item }, { label: "Result", cell: (r) => r.result }], rows, {
    caption: `Import ${outcome.importId || ""}: ${outcome.imported.length} imported, ${outcome.skipped.length} skipped, ${outcome.invalid.length} invalid`,
    empty: "The file had no items.",
  });
}

async function exportAll(ctx) {
  const document = await api.get(`${ctx.ws}/config/export`);
  const blob = new Blob([JSON.stringify(document, null, 2)], { type: "application/json" });
  const link = h("a", { href: URL.createObjectURL(blob), download: `config-${ctx.workspace.appId}-${ctx.workspace.workspaceId}.json` });
  window.document.body.append(link);
  link.click();
  link.remove();
}
