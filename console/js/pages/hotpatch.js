// Hotpatch: patches per app version (upload with progress, signature, apply-outcome counts), their
// releases (gray to whitelists or official; guardrail; pause / continue / end) and rollback.
import { api, ApiError } from "../api.js";
import {
  badge, busy, bytes, clear, clearErrors, confirmDialog, describe, field, form, formValues, h, input,
  postToS3, progressBar, select, showError, table, waitForUpload, when,
} from "../ui.js";
import { rulesEditor } from "../rules.js";

const PATCH_STATUS = { awaitingUpload: ["awaiting upload", ""], ready: ["ready", "ok"], rolledBack: ["rolled back", "error"], failed: ["failed", "error"] };
const RELEASE_STATUS = { running: ["Running", "ok"], paused: ["Paused", "warn"], ended: ["Ended", "muted"] };
const open = new Set();

export async function render(body, ctx) {
  const area = h("div");
  const list = h("div");
  const reload = () => renderList(list, ctx);
  const keys = h("section", { "aria-label": "Patch signing keys" });
  clear(body,
    h("div", { class: "toolbar" },
      ctx.canEdit ? h("button", { type: "button", class: "primary", onclick: () => clear(area, patchForm(ctx, area, reload)) }, "New patch") : null),
    area, list, keys);
  await Promise.all([reload(), renderKeys(keys, ctx)]);
}

// The public keys apps pin: MDS's patch key, and the developer's own key for developer-signed patches.
async function renderKeys(box, ctx) {
  const keys = await api.get(`${ctx.ws}/hotpatch/keys`);
  const row = (name, key) => ({ name, key });
  const pem = h("textarea", { name: "publicKey", rows: 4, placeholder: "-----BEGIN PUBLIC KEY-----" });
  const register = form(
    {
      class: "card",
      "aria-label": "Developer public key",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await api.put(`${ctx.ws}/hotpatch/keys/developer`, { publicKey: pem.value.trim() });
          ctx.notice("Developer key registered.");
          renderKeys(box, ctx);
        } catch (error) {
          showError(register, error);
        }
      },
    },
    field(keys.developer ? "Replace the developer public key (PEM)" : "Developer public key (PEM, RSA ≥ 2048 bits)", pem, { wide: true }),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Register developer key")),
  );
  clear(box,
    h("h2", {}, `Signing keys (${keys.algorithm})`),
    table(
      [
        { label: "Signer", cell: (r) => r.name },
        { label: "Key ID", cell: (r) => (r.key ? h("code", {}, r.key.keyId) : "not registered") },
        { label: "Registered", cell: (r) => (r.key ? when(r.key.createdAt) : "—") },
      ],
      [row("mds", keys.mds), row("developer", keys.developer)],
    ),
    ctx.isAdmin ? register : null);
}

const statusBadge = (map, value) => {
  const [text, kind] = map[value] || [value, ""];
  return badge(text, kind);
};
const outcomes = (r) => `${r.applied} applied · ${r.failed} failed · ${r.total} reports`;

async function renderList(list, ctx) {
  const { patches } = await api.get(`${ctx.ws}/hotpatch/patches`);
  const reload = () => renderList(list, ctx);
  clear(list, table(
    [
      { label: "Patch", cell: (p) => h("strong", {}, p.patchId) },
      { label: "App version", cell: (p) => `${p.platform === "ios" ? "iOS" : "Android"} ${p.appVersion}` },
      { label: "Status", cell: (p) => statusBadge(PATCH_STATUS, p.status) },
      { label: "File", cell: (p) => (p.file ? `${p.file.filename || "file"}, ${bytes(p.file.size)} · signed by ${p.signer}` : "—") },
      { label: "Apply outcomes", cell: (p) => outcomes(p.reports) },
      { label: "Created", cell: (p) => when(p.createdAt) },
      {
        label: "Actions",
        cell: (p) => [
          h("button", { type: "button", "aria-expanded": String(open.has(p.patchId)), "aria-label": `Releases of patch ${p.patchId}`, onclick: (e) => toggle(e.target.closest("tr"), p, ctx, reload) }, "Releases"),
          ctx.canEdit && p.status === "ready"
            ? h("button", {
                type: "button",
                class: "danger",
                "aria-label": `Roll back patch ${p.patchId}`,
                onclick: async () => {
                  if (!(await confirmDialog(`Roll back patch ${p.patchId} for good? Devices that applied it remove it on their next check; its live releases end.`, { confirmText: "Roll back", danger: true }))) return;
                  try {
                    const done = await api.post(`${ctx.ws}/hotpatch/patches/${p.patchId}/rollback`);
                    ctx.notice(`Patch ${p.patchId} rolled back; devices now get ${done.devicesNowGet ?? "no patch"}.`);
                    reload();
                  } catch (error) {
                    ctx.notice(describe(error), "error");
                  }
                },
              }, "Roll back")
            : null,
        ],
      },
    ],
    patches,
    { empty: "No patches yet.", caption: `${patches.length} patch(es)` },
  ));
  const rows = list.querySelectorAll("tbody tr");
  await Promise.all(patches.map((p, i) => (open.has(p.patchId) ? showReleases(rows[i], p, ctx, reload) : null)));
}

