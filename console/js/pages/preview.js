// Delivery preview: a device context in, what that device gets from every product out, and whether the
// CDN manifests answered it alone or the device would have to call the dynamic API.
import { api } from "../api.js";
import { badge, busy, clear, facts, field, form, formValues, h, input, select, showError } from "../ui.js";

const NETWORKS = [["", "(any)"], ["WIFI", "Wi-Fi"], ["5G", "5G"], ["4G", "4G"], ["3G", "3G"], ["2G", "2G"]];
let last = null;

export async function render(body, ctx) {
  const results = h("div", { id: "preview-results", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, "Preview");
  const el = form(
    {
      class: "card",
      "aria-label": "Device context",
      onsubmit: async (event) => {
        event.preventDefault();
        last = formValues(el);
        await busy(submit, (async () => {
          try {
            const answer = await api.post(`${ctx.ws}/delivery/preview`, last);
            showResults(results, answer);
          } catch (error) {
            showError(el, error);
          }
        })());
      },
    },
    h("p", { class: "muted" }, "What would this device get right now? Nothing is claimed: time-window quota is never used by a preview."),
    h("div", { class: "grid" },
      field("Platform", select("platform", [["android", "Android"], ["ios", "iOS"]], { value: last?.platform })),
      field("Client version", input("clientVersion", { placeholder: "e.g. 4.0.1", value: last?.clientVersion })),
      field("User ID", input("userId", { value: last?.userId })),
      field("Device ID", input("deviceId", { value: last?.deviceId })),
      field("City", input("city", { placeholder: "e.g. Hangzhou", value: last?.city })),
      field("Device model", input("model", { placeholder: "e.g. Pixel 8", value: last?.model })),
      field("Network", select("netType", NETWORKS, { value: last?.netType || "" })),
      field("OS version", input("osVersion", { placeholder: "e.g. 14", value: last?.osVersion }))),
    h("div", { class: "actions" }, submit),
  );
  clear(body, el, results);
}

function showResults(box, answer) {
  clear(box, h("h2", {}, `Answers for this ${answer.platform === "ios" ? "iOS" : "Android"} device`),
    h("div", { class: "result-cards" }, answer.products.map(productCard)));
}

function productCard(p) {
  const how = p.static
    ? badge("answered statically (CDN manifest)", "ok")
    : badge("needs the dynamic API", "warn");
  return h("section", { class: "card", "aria-label": `Product ${p.product}`, dataset: { product: p.product } },
    h("h3", {}, p.product, " ", how),
    facts({
      published: p.published ? `yes, sequence ${p.sequence}` : "nothing published yet",
      segment: p.segment,
      chosen: p.chosen.length ? p.chosen.map((c) => (c.subject ? `${c.subject} → ${c.candidateId}` : c.candidateId)) : "none",
      "needs the dynamic API for": p.needsDynamicApi.length
        ? p.needsDynamicApi.map((d) => `${d.subject ? `${d.subject}: ` : ""}${d.candidateId} (time-window quota)`)
        : null,
    }),
    h("h4", {}, "Answer"),
    p.answer ? facts(p.answer) : h("p", { class: "muted" }, "Decided by the dynamic API at request time."));
}
