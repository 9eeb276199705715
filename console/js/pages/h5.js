// H5 offline packages: configuration (vhost, signing key), apps, versions with their processing state,
// release tasks, export links, batch import with a per-item result, and app deletion (typed confirmation).
import { api, ApiError } from "../api.js";
import {
  badge, busy, bytes, clear, clearErrors, confirmDialog, describe, field, form, formValues, h, input,
  postToS3, progressBar, select, showError, sleep, table, textarea, waitForUpload, when,
  inWorkspaceZone,
} from "../ui.js";
import { rulesEditor, warningText } from "../rules.js";

const STATUS = { uploading: ["uploading", ""], processing: ["processing", "warn"], ready: ["ready", "ok"], failed: ["failed", "error"] };
// Derived from the version's tasks (like an upgrade package's status).
const RELEASE_STATUS = {
  toBeReleased: ["not released", ""],
  grayRelease: ["gray releasing", "warn"],
  officialRelease: ["official releasing", "ok"],
  paused: ["paused", "muted"],
  finished: ["ended", "muted"],
};
const TASK_STATUS = { running: ["Running", "ok"], paused: ["Paused", "warn"], ended: ["Ended", "muted"] };
let tab = "apps";

export async function render(body, ctx) {
  const content = h("div");
  const tabs = h("div", { class: "tabs", role: "group", "aria-label": "H5 sections" },
    [["apps", "Apps & versions"], ["settings", "Configuration"], ["import", "Batch import"]].map(([id, label]) =>
      h("button", { type: "button", "aria-pressed": String(tab === id), onclick: () => { tab = id; render(body, ctx); } }, label)));
  clear(body, h("div", { class: "toolbar" }, tabs), content);
  if (tab === "settings") await renderSettings(content, ctx);
  else if (tab === "import") renderImport(content, ctx);
  else await renderApps(content, ctx);
}

const statusBadge = (map, value) => {
  const [text, kind] = map[value] || [value, ""];
  return badge(text, kind);
};

// ---------------------------------------------------------------- configuration

