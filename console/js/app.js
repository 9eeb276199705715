// The console shell: login, workspace switcher, navigation, role-aware page rendering.
import { api, saveSession, session } from "./api.js";
import { clear, field, form, h, input, notice, showError } from "./ui.js";

const PAGES = [
  { route: "upgrade", title: "Version upgrade", load: () => import("./pages/upgrade.js") },
  { route: "h5", title: "H5 offline packages", load: () => import("./pages/h5.js") },
  { route: "config", title: "Switch configuration", load: () => import("./pages/config.js") },
  { route: "hotpatch", title: "Hotpatch", load: () => import("./pages/hotpatch.js") },
  { route: "targeting", title: "Whitelists & rules", load: () => import("./pages/targeting.js") },
  { route: "preview", title: "Delivery preview", load: () => import("./pages/preview.js") },
  { route: "reach", title: "Reach & rollouts", load: () => import("./pages/reach.js") },
  { route: "audit", title: "Audit log", load: () => import("./pages/audit.js") },
  { route: "admin", title: "Administration", load: () => import("./pages/admin.js") },
];
const WORKSPACE_KEY = "mds.workspace";
const root = document.getElementById("app");
let me = null;
const pages = PAGES;

window.addEventListener("mds:session-expired", () => {
  saveSession(null);
  renderLogin("Your session has ended. Please log in again.");
});
window.addEventListener("hashchange", () => me && renderPage());
// a page changed what /api/me says (e.g. a new workspace): reload it, then switch to `detail` if given
window.addEventListener("mds:me-changed", async (event) => {
  me = await api.get("/api/me");
  if (event.detail) localStorage.setItem(WORKSPACE_KEY, event.detail);
  renderShell();
});

async function start() {
  if (!session()) return renderLogin();
  try {
    me = await api.get("/api/me");
  } catch {
    saveSession(null);
    return renderLogin();
  }
  renderShell();
}

function renderLogin(message) {
  me = null;
  const username = input("username", { autocomplete: "username", required: true });
  const password = input("password", { type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary" }, "Log in");
  const loginForm = form(
    {
      class: "card login",
      "aria-label": "Log in",
      onsubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        try {
          const reply = await api.post("/api/auth/login", { username: username.value, password: password.value });
          saveSession({ token: reply.token, username: reply.username });
          await start();
        } catch (error) {
          showError(loginForm, error);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h1", {}, "MDS console"),
    h("p", { class: "muted" }, "Mobile Delivery Service: upgrades, whitelists, release rules and delivery."),
    message ? h("p", { class: "notice info", role: "status" }, message) : null,
    field("Username", username),
    field("Password", password),
    h("div", { class: "actions" }, submit),
  );
  clear(root, h("main", { class: "login-page" }, loginForm));
  username.focus();
}

export function currentWorkspace() {
  const list = me ? me.workspaces : [];
  const saved = localStorage.getItem(WORKSPACE_KEY);
  return list.find((w) => `${w.appId}/${w.workspaceId}` === saved) || list[0] || null;
}

function renderShell() {
  const workspace = currentWorkspace();
  const switcher = h(
    "select",
    {
      id: "workspace-switcher",
      name: "workspace",
      onchange: (event) => {
        localStorage.setItem(WORKSPACE_KEY, event.target.value);
        renderShell();
      },
    },
    me.workspaces.map((w) =>
      h("option", { value: `${w.appId}/${w.workspaceId}`, selected: w === workspace }, `${w.name} (${w.appId}/${w.workspaceId})`),
    ),
  );
  const nav = h(
    "nav",
    { "aria-label": "Console sections" },
    h("ul", {}, pages.map((p) => h("li", {}, h("a", { href: `#/${p.route}`, dataset: { route: p.route } }, p.title)))),
  );
  clear(
    root,
    h(
      "header",
      { class: "topbar" },
      h("span", { class: "brand" }, "MDS console"),
      h("div", { class: "ws" }, h("label", { for: "workspace-switcher" }, "Workspace"), switcher),
      h("span", { class: "who" }, me.principal, " · ",
        h("span", { class: "role", id: "current-role" }, workspace ? roleLabel(workspace.role) : "no workspace")),
      h("button", {
        type: "button",
        onclick: () => {
          saveSession(null);
          renderLogin("You have logged out.");
        },
      }, "Log out"),
    ),
    h("div", { class: "layout" }, nav, h("main", { id: "page", tabindex: "-1" })),
    h("div", { id: "notices", class: "notices", "aria-live": "polite" }),
  );
  if (!workspace) {
    clear(document.getElementById("page"), h("p", {}, "You have no role in any workspace yet. Ask an admin to add you."));
    return;
  }
  renderPage();
}

function roleLabel(role) {
  return { viewer: "viewer (read only)", release_manager: "release manager", admin: "admin" }[role] || role;
}

let navigation = 0; // a page still loading when the user moves on must not draw over the next one

async function renderPage() {
  const current = ++navigation;
  const workspace = currentWorkspace();
  if (!workspace) return;
  const route = (location.hash.match(/^#\/([\w-]+)/) || [])[1] || "upgrade";
  const page = pages.find((p) => p.route === route) || pages[0];
  document.querySelectorAll("nav a").forEach((a) => {
    if (a.dataset.route === page.route) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  const main = document.getElementById("page");
  const body = h("div", { class: "page-body" }, h("p", { class: "muted" }, "Loading…"));
  clear(main, h("h1", {}, page.title), body);
  document.title = `${page.title} · MDS console`;
  const ctx = {
    ws: `/api/apps/${encodeURIComponent(workspace.appId)}/workspaces/${encodeURIComponent(workspace.workspaceId)}`,
    workspace,
    role: workspace.role,
    canEdit: workspace.role === "release_manager" || workspace.role === "admin",
    isAdmin: workspace.role === "admin",
    isSuperuser: !!me.isSuperuser,
    notice,
  };
  try {
    const module = await page.load();
    if (current !== navigation) return;
    await module.render(body, ctx); // draws into its own body: detached once the user has moved on
  } catch (error) {
    if (current === navigation) clear(body, h("p", { class: "notice error", role: "alert" }, error.message || String(error)));
  }
}

start();