async function toggle(row, patch, ctx, reload) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains("detail-row")) {
    next.remove();
    open.delete(patch.patchId);
    return;
  }
  open.add(patch.patchId);
  await showReleases(row, patch, ctx, reload);
}

async function showReleases(row, patch, ctx, reload) {
  const cell = h("td", { colspan: 7 });
  row.after(h("tr", { class: "detail-row" }, cell));
  const { releases } = await api.get(`${ctx.ws}/hotpatch/releases`, { patchId: patch.patchId });
  const area = h("div");
  clear(cell, h("section", { "aria-label": `Patch ${patch.patchId}` },
    h("h3", {}, `Releases of patch ${patch.patchId} (${patch.appVersion})`),
    ctx.canEdit && patch.status === "ready"
      ? h("button", { type: "button", class: "primary", onclick: () => clear(area, releaseForm(patch, ctx, area, reload)) }, "New release")
      : null,
    area,
    table(
      [
        { label: "Release", cell: (r) => r.releaseId },
        { label: "Type", cell: (r) => (r.type === "gray" ? `gray · whitelists ${r.whitelistIds.join(", ")}` : "official") },
        { label: "Status", cell: (r) => [statusBadge(RELEASE_STATUS, r.status), r.pausedReason ? h("div", { class: "small" }, r.pausedReason) : null] },
        { label: "Guardrail", cell: (r) => (r.guardrail ? `pause at ${r.guardrail.failurePercent}% failed after ${r.guardrail.minReports} reports` : "—") },
        { label: "Apply outcomes", cell: (r) => outcomes(r.reports) },
        { label: "Actions", cell: (r) => (ctx.canEdit ? releaseActions(r, ctx, reload) : "—") },
      ],
      releases,
      { empty: "Not released yet." },
    )));
}

function releaseActions(release, ctx, reload) {
  const act = (action, label, question, danger) => h("button", {
    type: "button",
    class: danger ? "danger" : "",
    "aria-label": `${label} release ${release.releaseId}`,
    onclick: async () => {
      if (!(await confirmDialog(question, { confirmText: label, danger }))) return;
      try {
        await api.post(`${ctx.ws}/hotpatch/releases/${release.releaseId}/status`, { action, revision: release.revision });
        reload();
      } catch (error) {
        ctx.notice(describe(error), "error");
      }
    },
  }, label);
  const end = act("end", "End", `End release ${release.releaseId}? It cannot be continued.`, true);
  if (release.status === "running") return [act("pause", "Pause", `Pause release ${release.releaseId}?`), end];
  if (release.status === "paused") return [act("resume", "Continue", `Continue release ${release.releaseId}?`), end];
  return "—";
}

