// Workspace administration (admins): members and their roles, AccessKeys (the secret is shown once),
// the signing keys apps pin for static delivery (rotate), and how often devices check (the poll interval).
import { api } from "../api.js";
import {
  badge, busy, clear, confirmDialog, describe, field, form, formValues, h, input, select, showError, table, when,
} from "../ui.js";

const ROLES = [["viewer", "viewer"], ["release_manager", "release manager"], ["admin", "admin"]];

export async function render(body, ctx) {
  if (!ctx.isAdmin) {
    clear(body, h("p", { class: "notice info", role: "status" }, "Workspace administration is for workspace admins."));
    return;
  }
  const workspaces = ctx.isSuperuser ? workspaceForm(ctx) : null;
  const users = h("section", { "aria-labelledby": "users-title" });
  const keys = h("section", { "aria-labelledby": "keys-title" });
  const signing = h("section", { "aria-labelledby": "signing-title" });
  const polling = h("section", { "aria-labelledby": "polling-title" });
  clear(body, users, keys, signing, polling, workspaces);
  await Promise.all([renderUsers(users, ctx), renderKeys(keys, ctx), renderSigning(signing, ctx), renderPolling(polling, ctx)]);
}

async function renderUsers(section, ctx) {
  const { users } = await api.get(`${ctx.ws}/users`);
  const reload = () => renderUsers(section, ctx);
  const area = h("div");
  clear(section,
    h("div", { class: "toolbar" }, h("h2", { id: "users-title" }, "Members"),
      h("button", { type: "button", class: "primary", onclick: () => clear(area, userForm(ctx, area, reload)) }, "Add member")),
    area,
    table(
      [
        { label: "User", cell: (u) => h("strong", {}, u.username) },
        {
          label: "Role",
          cell: (u) => {
            const role = select("role", ROLES, { value: u.role, "aria-label": `Role of ${u.username}` });
            role.addEventListener("change", async () => {
              try {
                await api.put(`${ctx.ws}/users/${encodeURIComponent(u.username)}`, { role: role.value, version: u.version });
                ctx.notice(`${u.username} is now ${role.value.replace("_", " ")}.`);
                reload();
              } catch (error) {
                ctx.notice(describe(error), "error");
                role.value = u.role;
              }
            });
            return role;
          },
        },
        { label: "Added", cell: (u) => `${when(u.createdAt)} by ${u.createdBy}` },
        {
          label: "Actions",
          cell: (u) => h("button", {
            type: "button",
            class: "danger",
            "aria-label": `Remove ${u.username}`,
            onclick: async () => {
              if (!(await confirmDialog(`Remove ${u.username} from this workspace?`, { confirmText: "Remove", danger: true }))) return;
              try {
                await api.del(`${ctx.ws}/users/${encodeURIComponent(u.username)}`);
                reload();
              } catch (error) {
                ctx.notice(describe(error), "error");
              }
            },
          }, "Remove"),
        },
      ],
      users,
      { caption: `${users.length} member(s)` },
    ));
}

