// Version upgrade: packages per platform (derived status, QR code, file upload with progress) and
// their release tasks (create, pause / continue / end with confirmation).
import { api } from "../api.js";
import {
  badge, busy, bytes, clear, confirmDialog, facts, field, form, formValues, h, input, postToS3,
  progressBar, select, showError, table, textarea, waitForUpload, when,
  inWorkspaceZone,
} from "../ui.js";
import { rulesEditor, warningText } from "../rules.js";

const PACKAGE_STATUS = {
  toBeReleased: ["To be released", ""],
  officialRelease: ["Official release", "ok"],
  grayRelease: ["Gray release", "warn"],
  paused: ["Paused", "muted"],
  finished: ["Finished", "muted"],
};
const TASK_STATUS = { running: ["Running", "ok"], paused: ["Paused", "warn"], ended: ["Ended", "muted"] };
const DISTRIBUTIONS = { apk: "APK", appStore: "App Store", enterprise: "Enterprise", testFlight: "TestFlight" };

let state = { platform: "android", open: new Set() };

export async function render(body, ctx) {
  const list = h("div", { id: "packages" });
  const tabs = h(
    "div",
    { class: "tabs", role: "group", "aria-label": "Platform" },
    ["android", "ios"].map((p) =>
      h("button", {
        type: "button",
        "aria-pressed": String(state.platform === p),
        onclick: () => {
          state.platform = p;
          render(body, ctx);
        },
      }, p === "android" ? "Android" : "iOS"),
    ),
  );
  const addArea = h("div", { id: "add-package-area" });
  const addButton = ctx.canEdit
    ? h("button", { type: "button", class: "primary", onclick: () => clear(addArea, packageForm(ctx, addArea, () => refresh(list, ctx))) }, "Add package")
    : null;
  clear(body, h("div", { class: "toolbar" }, tabs, addButton), addArea, list);
  await refresh(list, ctx);
}

async function refresh(list, ctx) {
  const { packages } = await api.get(`${ctx.ws}/upgrade/packages`, { platform: state.platform });
  clear(
    list,
    table(
      [
        { label: "Version", cell: (p) => h("strong", {}, p.version) },
        { label: "Distribution", cell: (p) => DISTRIBUTIONS[p.distribution] || p.distribution },
        { label: "Status", cell: (p) => statusBadge(PACKAGE_STATUS, p.status) },
        { label: "File", cell: (p) => fileCell(p) },
        { label: "Tasks", cell: (p) => `${p.liveTaskIds.length} live / ${p.taskCount}` },
        { label: "Created", cell: (p) => when(p.createdAt) },
        {
          label: "Actions",
          cell: (p) => h("button", {
            type: "button",
            "aria-label": `Open package ${p.version}`,
            "aria-expanded": String(state.open.has(p.packageId)),
            onclick: (event) => togglePackage(event.target.closest("tr"), p, ctx, () => refresh(list, ctx)),
          }, "Open"),
        },
      ],
      packages,
      { empty: `No ${state.platform === "android" ? "Android" : "iOS"} packages yet.`, caption: "Release packages" },
    ),
  );
  // packages that were open stay open (and current) across refreshes
  const rows = list.querySelectorAll("tbody tr");
  await Promise.all(packages.map((p, i) => (state.open.has(p.packageId) ? showPackage(rows[i], p, ctx, () => refresh(list, ctx)) : null)));
}

function statusBadge(map, value) {
  const [text, kind] = map[value] || [value, ""];
  return badge(text, kind);
}

function fileCell(p) {
  if (p.fileStatus === "none") return p.storeUrl ? "store link" : "—";
  if (p.fileStatus === "ready") return `${bytes(p.file && p.file.size)} ✓`;
  if (p.fileStatus === "failed") return h("span", { class: "error-text" }, `failed: ${p.fileError || "refused"}`);
  return "awaiting upload";
}

// ---------------------------------------------------------------- add a package (+ its file)