function releaseForm(patch, ctx, area, done) {
  const type = select("type", [["gray", "Gray (whitelists)"], ["official", "Official (everyone on this version)"]]);
  const lists = h("fieldset", { class: "checks" }, h("legend", {}, "Whitelists"));
  const listsError = h("div", { class: "field-error", role: "alert", hidden: true });
  const listsField = h("div", { class: "field wide" }, lists, listsError);
  const rules = rulesEditor([], { ws: ctx.ws });
  type.addEventListener("change", () => (listsField.hidden = rules.hidden = type.value !== "gray"));
  api.get(`${ctx.ws}/whitelists`).then(({ whitelists }) => lists.append(...whitelists.map((w) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "whitelistIds", value: w.whitelistId, dataset: { list: "1" } }), h("span", {}, `${w.name} (${w.count})`)))));
  const submit = h("button", { type: "submit", class: "primary" }, "Release");
  const el = form(
    {
      class: "card",
      "aria-label": "New hotpatch release",
      onsubmit: async (event) => {
        event.preventDefault();
        clearErrors(el);
        listsError.hidden = true;
        const values = formValues(el);
        const body = { type: values.type, description: values.description };
        if (values.type === "gray") body.whitelistIds = values.whitelistIds || [];
        if (values.type === "gray" && rules.read().length) body.rules = rules.read();
        if (values.failurePercent !== undefined) body.guardrail = { failurePercent: values.failurePercent, ...(values.minReports !== undefined ? { minReports: values.minReports } : {}) };
        await busy(submit, (async () => {
          try {
            await api.post(`${ctx.ws}/hotpatch/patches/${patch.patchId}/releases`, body);
            ctx.notice(`Patch ${patch.patchId} released.`);
            clear(area);
            done();
          } catch (error) {
            if (error.field && error.field.startsWith("whitelistIds")) {
              listsError.textContent = error.message;
              listsError.hidden = false;
            } else if (error.field && error.field.startsWith("guardrail")) {
              const name = error.field.includes("minReports") ? "minReports" : "failurePercent";
              showError(el, new ApiError(error.status, { message: error.message, field: name }));
            } else showError(el, error);
          }
        })());
      },
    },
    h("h3", {}, `Release patch ${patch.patchId}`),
    h("div", { class: "grid" },
      field("Release type", type),
      listsField,
      field("Pause when failures reach (%)", input("failurePercent", { type: "number", min: 1, max: 100 }), { hint: "optional guardrail" }),
      field("…after at least (reports)", input("minReports", { type: "number", min: 1 })),
      field("Description", input("description"), { wide: true }),
      rules),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  return el;
}

function patchForm(ctx, area, done) {
  const file = h("input", { type: "file", name: "file", accept: ".zip,.js,.lua,.patch,.bin" });
  const signer = select("signer", [["mds", "MDS (the workspace's patch key)"], ["developer", "Developer (my own signature)"]]);
  const signatureField = field("Signature (base64 RSA-SHA256 of the file)", h("textarea", { name: "signature", rows: 2 }), { wide: true });
  signatureField.hidden = true;
  signer.addEventListener("change", () => (signatureField.hidden = signer.value !== "developer"));
  const progressArea = h("div");
  const submit = h("button", { type: "submit", class: "primary" }, "Upload patch");
  const el = form(
    {
      class: "card",
      "aria-label": "New patch",
      onsubmit: async (event) => {
        event.preventDefault();
        clearErrors(el);
        const chosen = file.files[0];
        const values = formValues(el);
        await busy(submit, (async () => {
          try {
            if (!chosen) throw new ApiError(400, { message: "choose the patch file", field: "file" });
            const created = await api.post(`${ctx.ws}/hotpatch/patches`, { ...values, filename: chosen.name });
            const progress = progressBar(`Uploading ${chosen.name}`);
            clear(progressArea, progress.el);
            await postToS3(created.upload.post, chosen, (f) => progress.set(f));
            const result = await waitForUpload(ctx.ws, created.upload.uploadId, { onStatus: (s) => progress.status(s) });
            if (result.status === "failed") throw new ApiError(400, { message: result.error || "the file was refused", field: "file" });
            progress.status("ready");
            ctx.notice(`Patch ${created.patchId} is ready.`);
            clear(area, h("div", { class: "card", role: "status" }, `Patch ${created.patchId} uploaded and signed.`, progress.el));
            done();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("h3", {}, "New patch"),
    h("div", { class: "grid" },
      field("Platform", select("platform", [["android", "Android"], ["ios", "iOS"]])),
      field("App version", input("appVersion", { placeholder: "an upgrade package version, e.g. 5.0" })),
      field("Patch file", file),
      field("Signed by", signer),
      signatureField,
      field("Description", input("description"), { wide: true })),
    progressArea,
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => clear(area) }, "Cancel"), submit),
  );
  return el;
}
