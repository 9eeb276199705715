// The audit log (admins): who changed what, when, with before/after, filtered and paged.
import { api } from "../api.js";
import { badge, busy, clear, describe, display, field, form, formValues, h, input, showError, table } from "../ui.js";

export async function render(body, ctx) {
  if (!ctx.isAdmin) {
    clear(body, h("p", { class: "notice info", role: "status" }, "The audit log is for workspace admins."));
    return;
  }
  const results = h("div");
  const more = h("div", { class: "actions" });
  const submit = h("button", { type: "submit", class: "primary" }, "Filter");
  let rows = [];
  const load = async (cursor) => {
    const values = formValues(filters);
    for (const key of ["since", "until"]) if (values[key]) values[key] = new Date(values[key]).toISOString();
    const page = await api.get(`${ctx.ws}/audit`, { ...values, cursor });
    rows = cursor ? rows.concat(page.entries) : page.entries;
    clear(results, table(
      [
        { label: "When (UTC)", cell: (e) => e.at.replace("T", " ").slice(0, 19) },
        { label: "Actor", cell: (e) => e.actor },
        { label: "Action", cell: (e) => h("code", {}, e.action) },
        { label: "Entity", cell: (e) => `${e.entityType} ${e.entityId}` },
        { label: "Outcome", cell: (e) => badge(e.outcome, e.outcome === "ok" ? "ok" : "error") },
        { label: "Change", cell: (e) => change(e) },
      ],
      rows,
      { empty: "No entries match these filters.", caption: `${rows.length} entr${rows.length === 1 ? "y" : "ies"}` },
    ));
    clear(more, page.nextCursor ? h("button", { type: "button", onclick: (ev) => busy(ev.target, load(page.nextCursor)) }, "Load more") : null);
  };
  const filters = form(
    {
      class: "card",
      "aria-label": "Audit filters",
      onsubmit: async (event) => {
        event.preventDefault();
        await busy(submit, load().catch((error) => showError(filters, error)));
      },
    },
    h("div", { class: "grid" },
      field("Entity type", input("entityType", { placeholder: "e.g. upgradeTask, whitelist" })),
      field("Entity ID", input("entityId")),
      field("Actor", input("actor", { placeholder: "e.g. user:admin" })),
      field("Since", input("since", { type: "datetime-local" })),
      field("Until", input("until", { type: "datetime-local" })),
      field("Limit", input("limit", { type: "number", min: 1, max: 500, value: "50" }))),
    h("div", { class: "actions" }, submit),
  );
  clear(body, filters, results, more);
  try {
    await load();
  } catch (error) {
    clear(results, h("p", { class: "notice error", role: "alert" }, describe(error)));
  }
}

function change(e) {
  const parts = [];
  if (e.detail) parts.push(h("div", {}, e.detail));
  if (e.before) parts.push(h("div", { class: "small" }, h("span", { class: "muted" }, "before: "), display(e.before)));
  if (e.after) parts.push(h("div", { class: "small" }, h("span", { class: "muted" }, "after: "), display(e.after)));
  return parts.length ? parts : "—";
}