function userForm(ctx, area, done) {
  const submit = h("button", { type: "submit", class: "primary" }, "Add member");
  const el = form(
    {
      class: "card",
      "aria-label": "Add member",
      onsubmit: async (event) => {
        event.preventDefault();
        await busy(submit, (async () => {
          try {
            const created = await api.post(`${ctx.ws}/users`, formValues(el));
            ctx.notice(`${created.username} added as ${created.role.replace("_", " ")}.`);
            clear(area);
            done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("div", { class: "grid" },
      field("Username", input("username", { autocomplete: "off" }), { hint: "3-64 of a-z 0-9 . _ @ -" }),
      field("Initial password", input("password", { type: "password", autocomplete: "new-password" }), { hint: "10-256 characters" }),
      field("Role", select("role", ROLES))),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  return el;
}

async function renderKeys(section, ctx, created = null) {
  const { accessKeys } = await api.get(`${ctx.ws}/access-keys`);
  const reload = () => renderKeys(section, ctx);
  const area = h("div");
  if (created) {
    area.append(h("div", { class: "card", role: "status" },
      h("p", {}, h("strong", {}, "Copy the secret now: it is shown only once.")),
      h("dl", { class: "facts" }, h("dt", {}, "AccessKey ID"), h("dd", {}, h("code", {}, created.accessKeyId)),
        h("dt", {}, "AccessKey secret"), h("dd", {}, h("code", { id: "new-access-key-secret" }, created.accessKeySecret)))));
  }
  const role = select("role", ROLES, { value: "release_manager" });
  const description = input("description", { placeholder: "e.g. CI pipeline" });
  const create = form(
    {
      class: "toolbar",
      "aria-label": "New AccessKey",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const key = await api.post(`${ctx.ws}/access-keys`, formValues(create));
          await renderKeys(section, ctx, key);
        } catch (error) {
          showError(create, error);
        }
      },
    },
    field("Role of the key", role), field("Description", description), h("button", { type: "submit", class: "primary" }, "Create AccessKey"));
  clear(section,
    h("h2", { id: "keys-title" }, "AccessKeys (CI, OpenAPI)"),
    create,
    area,
    table(
      [
        { label: "AccessKey ID", cell: (k) => h("code", {}, k.accessKeyId) },
        { label: "Role", cell: (k) => k.role },
        { label: "Description", cell: (k) => k.description || "—" },
        { label: "Status", cell: (k) => badge(k.status, k.status === "active" ? "ok" : "muted") },
        { label: "Created", cell: (k) => when(k.createdAt) },
        {
          label: "Actions",
          cell: (k) => (k.status === "active"
            ? h("button", {
                type: "button",
                class: "danger",
                "aria-label": `Revoke ${k.accessKeyId}`,
                onclick: async () => {
                  if (!(await confirmDialog(`Revoke AccessKey ${k.accessKeyId}? Calls signed with it stop working at once.`, { confirmText: "Revoke", danger: true }))) return;
                  try {
                    await api.post(`${ctx.ws}/access-keys/${k.accessKeyId}/revoke`);
                    reload();
                  } catch (error) {
                    ctx.notice(describe(error), "error");
                  }
                },
              }, "Revoke")
            : "—"),
        },
      ],
      accessKeys,
      { empty: "No AccessKeys yet." },
    ));
}

async function renderSigning(section, ctx) {
  const signing = await api.get(`${ctx.ws}/signing-keys`);
  const reload = () => renderSigning(section, ctx);
  clear(section,
    h("div", { class: "toolbar" }, h("h2", { id: "signing-title" }, `Manifest signing keys (${signing.algorithm})`),
      h("button", {
        type: "button",
        onclick: async (event) => {
          if (!(await confirmDialog("Rotate the signing key? Everything is re-published with the new key; apps must pin it (the old one stays listed as retired).", { confirmText: "Rotate" }))) return;
          await busy(event.target, api.post(`${ctx.ws}/signing-keys/rotate`).then(reload, (error) => ctx.notice(describe(error), "error")));
        },
      }, "Rotate key")),
    table(
      [
        { label: "Key ID", cell: (k) => h("code", {}, k.keyId) },
        { label: "Status", cell: (k) => badge(k.status, k.status === "current" ? "ok" : "muted") },
        { label: "Public key (base64)", cell: (k) => h("code", {}, k.publicKey) },
      ],
      signing.keys,
      { empty: "No key yet: one is made on the first publish." },
    ));
}

// The poll interval is published in every index: devices wait that long between check rounds, and the
// CDN caches the index for as long (a publication invalidates it, so changes are not held back).
async function renderPolling(section, ctx) {
  const settings = await api.get(`${ctx.ws}/delivery/settings`);
  const submit = h("button", { type: "submit", class: "primary" }, "Save");
  const el = form(
    {
      class: "card",
      "aria-label": "Device polling",
      onsubmit: async (event) => {
        event.preventDefault();
        const raw = formValues(el).pollSeconds;
        await busy(submit, (async () => {
          try {
            const saved = await api.put(`${ctx.ws}/delivery/settings`, { pollSeconds: /^\d+$/.test(raw) ? Number(raw) : raw });
            ctx.notice(`Devices now check every ${saved.pollSeconds} s; every index is re-published.`);
            renderPolling(section, ctx);
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("div", { class: "grid" },
      field("Check interval (seconds)", input("pollSeconds", { value: String(settings.pollSeconds), inputmode: "numeric" }), {
        hint: `${settings.minPollSeconds}-${settings.maxPollSeconds}; default ${settings.defaultPollSeconds}. Fewer checks cost less (most of the delivery bill is CDN requests).`,
      })),
    h("div", { class: "actions" }, submit),
  );
  clear(section, h("div", { class: "toolbar" }, h("h2", { id: "polling-title" }, "Device polling")), el);
}

// Platform superusers create workspaces (and become their admin).
function workspaceForm(ctx) {
  const submit = h("button", { type: "submit", class: "primary" }, "Create workspace");
  const el = form(
    {
      class: "card",
      "aria-label": "New workspace",
      onsubmit: async (event) => {
        event.preventDefault();
        const values = formValues(el);
        await busy(submit, (async () => {
          try {
            const created = await api.post("/api/workspaces", values);
            ctx.notice(`Workspace ${created.name} created; you are its admin.`);
            window.dispatchEvent(new CustomEvent("mds:me-changed", { detail: `${created.appId}/${created.workspaceId}` }));
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h2", {}, "New workspace (superusers)"),
    h("div", { class: "grid" },
      field("App ID", input("appId", { placeholder: "e.g. SHOP_APP" })),
      field("Workspace ID", input("workspaceId", { placeholder: "e.g. prod" })),
      field("Name", input("name"))),
    h("div", { class: "actions" }, submit),
  );
  return el;
}