async function renderSettings(box, ctx) {
  const settings = await api.get(`${ctx.ws}/h5/settings`);
  const reload = () => renderSettings(box, ctx);
  const vhost = input("vhost", { value: settings.vhost || "", readonly: !ctx.canEdit || !!settings.vhost, placeholder: "e.g. h5.example.com" });
  const vhostForm = form(
    {
      class: "card",
      "aria-label": "Virtual host",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api.put(`${ctx.ws}/h5/settings/vhost`, { vhost: vhost.value.trim() });
          ctx.notice("Virtual host saved.");
          reload();
        } catch (error) {
          showError(vhostForm, error);
        }
      },
    },
    h("h2", {}, "Virtual host"),
    h("p", { class: "muted" }, "Set once per workspace; every package's URLs live under it."),
    field("Virtual host domain", vhost),
    ctx.canEdit && !settings.vhost ? h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save virtual host")) : null,
  );
  const pem = h("input", { type: "file", name: "pem", accept: ".pem,.key,.txt" });
  const keyForm = form(
    {
      class: "card",
      "aria-label": "Signing key",
      onsubmit: async (event) => {
        event.preventDefault();
        clearErrors(keyForm);
        try {
          const chosen = pem.files[0];
          if (!chosen) throw new ApiError(400, { message: "choose the RSA private key (PEM)", field: "pem" });
          const saved = await api.put(`${ctx.ws}/h5/settings/rsa-key`, { pem: await chosen.text() });
          ctx.notice(`Signing key ${saved.keyId} stored.`);
          reload();
        } catch (error) {
          showError(keyForm, error);
        }
      },
    },
    h("h2", {}, "Package signing key"),
    h("p", { id: "h5-key-state" }, settings.rsaKeyExists
      ? [badge("key exists", "ok"), ` key ID ${settings.keyId}`]
      : [badge("no key", "warn"), " packages cannot be signed until an RSA key is uploaded"]),
    settings.publicKey ? h("details", {}, h("summary", {}, "Public key (what the app pins)"), h("pre", { class: "diff" }, settings.publicKey)) : null,
    ctx.canEdit ? [field(settings.rsaKeyExists ? "Replace with another RSA private key (PEM)" : "RSA private key (PEM, ≥ 2048 bits)", pem, { hint: "sealed on the server, never shown again" }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Upload key"))] : null,
  );
  clear(box, h("div", { class: "split" }, vhostForm, keyForm));
}

// ---------------------------------------------------------------- apps and versions

async function renderApps(box, ctx) {
  const page = await api.get(`${ctx.ws}/h5/apps`, { pageSize: 100 });
  const area = h("div");
  const detail = h("div");
  const reload = () => renderApps(box, ctx);
  clear(box,
    ctx.canEdit ? h("div", { class: "toolbar" }, h("button", { type: "button", class: "primary", onclick: () => clear(area, appForm(ctx, area, reload)) }, "New H5 app")) : null,
    area,
    table(
      [
        { label: "H5 ID", cell: (a) => h("code", {}, a.h5Id) },
        { label: "Name", cell: (a) => h("strong", {}, a.name) },
        { label: "Type", cell: (a) => a.resourceType || "—" },
        { label: "Versions", cell: (a) => String(a.resourceCount ?? "—") },
        { label: "Created", cell: (a) => when(a.createdAt) },
        { label: "Actions", cell: (a) => [
          h("button", { type: "button", "aria-label": `Open H5 app ${a.h5Id}`, onclick: () => openApp(detail, a, ctx, reload) }, "Open"),
          ctx.canEdit ? h("button", {
            type: "button",
            class: "danger",
            "aria-label": `Delete H5 app ${a.h5Id}`,
            onclick: async () => {
              const ok = await confirmDialog(`Delete H5 app ${a.name} with every version and task? Devices stop getting it.`, { confirmText: "Delete app", danger: true, typed: a.h5Id });
              if (!ok) return;
              try {
                await api.del(`${ctx.ws}/h5/apps/${a.h5Id}`);
                ctx.notice(`H5 app ${a.h5Id} deleted.`);
                reload();
              } catch (error) {
                ctx.notice(describe(error), "error");
              }
            },
          }, "Delete") : null,
        ] },
      ],
      page.items,
      { empty: "No H5 apps yet.", caption: `${page.total} H5 app(s)` },
    ),
    detail);
}

function appForm(ctx, area, done) {
  const submit = h("button", { type: "submit", class: "primary" }, "Create app");
  const el = form(
    {
      class: "card",
      "aria-label": "New H5 app",
      onsubmit: async (event) => {
        event.preventDefault();
        const values = formValues(el);
        await busy(submit, (async () => {
          try {
            const app = await api.post(`${ctx.ws}/h5/apps`, values);
            ctx.notice(`H5 app ${app.h5Id} created.${app.warnings && app.warnings.length ? ` ${app.warnings.join(" ")}` : ""}`);
            clear(area);
            done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h3", {}, "New H5 app"),
    h("div", { class: "grid" },
      field("H5 ID (8 digits)", input("h5Id", { inputmode: "numeric", maxlength: 8 })),
      field("Name", input("name")),
      field("Resource type", select("resourceType", [["normal", "normal"], ["global", "global"]]))),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  return el;
}

async function openApp(box, app, ctx, reloadApps) {
  const area = h("div");
  const versions = h("div");
  const tasks = h("div");
  const reload = () => renderVersions(versions, tasks, app, ctx);
  clear(box, h("section", { class: "card", "aria-label": `H5 app ${app.h5Id}` },
    h("h2", {}, `${app.name} (${app.h5Id})`),
    ctx.canEdit ? h("button", { type: "button", class: "primary", onclick: () => clear(area, versionForm(app, ctx, area, reload)) }, "Upload version") : null,
    area, versions, tasks));
  await reload();
}

async function renderVersions(box, tasks, app, ctx) {
  const { items } = await api.get(`${ctx.ws}/h5/apps/${app.h5Id}/resources`, { pageSize: 100 });
  clear(box, table(
    [
      { label: "Version", cell: (r) => h("strong", {}, r.version) },
      { label: "Platform", cell: (r) => r.platform },
      { label: "Client versions (iOS;Android)", cell: (r) => `${r.clientVersionMin || "—"} … ${r.clientVersionMax || "no limit"}` },
      { label: "Status", cell: (r) => [statusBadge(STATUS, r.status), r.failure ? h("div", { class: "error-text" }, r.failure) : null] },
      { label: "Release", cell: (r) => statusBadge(RELEASE_STATUS, r.releaseStatus) },
      { label: "Package", cell: (r) => (r.fileSize ? bytes(r.fileSize) : "—") },
      { label: "Actions", cell: (r) => (r.status === "ready" ? [
        h("button", { type: "button", "aria-label": `Tasks of version ${r.version}`, onclick: () => showTasks(tasks, r, ctx, () => renderVersions(box, tasks, app, ctx)) }, "Tasks"),
        h("button", { type: "button", "aria-label": `Export version ${r.version}`, onclick: (e) => exportLinks(e.target, r, ctx) }, "Export"),
      ] : "—") },
    ],
    items,
    { empty: "No versions yet.", caption: "Versions" },
  ));
}

async function exportLinks(button, resource, ctx) {
  try {
    const links = await api.get(`${ctx.ws}/h5/resources/${resource.id}/export`);
    button.replaceWith(h("span", {},
      h("a", { href: links.amrUrl, download: "" }, ".amr"), " · ",
      h("a", { href: links.h5JsonUrl, download: "" }, "h5.json"),
      h("small", { class: "hint" }, "links valid 5 minutes")));
  } catch (error) {
    ctx.notice(describe(error), "error");
  }
}

function versionForm(app, ctx, area, done) {
  const file = h("input", { type: "file", name: "file", accept: ".zip" });
  const state = h("div", { role: "status", "aria-label": "Processing state" });
  const submit = h("button", { type: "submit", class: "primary" }, "Upload");
  const el = form(
    {
      class: "card",
      "aria-label": "Upload H5 version",
      onsubmit: async (event) => {
        event.preventDefault();
        clearErrors(el);
        const values = formValues(el);
        for (const name of ["downloadNetwork", "installType", "repeatNebula"]) if (values[name] !== undefined) values[name] = Number(values[name]);
        const chosen = file.files[0];
        await busy(submit, (async () => {
          try {
            if (values.extendInfo !== undefined) {
              try {
                values.extendInfo = JSON.parse(values.extendInfo);
              } catch {
                throw new ApiError(400, { message: 'must be a JSON object, e.g. {"asyncReqRate": 60}', field: "extendInfo" });
              }
            }
            if (!chosen) throw new ApiError(400, { message: "choose the package zip", field: "file" });
            const created = await api.post(`${ctx.ws}/h5/apps/${app.h5Id}/resources`, { ...values, filename: chosen.name });
            const progress = progressBar(`Uploading ${chosen.name}`);
            const step = h("p", {}, statusBadge(STATUS, "uploading"));
            clear(state, progress.el, step);
            await postToS3(created.upload.post, chosen, (f) => progress.set(f));
            // uploading → processing → ready | failed, as the worker reports it
            const deadline = Date.now() + 120000;
            let resource = created;
            while (Date.now() < deadline) {
              resource = await api.get(`${ctx.ws}/h5/resources/${created.id}`);
              clear(step, statusBadge(STATUS, resource.status), resource.failure ? h("span", { class: "error-text" }, ` ${resource.failure}`) : null);
              if (resource.status === "ready" || resource.status === "failed") break;
              await sleep(500);
            }
            if (resource.status === "failed") {
              showError(el, new ApiError(400, { message: resource.failure || "the package was refused", field: "file" }));
              done();
              return;
            }
            ctx.notice(`Version ${resource.version} is ${resource.status}.`);
            clear(area, h("div", { class: "card", role: "status" }, `Version ${resource.version}: `, statusBadge(STATUS, resource.status), progress.el));
            done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h3", {}, `Upload a version of ${app.name}`),
    h("div", { class: "grid" },
      field("Version", input("version", { placeholder: "e.g. 1.0.0.1" })),
      field("Platform", select("platform", [["all", "All"], ["android", "Android"], ["ios", "iOS"]])),
      field("Min client version (iOS;Android)", input("clientVersionMin", { placeholder: "e.g. 1.0.0;1.0.0" })),
      field("Max client version (iOS;Android)", input("clientVersionMax", { placeholder: "empty: no limit" })),
      field("Main URL (normal packages)", input("mainUrl", { placeholder: "/www/index.html" })),
      field("Download network", select("downloadNetwork", [["1", "Any network"], ["0", "Wi-Fi only"]])),
      field("Install", select("installType", [["0", "When opened"], ["1", "Preload"]])),
      app.resourceType === "global" ? field("Repeat Nebula", select("repeatNebula", [["0", "No"], ["1", "Yes"]])) : null,
      field("Package zip", file),
      field("Extend info (JSON object, optional)", textarea("extendInfo", { rows: 2, placeholder: '{"asyncReqRate": 60}' }), { wide: true })),
    state,
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  return el;
}

// `changed`: re-render the versions, whose release status follows from their tasks.
async function showTasks(box, resource, ctx, changed) {
  const { tasks } = await api.get(`${ctx.ws}/h5/resources/${resource.id}/tasks`);
  const area = h("div");
  const reload = () => Promise.all([showTasks(box, resource, ctx, changed), changed()]);
  clear(box, h("section", { "aria-label": `Tasks of version ${resource.version}` },
    h("h3", {}, `Release tasks of ${resource.version}`),
    ctx.canEdit ? h("button", { type: "button", class: "primary", onclick: () => clear(area, taskForm(resource, ctx, area, reload)) }, "New H5 task") : null,
    area,
    table(
      [
        { label: "Task", cell: (t) => t.taskId },
        { label: "Type", cell: (t) => (t.type === "gray" ? `gray · ${t.grayModel === "whitelist" ? `whitelists ${t.whitelistIds.join(", ")}` : `time window, ${t.claimed ?? 0}/${t.usersCount} until ${when(t.endTime)}`}` : "official") },
        { label: "Status", cell: (t) => statusBadge(TASK_STATUS, t.status) },
        { label: "Memo", cell: (t) => t.memo || "—" },
        { label: "Actions", cell: (t) => (ctx.canEdit ? taskActions(t, ctx, reload) : "—") },
      ],
      tasks,
      { empty: "No release tasks yet." },
    )));
}

function taskActions(task, ctx, reload) {
  const act = (action, label, danger) => h("button", {
    type: "button",
    class: danger ? "danger" : "",
    "aria-label": `${label} H5 task ${task.taskId}`,
    onclick: async () => {
      if (!(await confirmDialog(`${label} H5 task ${task.taskId}?${action === "end" ? " An ended task cannot be continued." : ""}`, { confirmText: label, danger }))) return;
      try {
        await api.post(`${ctx.ws}/h5/tasks/${task.taskId}/status`, { action, revision: task.revision });
        reload();
      } catch (error) {
        ctx.notice(describe(error), "error");
      }
    },
  }, label);
  if (task.status === "running") return [act("pause", "Pause"), act("end", "End", true)];
  if (task.status === "paused") return [act("resume", "Continue"), act("end", "End", true)];
  return "—";
}

function taskForm(resource, ctx, area, done) {
  const type = select("type", [["gray", "Gray"], ["official", "Official"]]);
  const model = select("grayModel", [["whitelist", "Whitelist"], ["time_window", "Time window"]]);
  const lists = h("fieldset", { class: "checks" }, h("legend", {}, "Whitelists"));
  const listsField = h("div", { class: "field wide" }, lists);
  const windowFields = [field(`End time (${ctx.workspace.timeZone || "UTC"}, ≤ 7 days)`, input("endTime", { type: "datetime-local" })), field("Users count", input("usersCount", { type: "number", min: 1 }))];
  const modelField = field("Gray model", model);
  const rules = rulesEditor([], { ws: ctx.ws });
  const sync = () => {
    const gray = type.value === "gray";
    modelField.hidden = !gray;
    rules.hidden = !gray;
    listsField.hidden = !(gray && model.value === "whitelist");
    windowFields.forEach((f) => (f.hidden = !(gray && model.value === "time_window")));
  };
  type.addEventListener("change", sync);
  model.addEventListener("change", sync);
  api.get(`${ctx.ws}/whitelists`).then(({ whitelists }) => lists.append(...whitelists.map((w) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "whitelistIds", value: w.whitelistId, dataset: { list: "1" } }), h("span", {}, `${w.name} (${w.count})`)))));
  const submit = h("button", { type: "submit", class: "primary" }, "Create task");
  const el = form(
    {
      class: "card",
      "aria-label": "New H5 task",
      onsubmit: async (event) => {
        event.preventDefault();
        const values = formValues(el);
        if (values.endTime) values.endTime = inWorkspaceZone(values.endTime, ctx.workspace);
        if (values.type === "official") delete values.grayModel;
        else if (rules.read().length) values.rules = rules.read();
        await busy(submit, (async () => {
          try {
            const task = await api.post(`${ctx.ws}/h5/resources/${resource.id}/tasks`, values);
            const warned = warningText(task);
            if (warned) ctx.notice(`Task ${task.taskId} created.${warned}`);
            clear(area);
            done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("div", { class: "grid" }, field("Release type", type), modelField, listsField, ...windowFields,
      field("Memo", input("memo"), { wide: true }), rules),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  sync();
  return el;
}

// ---------------------------------------------------------------- batch import

function renderImport(box, ctx) {
  if (!ctx.canEdit) {
    clear(box, h("p", { class: "muted" }, "Batch import is for release managers."));
    return;
  }
  const file = h("input", { type: "file", name: "file", accept: ".zip" });
  const result = h("div");
  const submit = h("button", { type: "submit", class: "primary" }, "Import");
  const el = form(
    {
      class: "card",
      "aria-label": "Batch import",
      onsubmit: async (event) => {
        event.preventDefault();
        clearErrors(el);
        const chosen = file.files[0];
        await busy(submit, (async () => {
          try {
            if (!chosen) throw new ApiError(400, { message: "choose the batch zip", field: "file" });
            const upload = await api.post(`${ctx.ws}/h5/imports`, { filename: chosen.name });
            const progress = progressBar(`Uploading ${chosen.name}`);
            clear(result, progress.el);
            await postToS3(upload.post, chosen, (f) => progress.set(f));
            const done = await waitForUpload(ctx.ws, upload.uploadId, { timeoutMs: 300000, onStatus: (s) => progress.status(s) });
            if (done.status === "failed") throw new ApiError(400, { message: done.error || "the batch was refused", field: "file" });
            const r = done.result || { items: [] };
            clear(result, progress.el, table(
              [
                { label: "Item", cell: (i) => i.name || "—" },
                { label: "H5 ID", cell: (i) => i.h5Id || "—" },
                { label: "Result", cell: (i) => statusBadge({ imported: ["imported", "ok"], alreadyImported: ["already imported", "muted"], failed: ["failed", "error"] }, i.status) },
                { label: "Version", cell: (i) => i.version || "—" },
                { label: "Details", cell: (i) => i.error || (i.appCreated ? "app created" : "—") },
              ],
              r.items,
              { caption: `${r.imported ?? 0} imported, ${r.alreadyImported ?? 0} already imported, ${r.failed ?? 0} failed`, empty: "The batch had no items." },
            ));
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h2", {}, "Batch import"),
    h("p", { class: "muted" }, "A zip of H5 package zips plus an optional config file; each item is imported on its own."),
    field("Batch zip", file),
    h("div", { class: "actions" }, submit),
    result,
  );
  clear(box, el);

}
