// Whitelists (normal ID lists and regex lists) and release rules (city / model / network / OS version).
import { api } from "../api.js";
import {
  badge, busy, clear, confirmDialog, describe, field, form, formValues, h, input, postToS3, progressBar,
  select, showError, table, textarea, waitForUpload, when,
} from "../ui.js";

const RULE_TYPES = [["city", "City"], ["model", "Device model"], ["network", "Network"], ["osVersion", "OS version"]];
const PLATFORMS = [["all", "All platforms"], ["android", "Android"], ["ios", "iOS"]];

export async function render(body, ctx) {
  const whitelists = h("section", { "aria-labelledby": "wl-title" });
  const rules = h("section", { "aria-labelledby": "rules-title" });
  clear(body, whitelists, rules);
  await Promise.all([renderWhitelists(whitelists, ctx), renderRules(rules, ctx)]);
}

// ---------------------------------------------------------------- whitelists

const opened = { id: null };  // the whitelist shown below the list, kept open across re-renders

async function renderWhitelists(section, ctx, summary = null) {
  const { whitelists } = await api.get(`${ctx.ws}/whitelists`);
  const area = h("div");
  const detail = h("div");
  const reload = (next = null) => renderWhitelists(section, ctx, next);
  clear(
    section,
    h("div", { class: "toolbar" },
      h("h2", { id: "wl-title" }, "Whitelists"),
      ctx.canEdit ? h("button", { type: "button", class: "primary", onclick: () => clear(area, whitelistForm(ctx, area, reload)) }, "New whitelist") : null),
    area,
    table(
      [
        { label: "ID", cell: (w) => w.whitelistId },
        { label: "Name", cell: (w) => h("strong", {}, w.name) },
        { label: "Type", cell: (w) => (w.type === "regex" ? badge("regex", "warn") : badge("IDs")) },
        { label: "Count", cell: (w) => (w.type === "regex" ? `${(w.patterns || []).length} pattern(s)` : String(w.count)) },
        { label: "Updated", cell: (w) => when(w.updatedAt || w.createdAt) },
        { label: "Actions", cell: (w) => h("button", { type: "button", "aria-label": `Open whitelist ${w.name}`, onclick: () => openWhitelist(detail, w.whitelistId, ctx, reload) }, "Open") },
      ],
      whitelists,
      { empty: "No whitelists yet.", caption: `${whitelists.length} whitelist(s)` },
    ),
    detail,
  );
  if (opened.id && whitelists.some((w) => w.whitelistId === opened.id)) await openWhitelist(detail, opened.id, ctx, reload, summary);
}

