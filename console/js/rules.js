// The "advanced rules" editor of gray releases: rows of type / operation / values, read back in the
// rule-engine form of docs/targeting.md (`{type, operation, values}` or `{type, operation, ranges}`).
// Given the workspace (`ws`), each row offers the release rules defined for its type (guide §8) as
// choices added to its values; free text stays possible (the API warns about undefined values).
import { api } from "./api.js";
import { h, nextId } from "./ui.js";

const TYPES = [["city", "City"], ["model", "Device model"], ["network", "Network"], ["osVersion", "OS version"]];
const OPERATIONS = [["1", "is one of"], ["2", "is none of"], ["3", "in range"], ["4", "out of range"]];

const rangeText = (r) => (typeof r === "string" ? r : `${r.min ?? ""}-${r.max ?? ""}`);

// The API keeps rule values no release rule defines, and says so (guide §8): " Warning: rules[0]…".
export const warningText = (answer) =>
  (answer.warnings || []).length ? ` Warning: ${answer.warnings.map((w) => `${w.field}: ${w.message}`).join("; ")}` : "";

const PLATFORMS = { android: "Android", ios: "iOS", all: "all platforms" };

// `initial`: rules in their JSON form, to edit existing ones. `label`: the group's legend.
export function rulesEditor(initial = [], { label = "Advanced rules (all must match)", name = "rules", ws = null } = {}) {
  const defined = ws ? api.get(`${ws}/release-rules`).then((r) => r.releaseRules).catch(() => []) : Promise.resolve([]);
  const rows = h("div", { class: "rules-rows" });
  const error = h("div", { class: "field-error", role: "alert", hidden: true, id: nextId("rules-error") });
  const add = (rule = null) => {
    const type = h("select", { "aria-label": "Rule type" }, TYPES.map(([v, t]) => h("option", { value: v }, t)));
    const operation = h("select", { "aria-label": "Rule operation" }, OPERATIONS.map(([v, t]) => h("option", { value: v }, t)));
    const values = h("input", { type: "text", "aria-label": "Rule values", placeholder: "comma-separated, e.g. Shanghai, Hangzhou or 8.0-12.0" });
    const choices = h("select", { "aria-label": "Defined values", hidden: true });
    choices.addEventListener("change", () => {
      const list = values.value.split(",").map((v) => v.trim()).filter(Boolean);
      if (choices.value && !list.includes(choices.value)) values.value = [...list, choices.value].join(", ");
      choices.value = "";
    });
    const offer = async () => {
      const mine = (await defined).filter((r) => r.type === type.value);
      choices.replaceChildren(h("option", { value: "" }, `Add a defined ${type.selectedOptions[0].textContent.toLowerCase()}…`),
        ...mine.map((r) => h("option", { value: r.value }, `${r.name} (${r.value}, ${PLATFORMS[r.platform] || r.platform})`)));
      choices.hidden = !mine.length;
    };
    const sync = () => {
      const os = type.value === "osVersion";
      for (const option of operation.options) option.disabled = !os && Number(option.value) > 2;
      if (!os && Number(operation.value) > 2) operation.value = "1";
      offer();
    };
    type.addEventListener("change", sync);
    const row = h("div", { class: "rule-row" }, type, operation, values, choices,
      h("button", { type: "button", "aria-label": "Remove rule", onclick: () => row.remove() }, "Remove"));
    if (rule) {
      type.value = rule.type;
      operation.value = String(rule.operation);
      values.value = (rule.ranges || rule.values || []).map(rangeText).join(", ");
    }
    row.read = () => {
      const list = values.value.split(",").map((v) => v.trim()).filter(Boolean);
      const op = Number(operation.value);
      return op > 2 ? { type: type.value, operation: op, ranges: list } : { type: type.value, operation: op, values: list };
    };
    sync();
    rows.append(row);
  };
  const el = h("fieldset", { class: "rules field wide", dataset: { field: name } },
    h("legend", {}, label),
    rows,
    h("button", { type: "button", onclick: () => add() }, "Add rule"),
    error);
  el.read = () => [...rows.children].map((row) => row.read());
  for (const rule of initial || []) add(rule);
  return el;
}
