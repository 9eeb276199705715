// Reach and rollouts: what the devices reported for one release (the funnel, drawn as an SVG bar chart
// by the console itself; failures by reason; per day), and its progressive rollout plan with the
// guardrail that stops it. Deep link: #/reach/<release>, e.g. #/reach/upgrade-task-12.
import { api } from "../api.js";
import { badge, busy, clear, facts, field, form, h, input, showError, table, when } from "../ui.js";

const STAGES = [
  ["offered", "Offered"],
  ["prompted", "Prompted"],
  ["downloadStarted", "Download started"],
  ["downloaded", "Downloaded"],
  ["installed", "Installed / applied"],
  ["downloadFailed", "Download failed"],
  ["installFailed", "Install failed"],
];
const SVG = "http://www.w3.org/2000/svg";

export async function render(body, ctx) {
  const release = decodeURIComponent((location.hash.match(/^#\/reach\/(.+)$/) || [])[1] || "");
  const results = h("div", { id: "reach-results", "aria-live": "polite" });
  const picker = form(
    {
      class: "card",
      "aria-label": "Choose a release",
      onsubmit: (event) => {
        event.preventDefault();
        const value = picker.elements.release.value.trim();
        if (value) location.hash = `#/reach/${encodeURIComponent(value)}`;
      },
    },
    h("div", { class: "grid" },
      field("Release", input("release", { value: release, placeholder: "upgrade-task-12, h5-task-3, hotpatch-release-7, config:feed_v2" }),
        { hint: "As devices name it: the task or release ID with its product, or config:<key>.", wide: true })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Show")),
  );
  clear(body, picker, results);
  if (release) await show(results, release, ctx);
}

async function show(box, release, ctx) {
  let reach;
  try {
    reach = await api.get(`${ctx.ws}/reach/${encodeURIComponent(release)}`);
  } catch (error) {
    clear(box, h("p", { class: "notice error", role: "alert" }, error.message));
    return;
  }
  const parts = [h("h2", {}, `Reach of ${reach.release}`)];
  if (reach.product === "config") {
    parts.push(valuesChart(reach.values));
  } else {
    parts.push(
      funnelChart(reach.funnel),
      h("h3", {}, "Failures by reason"),
      failuresTable(reach.failures),
      h("h3", {}, "Per day"),
      table([{ label: "Day", cell: (r) => r.day }, ...STAGES.map(([key, label]) => ({ label, cell: (r) => r[key] }))],
        reach.byDay, { empty: "No device has reported on this release yet." }),
    );
  }
  const plan = h("section", { class: "card", id: "rollout", "aria-label": "Rollout plan" });
  parts.push(plan);
  clear(box, ...parts);
  if (reach.product !== "config") await showPlan(plan, release, ctx);
}

// Horizontal bars, one per funnel stage, scaled to the largest; each bar names its stage and count.
function funnelChart(funnel) {
  const rows = STAGES.map(([key, label]) => [key, label, funnel[key] || 0]);
  return barChart("Devices per stage", rows.map(([key, label, n]) => ({ key, label, n, failure: key.endsWith("Failed") })));
}

function valuesChart(values) {
  if (!values.length) return h("p", { class: "muted empty" }, "No device has reported a value of this key yet.");
  return barChart("Devices per value", values.map((v, i) => ({ key: `value-${i}`, label: v.value, n: v.devices })));
}

function barChart(title, bars) {
  const width = 720, rowHeight = 30, labelWidth = 190, countWidth = 70;
  const max = Math.max(1, ...bars.map((b) => b.n));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${bars.length * rowHeight + 10}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${title}: ${bars.map((b) => `${b.label} ${b.n}`).join(", ")}`);
  svg.setAttribute("class", "chart");
  bars.forEach((bar, i) => {
    const y = i * rowHeight + 5;
    const length = Math.round(((width - labelWidth - countWidth) * bar.n) / max);
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("data-stage", bar.key);
    g.setAttribute("data-count", String(bar.n));
    g.append(
      svgEl("text", { x: labelWidth - 8, y: y + 19, "text-anchor": "end", class: "chart-label" }, bar.label),
      svgEl("rect", { x: labelWidth, y: y + 4, width: Math.max(length, bar.n ? 2 : 0), height: rowHeight - 10,
        rx: 3, class: bar.failure ? "chart-bar failure" : "chart-bar" }),
      svgEl("text", { x: labelWidth + length + 6, y: y + 19, class: "chart-count" }, String(bar.n)),
    );
    svg.append(g);
  });
  return h("figure", { class: "card" }, h("figcaption", {}, title), svg);
}

function svgEl(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function failuresTable(failures) {
  const rows = [];
  for (const [kind, reasons] of Object.entries(failures || {})) {
    for (const [reason, devices] of Object.entries(reasons)) rows.push({ kind, reason, devices });
  }
  rows.sort((a, b) => b.devices - a.devices);
  return table([{ label: "Step", cell: (r) => r.kind }, { label: "Reason", cell: (r) => r.reason },
    { label: "Devices", cell: (r) => r.devices }], rows, { empty: "No failures reported." });
}

async function showPlan(box, release, ctx) {
  let plan = null;
  try {
    plan = await api.get(`${ctx.ws}/rollouts/${encodeURIComponent(release)}`);
  } catch (error) {
    if (error.status !== 404) {
      clear(box, h("p", { class: "notice error", role: "alert" }, error.message));
      return;
    }
  }
  const parts = [h("h3", {}, "Progressive rollout")];
  if (plan) {
    const state = { running: badge("ramping", "ok"), paused: badge("paused", "error"), done: badge("complete", "ok") }[plan.state];
    parts.push(
      h("p", { id: "rollout-state" }, state, ` step ${plan.step + 1} of ${plan.steps.length}: ${plan.percent}% of devices`),
      plan.reason ? h("p", { class: "notice error", role: "status", id: "rollout-reason" }, plan.reason) : null,
      facts({
        steps: plan.steps.map((s) => `${s.percent}% for ${s.bakeMinutes} min`),
        "next step": plan.nextStepAt ? when(new Date(plan.nextStepAt * 1000).toISOString()) : null,
        guardrail: plan.guardrail ? `pause at ${plan.guardrail.failurePercent}% failures after ${plan.guardrail.minDevices} devices` : "none",
      }),
    );
  } else {
    parts.push(h("p", { class: "muted" }, "No plan: the release reaches every device its targeting allows."));
  }
  if (ctx.canEdit) parts.push(planForm(release, ctx, () => showPlan(box, release, ctx), plan));
  clear(box, ...parts);
}

function planForm(release, ctx, refresh, plan) {
  const submit = h("button", { type: "submit", class: "primary" }, plan ? "Replace plan" : "Start rollout");
  const el = form(
    {
      "aria-label": "Rollout plan",
      onsubmit: async (event) => {
        event.preventDefault();
        const percents = el.elements.steps.value.split(/[\s,%]+/).filter(Boolean).map(Number);
        const bake = Number(el.elements.bake.value);
        const body = { steps: percents.map((percent) => ({ percent, bakeMinutes: bake })) };
        const failure = el.elements["guardrail.failurePercent"].value.trim();
        if (failure) body.guardrail = { failurePercent: Number(failure), minDevices: Number(el.elements["guardrail.minDevices"].value || 20) };
        await busy(submit, (async () => {
          try {
            await api.put(`${ctx.ws}/rollouts/${encodeURIComponent(release)}`, body);
            ctx.notice("Rollout plan saved.");
            await refresh();
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("div", { class: "grid" },
      field("Steps (percent)", input("steps", { value: "1, 5, 20, 50, 100" }), { hint: "Rising percentages, separated by commas." }),
      field("Bake time per step (minutes)", input("bake", { type: "number", min: 1, value: 60 })),
      field("Pause at failure percent", input("guardrail.failurePercent", { type: "number", min: 1, max: 100, placeholder: "e.g. 5" })),
      field("…after at least (devices)", input("guardrail.minDevices", { type: "number", min: 1, value: 20 }))),
    h("div", { class: "actions" }, submit,
      plan ? h("button", { type: "button", onclick: async () => {
        await api.del(`${ctx.ws}/rollouts/${encodeURIComponent(release)}`);
        ctx.notice("Rollout plan removed: the release reaches everyone its targeting allows.");
        await refresh();
      } }, "Remove plan") : null),
  );
  return el;
}