function packageForm(ctx, area, done) {
  const ios = state.platform === "ios";
  const distribution = ios
    ? select("distribution", [["appStore", "App Store"], ["enterprise", "Enterprise (in-house)"], ["testFlight", "TestFlight"]])
    : null;
  const file = h("input", { type: "file", name: "file", accept: ios ? ".ipa" : ".apk" });
  const fields = {
    verificationCode: field("Verification code (optional)", input("verificationCode", { autocomplete: "off" }),
      { hint: "4-32 letters or digits; asked before the download" }),
    storeUrl: field("Store URL", input("storeUrl", { type: "url", placeholder: "https://apps.apple.com/…" })),
    validDays: field("Valid days (TestFlight, 1-90)", input("validDays", { type: "number", min: 1, max: 90 })),
    testerLimit: field("Tester limit (1-10000)", input("testerLimit", { type: "number", min: 1, max: 10000 })),
    bundleId: field("Bundle ID", input("bundleId", { placeholder: "com.example.app" })),
    file: field(ios ? "IPA file" : "APK file", file),
  };
  const progressArea = h("div", { class: "upload-progress" });
  const submit = h("button", { type: "submit", class: "primary" }, "Add package");
  const showFor = () => {
    const kind = ios ? distribution.value : "apk";
    const visible = {
      verificationCode: kind === "apk" || kind === "enterprise",
      storeUrl: kind === "appStore" || kind === "testFlight",
      validDays: kind === "testFlight",
      testerLimit: kind === "testFlight",
      bundleId: kind === "enterprise",
      file: kind === "apk" || kind === "enterprise",
    };
    for (const [name, el] of Object.entries(fields)) el.hidden = !visible[name];
  };
  if (distribution) distribution.addEventListener("change", showFor);
  const el = form(
    {
      class: "card",
      "aria-label": "Add package",
      onsubmit: async (event) => {
        event.preventDefault();
        const values = formValues(el);
        const chosen = file.files[0];
        const needsFile = !fields.file.hidden;
        if (needsFile && !chosen) {
          showError(el, { message: "choose the file to upload", field: "file", status: 400, code: "MissingParameter" });
          fixField(el, "file", "choose the file to upload");
          return;
        }
        const body = { platform: state.platform, ...values };
        if (needsFile) body.filename = chosen.name;
        await busy(submit, (async () => {
          try {
            const created = await api.post(`${ctx.ws}/upgrade/packages`, body);
            let progress = null;
            if (created.upload) {
              const sent = await upload(ctx, created.upload, chosen, progressArea, el);
              if (!sent.ok) {
                done();
                return;
              }
              progress = sent.progress;
            }
            ctx.notice(`Package ${created.version} added.`);
            // the finished progress bar stays as the receipt of the upload
            clear(area, h("div", { class: "card", role: "status" }, `Package ${created.version} added.`, progress ? progress.el : null));
            done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h2", {}, `Add ${ios ? "iOS" : "Android"} package`),
    h("div", { class: "grid" },
      field("Version", input("version", { required: true, placeholder: "e.g. 5.1.0" })),
      distribution ? field("Distribution", distribution) : null,
      fields.verificationCode, fields.storeUrl, fields.validDays, fields.testerLimit, fields.bundleId,
      field("Description", textarea("description", { rows: 2 }), { wide: true }),
      fields.file),
    progressArea,
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  showFor();
  return el;
}

function fixField(container, name, message) {
  const control = container.querySelector(`[name="${name}"]`);
  const box = control && document.getElementById(`${control.id}-error`);
  if (box) {
    box.textContent = message;
    box.hidden = false;
    container.querySelector(".form-error").hidden = true;
  }
}

// Browser → S3 (presigned POST) with a progress bar, then wait for the worker's verdict.
async function upload(ctx, token, file, area, formEl) {
  const progress = progressBar(`Uploading ${file.name}`);
  clear(area, progress.el);
  try {
    await postToS3(token.post, file, (fraction) => progress.set(fraction));
  } catch (error) {
    fixField(formEl, "file", error.message);
    return { ok: false, progress };
  }
  progress.status("uploaded, checking the file…");
  const result = await waitForUpload(ctx.ws, token.uploadId, { onStatus: (s) => progress.status(`uploaded, ${s}…`) });
  if (result.status === "failed") {
    progress.status("refused");
    fixField(formEl, "file", result.error || "the file was refused");
    return { ok: false, progress };
  }
  progress.status(result.status === "processed" ? "ready" : `still ${result.status}; refresh later`);
  return { ok: true, progress };
}

// ---------------------------------------------------------------- one package: QR code, tasks

async function togglePackage(row, pkg, ctx, refreshList) {
  const existing = row.nextElementSibling;
  const button = row.querySelector("button[aria-expanded]");
  if (existing && existing.classList.contains("detail-row")) {
    existing.remove();
    state.open.delete(pkg.packageId);
    button.setAttribute("aria-expanded", "false");
    return;
  }
  state.open.add(pkg.packageId);
  button.setAttribute("aria-expanded", "true");
  await showPackage(row, pkg, ctx, refreshList);
}

async function showPackage(row, pkg, ctx, refreshList) {
  const cell = h("td", { colspan: 7 });
  const detail = h("tr", { class: "detail-row" }, cell);
  row.after(detail);
  await renderPackage(cell, pkg.packageId, ctx, refreshList);
}

async function renderPackage(cell, packageId, ctx, refreshList) {
  const pkg = await api.get(`${ctx.ws}/upgrade/packages/${packageId}`);
  const qr = h("div", { class: "qr" });
  const tasks = h("div", { class: "tasks" });
  const taskArea = h("div");
  const reload = () => refreshList();
  clear(
    cell,
    h("section", { class: "package", "aria-label": `Package ${pkg.version}` },
      h("div", { class: "package-head" },
        h("div", {},
          h("h2", {}, `${pkg.platform === "ios" ? "iOS" : "Android"} ${pkg.version}`),
          facts({
            status: (PACKAGE_STATUS[pkg.status] || [pkg.status])[0],
            distribution: DISTRIBUTIONS[pkg.distribution] || pkg.distribution,
            description: pkg.description,
            file: pkg.file ? `${pkg.file.filename}, ${bytes(pkg.file.size)}, sha256 ${pkg.file.sha256}` : null,
            "file status": pkg.fileStatus,
            "verification code": pkg.verificationRequired ? "required" : null,
            warnings: pkg.warnings && pkg.warnings.length ? pkg.warnings : null,
            download: pkg.downloadUrl,
            "TestFlight link": pkg.distribution === "testFlight"
              ? `${pkg.linkExpired ? "expired" : "valid"} until ${when(pkg.linkExpiresAt)} (${pkg.validDays} days), up to ${pkg.testerLimit} testers${pkg.linkExpired ? ": not offered to devices" : ""}`
              : null,
            icon: pkg.icon ? `${pkg.icon.filename}, ${bytes(pkg.icon.size)}` : null,
            symbols: pkg.symbols ? `${pkg.symbols.filename}, ${bytes(pkg.symbols.size)}` : null,
          })),
        qr),
      h("div", { class: "actions" },
        ctx.canEdit && pkg.usable !== false
          ? h("button", { type: "button", class: "primary", onclick: () => clear(taskArea, taskForm(pkg, ctx, taskArea, reload)) }, "New release task")
          : null,
        ctx.canEdit
          ? h("button", { type: "button", onclick: () => clear(taskArea, editForm(pkg, ctx, taskArea, reload)) }, "Edit package")
          : null,
        ctx.canEdit
          ? h("button", {
              type: "button",
              class: "danger",
              onclick: async () => {
                if (!(await confirmDialog(`Delete package ${pkg.version} with its ended tasks and files?`, { confirmText: "Delete", danger: true }))) return;
                try {
                  await api.del(`${ctx.ws}/upgrade/packages/${pkg.packageId}`);
                  ctx.notice(`Package ${pkg.version} deleted.`);
                  state.open.delete(pkg.packageId);
                  refreshList();
                } catch (error) {
                  ctx.notice(error.message, "error");
                }
              },
            }, "Delete package")
          : null),
      taskArea,
      ctx.canEdit ? fileForm(pkg, ctx, reload) : null,
      h("h3", {}, "Release tasks"),
      tasks),
  );
  if (pkg.downloadUrl || pkg.storeUrl) loadQr(qr, pkg, ctx);
  const { tasks: list } = await api.get(`${ctx.ws}/upgrade/tasks`, { packageId: pkg.packageId });
  clear(tasks, table(
    [
      { label: "Task", cell: (t) => t.taskId },
      { label: "Type", cell: (t) => (t.type === "gray" ? `gray · ${t.grayModel === "timeWindow" ? "time window" : "whitelist"}` : "official") },
      { label: "Reminder", cell: (t) => `${t.mode} (${t.resultStatus})` },
      { label: "Status", cell: (t) => statusBadge(TASK_STATUS, t.status) },
      { label: "Target", cell: (t) => targetText(t) },
      { label: "Created", cell: (t) => when(t.createdAt) },
      { label: "Actions", cell: (t) => (ctx.canEdit ? taskActions(t, ctx, reload, () => clear(taskArea, taskEditForm(t, ctx, taskArea, reload))) : "—") },
    ],
    list,
    { empty: "No release tasks yet." },
  ));
}

function targetText(t) {
  const parts = [];
  if (t.whitelistIds && t.whitelistIds.length) parts.push(`whitelists ${t.whitelistIds.join(", ")}`);
  if (t.grayModel === "timeWindow") parts.push(`${t.claimed ?? 0}/${t.usersCount} users until ${when(t.endTime)}`);
  if (t.clientVersions && t.clientVersions.length) {
    parts.push(`versions ${t.clientVersions.map((r) => (typeof r === "string" ? r : `${r.min ?? "…"}–${r.max ?? "…"}`)).join(", ")}`);
  }
  if (t.rules && t.rules.length) parts.push(`${t.rules.length} rule(s)`);
  return parts.join("; ") || "everyone";
}

function taskActions(task, ctx, reload, edit) {
  const act = (action, label, question, danger) =>
    h("button", {
      type: "button",
      class: danger ? "danger" : "",
      "aria-label": `${label} task ${task.taskId}`,
      onclick: async () => {
        if (!(await confirmDialog(question, { confirmText: label, danger }))) return;
        try {
          await api.post(`${ctx.ws}/upgrade/tasks/${task.taskId}/status`, { action, revision: task.revision });
          ctx.notice(`Task ${task.taskId}: ${label.toLowerCase()} done.`);
          await reload();
        } catch (error) {
          ctx.notice(error.message, "error");
        }
      },
    }, label);
  const editButton = h("button", { type: "button", "aria-label": `Edit task ${task.taskId}`, onclick: edit }, "Edit");
  if (task.status === "running") {
    return [editButton, act("pause", "Pause", `Pause task ${task.taskId}? Devices stop getting it until you continue it.`),
      act("end", "End", `End task ${task.taskId}? An ended task cannot be continued.`, true)];
  }
  if (task.status === "paused") {
    return [editButton, act("resume", "Continue", `Continue task ${task.taskId}?`),
      act("end", "End", `End task ${task.taskId}? An ended task cannot be continued.`, true)];
  }
  return "—";
}

async function loadQr(box, pkg, ctx) {
  try {
    const qr = await api.get(`${ctx.ws}/upgrade/packages/${pkg.packageId}/qrcode`);
    clear(box,
      h("img", { src: `data:image/png;base64,${qr.png}`, alt: `QR code for the download link of ${pkg.version}`, width: 160, height: 160 }),
      h("a", { href: qr.url, target: "_blank", rel: "noopener", class: "small" }, "download link"),
      qr.verificationRequired ? h("small", { class: "hint" }, "asks for the verification code") : null);
  } catch (error) {
    clear(box, h("small", { class: "muted" }, `No QR code: ${error.message}`));
  }
}

// ---------------------------------------------------------------- task creation, per distribution

// What the platform allows (domain/upgrade.py): TestFlight and Enterprise are gray only; Enterprise
// releases to whitelists only; TestFlight has no forced reminder.
export function allowed(distribution) {
  return {
    types: distribution === "testFlight" || distribution === "enterprise" ? ["gray"] : ["official", "gray"],
    grayModels: distribution === "enterprise" ? ["whitelist"] : ["whitelist", "timeWindow"],
    modes: distribution === "testFlight" ? ["single", "multiple"] : ["single", "multiple", "forced"],
  };
}

function taskForm(pkg, ctx, area, done) {
  const rules = allowed(pkg.distribution);
  const type = select("type", rules.types.map((t) => [t, t === "official" ? "Official" : "Gray"]));
  const grayModel = select("grayModel", rules.grayModels.map((m) => [m, m === "whitelist" ? "Whitelist" : "Time window"]));
  const mode = select("mode", rules.modes.map((m) => [m, { single: "Single reminder (202)", multiple: "Multiple reminders (204)", forced: "Forced (206)" }[m]]));
  const whitelistBox = h("fieldset", { class: "checks" }, h("legend", {}, "Whitelists"), h("span", { class: "muted" }, "Loading…"));
  const whitelistError = h("div", { class: "field-error", role: "alert", hidden: true });
  const grayFields = field("Gray model", grayModel);
  const whitelistField = h("div", { class: "field wide", dataset: { field: "whitelistIds" } }, whitelistBox, whitelistError);
  const endTime = input("endTime", { type: "datetime-local" });
  const windowFields = [
    field(`End time (${ctx.workspace.timeZone || "UTC"})`, endTime),
    field("Users count", input("usersCount", { type: "number", min: 1 })),
  ];
  const submit = h("button", { type: "submit", class: "primary" }, "Create task");
  const ruleRows = rulesEditor([], { ws: ctx.ws });
  const sync = () => {
    const gray = type.value === "gray";
    grayFields.hidden = !gray;
    ruleRows.hidden = !gray;
    whitelistField.hidden = !(gray && grayModel.value === "whitelist");
    windowFields.forEach((f) => (f.hidden = !(gray && grayModel.value === "timeWindow")));
  };
  type.addEventListener("change", sync);
  grayModel.addEventListener("change", sync);
  api.get(`${ctx.ws}/whitelists`).then(({ whitelists }) => {
    clear(whitelistBox, h("legend", {}, "Whitelists"),
      whitelists.length
        ? whitelists.map((w) => h("label", { class: "check" },
            h("input", { type: "checkbox", name: "whitelistIds", value: w.whitelistId, dataset: { list: "1" } }),
            h("span", {}, `${w.name} (${w.count})`)))
        : h("span", { class: "muted" }, "No whitelists yet: create one under Whitelists & rules."));
  });
  const el = form(
    {
      class: "card",
      "aria-label": "New release task",
      onsubmit: async (event) => {
        event.preventDefault();
        const values = formValues(el);
        if (values.endTime) values.endTime = inWorkspaceZone(values.endTime, ctx.workspace);
        if (values.clientVersions) values.clientVersions = values.clientVersions.split(/[,\s]+/).filter(Boolean);
        if (values.whitelistIds && !values.whitelistIds.length) delete values.whitelistIds;
        if (values.type === "official") delete values.grayModel;
        else if (ruleRows.read().length) values.rules = ruleRows.read();
        await busy(submit, (async () => {
          try {
            const task = await api.post(`${ctx.ws}/upgrade/packages/${pkg.packageId}/tasks`, values);
            ctx.notice(`Task ${task.taskId} created (${task.status}).${warningText(task)}`);
            clear(area);
            await done();
          } catch (error) {
            if (error.field && error.field.startsWith("whitelistIds")) {
              whitelistError.textContent = error.message;
              whitelistError.hidden = false;
            } else showError(el, error);
          }
        })());
      },
    },
    h("h3", {}, `New release task for ${pkg.version}`),
    pkg.distribution === "testFlight" || pkg.distribution === "enterprise"
      ? h("p", { class: "hint" }, `${DISTRIBUTIONS[pkg.distribution]} packages are released gray only${pkg.distribution === "enterprise" ? ", to whitelists" : ", with single or multiple reminders"}.`)
      : null,
    h("div", { class: "grid" },
      field("Release type", type), grayFields, field("Reminder", mode), whitelistField, ...windowFields,
      field("Client versions (optional)", input("clientVersions", { placeholder: "e.g. 4.0-4.9, 3.2" }),
        { hint: "ranges or single versions, below the package version" }),
      field("Network (optional)", input("needClientNetType", { placeholder: "e.g. WIFI,4G" })),
      field("Silent period days (optional)", input("silentPeriodDays", { type: "number", min: 0 })),
      field("Upgrade prompt", textarea("guideMemo", { rows: 2 }), { wide: true }),
      field("Description (internal)", input("description"), { wide: true }),
      ruleRows),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  sync();
  return el;
}

// ---------------------------------------------------------------- edit a released task (guide §4.3)

// Type and gray model never change (the API refuses them, naming the field): they are shown, not edited.
function taskEditForm(task, ctx, area, done) {
  const modes = [["single", "Single reminder (202)"], ["multiple", "Multiple reminders (204)"], ["forced", "Forced (206)"]];
  const mode = select("mode", modes);
  mode.value = task.mode;
  const versionText = (task.clientVersions || []).map((r) => `${r.min ?? ""}-${r.max ?? ""}`).join(", ");
  const ruleRows = rulesEditor(task.rules || [], { ws: ctx.ws });
  const whitelistBox = h("fieldset", { class: "checks" }, h("legend", {}, "Whitelists"), h("span", { class: "muted" }, "Loading…"));
  if (task.grayModel === "whitelist") {
    api.get(`${ctx.ws}/whitelists`).then(({ whitelists }) => clear(whitelistBox, h("legend", {}, "Whitelists"),
      whitelists.map((w) => h("label", { class: "check" },
        h("input", { type: "checkbox", name: "whitelistIds", value: w.whitelistId, dataset: { list: "1" }, checked: task.whitelistIds.includes(w.whitelistId) }),
        h("span", {}, `${w.name} (${w.count})`)))));
  }
  const submit = h("button", { type: "submit", class: "primary" }, "Save task");
  const el = form(
    {
      class: "card",
      "aria-label": `Edit task ${task.taskId}`,
      onsubmit: async (event) => {
        event.preventDefault();
        const values = formValues(el);
        values.clientVersions = (values.clientVersions || "").split(/[,\s]+/).filter(Boolean);
        if (!values.clientVersions.length) delete values.clientVersions;
        if (values.endTime) values.endTime = inWorkspaceZone(values.endTime, ctx.workspace);
        values.guideMemo = values.guideMemo || "";
        values.description = values.description || "";
        if (task.type === "gray") values.rules = ruleRows.read();
        if (values.mode !== "single") delete values.silentPeriodDays;
        await busy(submit, (async () => {
          try {
            const saved = await api.patch(`${ctx.ws}/upgrade/tasks/${task.taskId}`, { ...values, revision: task.revision });
            ctx.notice(`Task ${saved.taskId} saved (revision ${saved.revision}).${warningText(saved)}`);
            clear(area);
            await done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h3", {}, `Edit task ${task.taskId}`),
    h("p", { class: "hint" }, `${task.type === "gray" ? `Gray (${task.grayModel})` : "Official"}: the type and gray model stay; end the task and create another to change them.`),
    h("div", { class: "grid" },
      field("Reminder", mode),
      field("Silent period days", input("silentPeriodDays", { type: "number", min: 1, value: task.silentPeriodDays ?? "" })),
      task.grayModel === "whitelist" ? h("div", { class: "field wide", dataset: { field: "whitelistIds" } }, whitelistBox) : null,
      task.grayModel === "timeWindow" ? field(`End time (${ctx.workspace.timeZone || "UTC"})`, input("endTime", { type: "datetime-local" }), { hint: `now ${when(task.endTime)}; empty keeps it` }) : null,
      task.grayModel === "timeWindow" ? field("Users count", input("usersCount", { type: "number", min: 1, value: task.usersCount }), { hint: `${task.claimed ?? 0} already claimed` }) : null,
      field("Client versions", input("clientVersions", { value: versionText })),
      field("Network", input("needClientNetType", { value: task.needClientNetType || "" })),
      field("Upgrade prompt", textarea("guideMemo", { rows: 2, value: task.guideMemo || "" }), { wide: true }),
      field("Description (internal)", input("description", { value: task.description || "" }), { wide: true }),
      task.type === "gray" ? ruleRows : null),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  return el;
}

// ---------------------------------------------------------------- edit a package's fields

function editForm(pkg, ctx, area, done) {
  const kind = pkg.distribution;
  const submit = h("button", { type: "submit", class: "primary" }, "Save package");
  const el = form(
    {
      class: "card",
      "aria-label": "Edit package",
      onsubmit: async (event) => {
        event.preventDefault();
        const values = formValues(el);
        if (values.description === undefined) values.description = "";
        if (values.removeCode) values.verificationCode = "";  // "" removes it
        delete values.removeCode;
        await busy(submit, (async () => {
          try {
            await api.patch(`${ctx.ws}/upgrade/packages/${pkg.packageId}`, { ...values, revision: pkg.revision });
            ctx.notice(`Package ${pkg.version} saved.`);
            clear(area);
            await done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h3", {}, `Edit ${pkg.version}`),
    h("div", { class: "grid" },
      field("Description", textarea("description", { rows: 2, value: pkg.description || "" }), { wide: true }),
      kind === "apk" || kind === "enterprise"
        ? field("New verification code", input("verificationCode", { autocomplete: "off" }),
            { hint: pkg.verificationRequired ? "a code is set; leave empty to keep it" : "4-32 letters or digits; empty: none" })
        : null,
      (kind === "apk" || kind === "enterprise") && pkg.verificationRequired
        ? h("label", { class: "check" }, h("input", { type: "checkbox", name: "removeCode" }), h("span", {}, "Remove the verification code"))
        : null,
      kind === "appStore" || kind === "testFlight" ? field("Store URL", input("storeUrl", { type: "url", value: pkg.storeUrl || "" })) : null,
      kind === "testFlight" ? field("Valid days (1-90)", input("validDays", { type: "number", value: pkg.validDays ?? "" })) : null,
      kind === "testFlight" ? field("Tester limit", input("testerLimit", { type: "number", value: pkg.testerLimit ?? "" })) : null,
      kind === "enterprise" ? field("Bundle ID", input("bundleId", { value: pkg.bundleId || "" })) : null),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  return el;
}

// ---------------------------------------------------------------- more files: icon, symbols, a new package file

function fileForm(pkg, ctx, done) {
  const kinds = [];  // what the API takes for this distribution (domain/upgrade.py)
  if (pkg.distribution === "apk" || pkg.distribution === "enterprise") kinds.push(["package", pkg.platform === "ios" ? "Replace the IPA" : "Replace the APK"]);
  if (pkg.distribution === "enterprise") kinds.push(["icon", "Install icon (.png/.jpg)"]);
  if (pkg.platform === "ios") kinds.push(["symbols", "Debug symbols (.tgz of the dSYM)"]);
  if (!kinds.length) return null;
  const kind = select("kind", kinds);
  const file = h("input", { type: "file", name: "file" });
  const progressArea = h("div");
  const submit = h("button", { type: "submit" }, "Upload file");
  const el = form(
    {
      class: "toolbar",
      "aria-label": "Upload a file for this package",
      onsubmit: async (event) => {
        event.preventDefault();
        const chosen = file.files[0];
        await busy(submit, (async () => {
          try {
            if (!chosen) throw Object.assign(new Error("choose a file"), { field: "file" });
            const token = await api.post(`${ctx.ws}/upgrade/packages/${pkg.packageId}/uploads`, { kind: kind.value, filename: chosen.name });
            const sent = await upload(ctx, token, chosen, progressArea, el);
            if (sent.ok) {
              ctx.notice(`${chosen.name} stored for ${pkg.version}.`);
              await done();
            }
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    field("Upload", kind), field("File", file), submit, progressArea);
  return el;
}