function whitelistForm(ctx, area, done) {
  const type = select("type", [["normal", "User IDs"], ["regex", "Regular expressions"]]);
  const ids = field("User IDs (commas or new lines)", textarea("ids"), { wide: true });
  const patterns = field("Patterns (one per line, at most 20)", textarea("patterns"), { wide: true, hint: "each must match a whole user ID; checked for catastrophic backtracking" });
  const result = h("div");
  const submit = h("button", { type: "submit", class: "primary" }, "Create whitelist");
  const sync = () => {
    ids.hidden = type.value !== "normal";
    patterns.hidden = type.value !== "regex";
  };
  type.addEventListener("change", sync);
  const el = form(
    {
      class: "card",
      "aria-label": "New whitelist",
      onsubmit: async (event) => {
        event.preventDefault();
        const values = formValues(el);
        if (values.patterns !== undefined) values.patterns = values.patterns.split("\n").map((p) => p.trim()).filter(Boolean);
        else if (values.type === "regex") values.patterns = [];
        await busy(submit, (async () => {
          try {
            const created = await api.post(`${ctx.ws}/whitelists`, values);
            ctx.notice(`Whitelist ${created.name} created with ${created.count} entr${created.count === 1 ? "y" : "ies"}.`);
            clear(area, importSummary(created));
            done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h3", {}, "New whitelist"),
    h("div", { class: "grid" }, field("Name", input("name", { maxlength: 64 })), field("Type", type), ids, patterns),
    result,
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  sync();
  return el;
}

function importSummary(result) {
  const rejected = result.rejected || [];
  return h("div", { class: "card", role: "status" },
    h("p", {}, `Added ${result.added ?? 0}, already present ${result.alreadyPresent ?? 0}, rejected ${result.rejectedCount ?? rejected.length}.`),
    rejected.length
      ? table([
          { label: "Line", cell: (r) => String(r.line) },
          { label: "Value", cell: (r) => r.value },
          { label: "Reason", cell: (r) => r.reason },
        ], rejected.slice(0, 50), { caption: "Rejected lines" })
      : null);
}

// `summary`: what the last change did (added, rejected lines...), kept across the re-render.
async function openWhitelist(box, whitelistId, ctx, reloadList, summary = null) {
  opened.id = whitelistId;
  const w = await api.get(`${ctx.ws}/whitelists/${whitelistId}`);
  const members = h("div");
  const editArea = h("div", {}, summary);
  const reload = (next = null) => reloadList(next);  // the list re-renders this whitelist too
  const rename = ctx.canEdit ? renameForm(w, ctx, reload) : null;
  clear(box, h("section", { class: "card", "aria-label": `Whitelist ${w.name}` },
    h("h3", {}, `${w.name} (${w.type === "regex" ? "regular expressions" : `${w.count} user IDs`})`),
    rename,
    w.type === "regex" ? regexEditor(w, ctx, reload) : [memberSearch(w, ctx, members), members, ctx.canEdit ? memberEditor(w, ctx, editArea, reload) : null, editArea],
    ctx.canEdit
      ? h("div", { class: "actions" }, h("button", {
          type: "button",
          class: "danger",
          onclick: async () => {
            if (!(await confirmDialog(`Delete whitelist ${w.name}?`, { confirmText: "Delete", danger: true }))) return;
            try {
              await api.del(`${ctx.ws}/whitelists/${w.whitelistId}`);
              ctx.notice(`Whitelist ${w.name} deleted.`);
              opened.id = null;
              clear(box);
              reloadList();
            } catch (error) {
              ctx.notice(describe(error), "error");
            }
          },
        }, "Delete whitelist"))
      : null));
  if (w.type !== "regex") loadMembers(members, w, ctx, "");
}

function renameForm(w, ctx, reload) {
  const name = input("name", { value: w.name, maxlength: 64 });
  const el = form(
    {
      class: "toolbar",
      "aria-label": "Rename whitelist",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api.patch(`${ctx.ws}/whitelists/${w.whitelistId}`, { name: name.value.trim(), version: w.version });
          ctx.notice(`Whitelist renamed to ${name.value.trim()}.`);
          await reload();
        } catch (error) {
          showError(el, error);
        }
      },
    },
    field("Whitelist name", name), h("button", { type: "submit" }, "Rename"));
  return el;
}

function memberSearch(w, ctx, members) {
  const q = input("q", { type: "search", placeholder: "substring of a user ID" });
  const el = form({ class: "toolbar", "aria-label": "Search members", onsubmit: (e) => { e.preventDefault(); loadMembers(members, w, ctx, q.value); } },
    field("Search members", q), h("button", { type: "submit" }, "Search"));
  return el;
}

async function loadMembers(box, w, ctx, q) {
  const page = await api.get(`${ctx.ws}/whitelists/${w.whitelistId}/members`, { q, limit: 50 });
  clear(box, page.ids.length ? h("p", { class: "members" }, page.ids.join(", "), page.nextCursor ? " …" : "") : h("p", { class: "muted" }, "No matching IDs."));
}

function memberEditor(w, ctx, area, reload) {
  const ids = textarea("ids", { rows: 3 });
  const file = h("input", { type: "file", name: "file", accept: ".txt,.csv" });
  const add = h("button", { type: "submit", class: "primary" }, "Add IDs");
  const el = form(
    {
      class: "card",
      "aria-label": "Add or remove IDs",
      onsubmit: async (event) => {
        event.preventDefault();
        const chosen = file.files[0];
        await busy(add, (async () => {
          try {
            if (chosen) {
              const token = await api.post(`${ctx.ws}/whitelists/${w.whitelistId}/imports`, { filename: chosen.name });
              const progress = progressBar(`Uploading ${chosen.name}`);
              clear(area, progress.el);
              await postToS3(token.post, chosen, (f) => progress.set(f));
              const done = await waitForUpload(ctx.ws, token.uploadId, { onStatus: (s) => progress.status(s) });
              if (done.status === "failed") throw Object.assign(new Error(done.error || "the file was refused"), { field: "file" });
              ctx.notice(`Whitelist ${w.name} updated.`);
              await reload(importSummary(done.result || {}));
            } else {
              const result = await api.post(`${ctx.ws}/whitelists/${w.whitelistId}/members`, { ids: ids.value });
              ctx.notice(`Whitelist ${w.name} updated.`);
              await reload(importSummary(result));
            }
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("div", { class: "grid" },
      field("IDs to add or remove (commas or new lines)", ids, { wide: true }),
      field("…or a .txt/.csv file of IDs", file, { hint: "Add IDs imports it (any size); Remove IDs reads it here (up to 1 MB)" })),
    h("div", { class: "actions" },
      h("button", {
        type: "button",
        onclick: async () => {
          try {
            const chosen = file.files[0];  // a file to remove is read here: the API takes up to 1 MB of text
            const text = chosen ? await chosen.text() : ids.value;
            const result = await api.post(`${ctx.ws}/whitelists/${w.whitelistId}/members/remove`, { ids: text });
            ctx.notice(`Removed ${result.removed}, not present ${result.notPresent}.`);
            await reload();
          } catch (error) {
            showError(el, error);
          }
        },
      }, "Remove IDs"),
      add),
  );
  return el;
}

function regexEditor(w, ctx, reload) {
  const patterns = textarea("patterns", { value: (w.patterns || []).join("\n"), readonly: !ctx.canEdit });
  const probe = input("userId", { placeholder: "a user ID to test" });
  const probeResult = h("span", { role: "status" });
  const save = h("button", { type: "submit", class: "primary" }, "Save patterns");
  const el = form(
    {
      "aria-label": "Regex patterns",
      onsubmit: async (event) => {
        event.preventDefault();
        const list = patterns.value.split("\n").map((p) => p.trim()).filter(Boolean);
        await busy(save, (async () => {
          try {
            await api.patch(`${ctx.ws}/whitelists/${w.whitelistId}`, { patterns: list, version: w.version });
            ctx.notice("Patterns saved.");
            await reload();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    field("Patterns (one per line)", patterns, { wide: true, hint: "validated on save: syntax, length and catastrophic backtracking" }),
    h("div", { class: "toolbar" },
      field("Test a user ID", probe),
      h("button", {
        type: "button",
        onclick: async () => {
          const r = await api.get(`${ctx.ws}/whitelists/${w.whitelistId}/members/${encodeURIComponent(probe.value)}`);
          probeResult.textContent = r.member ? `${probe.value} matches` : `${probe.value} does not match`;
        },
      }, "Test"),
      probeResult),
    ctx.canEdit ? h("div", { class: "actions" }, save) : null,
  );
  return el;
}

// ---------------------------------------------------------------- release rules

async function renderRules(section, ctx) {
  const { releaseRules } = await api.get(`${ctx.ws}/release-rules`);
  const area = h("div");
  const reload = () => renderRules(section, ctx);
  const selected = new Set();
  const batch = h("button", {
    type: "button",
    class: "danger",
    disabled: true,
    onclick: async () => {
      const ids = [...selected];
      if (!(await confirmDialog(`Delete ${ids.length} release rule(s)?`, { confirmText: "Delete", danger: true }))) return;
      try {
        await api.post(`${ctx.ws}/release-rules/batch-delete`, { ruleIds: ids });
        ctx.notice(`${ids.length} rule(s) deleted.`);
        reload();
      } catch (error) {
        ctx.notice(describe(error), "error");
      }
    },
  }, "Delete selected");
  const columns = [
    ...(ctx.canEdit
      ? [{
          label: "Select",
          cell: (r) => h("input", {
            type: "checkbox",
            "aria-label": `Select rule ${r.name}`,
            onchange: (e) => {
              if (e.target.checked) selected.add(r.ruleId);
              else selected.delete(r.ruleId);
              batch.disabled = selected.size === 0;
            },
          }),
        }]
      : []),
    { label: "Name", cell: (r) => h("strong", {}, r.name) },
    { label: "Type", cell: (r) => (RULE_TYPES.find(([v]) => v === r.type) || [0, r.type])[1] },
    { label: "Platform", cell: (r) => r.platform },
    { label: "Value", cell: (r) => r.value },
    { label: "Updated", cell: (r) => when(r.updatedAt || r.createdAt) },
    ...(ctx.canEdit
      ? [{
          label: "Actions",
          cell: (r) => [
            h("button", { type: "button", "aria-label": `Edit rule ${r.name}`, onclick: () => clear(area, ruleForm(ctx, area, reload, r)) }, "Edit"),
            h("button", {
              type: "button",
              class: "danger",
              "aria-label": `Delete rule ${r.name}`,
              onclick: async () => {
                if (!(await confirmDialog(`Delete release rule ${r.name}?`, { confirmText: "Delete", danger: true }))) return;
                try {
                  await api.del(`${ctx.ws}/release-rules/${r.ruleId}`);
                  reload();
                } catch (error) {
                  ctx.notice(describe(error), "error");
                }
              },
            }, "Delete"),
          ],
        }]
      : []),
  ];
  clear(
    section,
    h("div", { class: "toolbar" },
      h("h2", { id: "rules-title" }, "Release rules"),
      ctx.canEdit ? h("button", { type: "button", class: "primary", onclick: () => clear(area, ruleForm(ctx, area, reload)) }, "New rule") : null,
      ctx.canEdit ? batch : null),
    area,
    table(columns, releaseRules, { empty: "No release rules yet.", caption: `${releaseRules.length} rule(s)` }),
  );
}

function ruleForm(ctx, area, done, rule = null) {
  const submit = h("button", { type: "submit", class: "primary" }, rule ? "Save rule" : "Create rule");
  const el = form(
    {
      class: "card",
      "aria-label": rule ? `Edit rule ${rule.name}` : "New release rule",
      onsubmit: async (event) => {
        event.preventDefault();
        const values = formValues(el);
        await busy(submit, (async () => {
          try {
            if (rule) await api.put(`${ctx.ws}/release-rules/${rule.ruleId}`, { ...values, version: rule.version });
            else await api.post(`${ctx.ws}/release-rules`, values);
            ctx.notice(`Rule ${values.name || ""} saved.`);
            clear(area);
            done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h3", {}, rule ? `Edit rule ${rule.name}` : "New release rule"),
    h("div", { class: "grid" },
      field("Rule type", select("type", RULE_TYPES, { value: rule ? rule.type : "city" })),
      field("Platform", select("platform", PLATFORMS, { value: rule ? rule.platform : "all" })),
      field("Rule name", input("name", { value: rule ? rule.name : "" })),
      field("Value", input("value", { value: rule ? rule.value : "" }), { hint: "a city, a model, 2G/3G/4G/5G/Wi-Fi/WLAN, or an OS version" })),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  return el;
}
