// The visual segment builder: AND/OR groups of rules picked from the catalogue the server
// offers (fields, custom attributes, events, opportunities, consent, other segments), each
// with the operators of its type and a value input fitting it. The JSON in #id_rules stays
// the stored form: the builder writes it on every change (segment_preview.js counts it),
// and reads it back when a power user edits it by hand. What the builder cannot show as
// controls (e.g. a "not" around one rule) stays as a JSON rule, kept exactly.
"use strict";

(function () {
  const NO_VALUE = ["is_empty", "is_not_empty", "is_set", "is_not_set"];
  const LIST_OPS = ["in", "not_in"];
  const DAY_OPS = ["within_days", "older_than_days", "within_last_days"];
  const FIELD_KINDS = ["field", "attribute", "company_attribute", "opportunity_attribute"];
  const MODES = [
    ["all", "Match all of these"],
    ["any", "Match any of these"],
    ["none", "Match none of these"],
  ];

  let nextId = 1;

  // --- The tree: groups and rules, to and from the stored JSON --------------------------

  function group(mode, children) {
    return { id: nextId++, type: "group", mode: mode, children: children || [] };
  }

  function rule(kind, data) {
    return Object.assign({ id: nextId++, type: "rule", kind: kind }, data);
  }

  function onlyKeys(object, allowed) {
    return Object.keys(object).every((key) => allowed.includes(key));
  }

  function fromJSON(json, catalogue) {
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      return rule("json", { json: json });
    }
    const keys = Object.keys(json);
    if (keys.length === 1 && (keys[0] === "all" || keys[0] === "any") && Array.isArray(json[keys[0]])) {
      return group(keys[0], json[keys[0]].map((child) => fromJSON(child, catalogue)));
    }
    const inner = json.not;
    if (keys.length === 1 && inner && typeof inner === "object" && onlyKeys(inner, ["any"]) &&
        Array.isArray(inner.any)) {
      return group("none", inner.any.map((child) => fromJSON(child, catalogue)));
    }
    return conditionFromJSON(json, catalogue) || rule("json", { json: json });
  }

  function conditionFromJSON(json, catalogue) {
    const kind = FIELD_KINDS.find((each) => each in json);
    if (kind && onlyKeys(json, [kind, "op", "value"]) && fieldOf(catalogue, kind, json[kind])) {
      return rule("field", { field: kind + ":" + json[kind], op: json.op, value: json.value });
    }
    if ("event" in json && onlyKeys(json, ["event", "occurred", "within_days", "min_count", "properties"])) {
      return rule("event", {
        event: json.event, occurred: json.occurred !== false, within_days: json.within_days,
        min_count: json.min_count, properties: json.properties,
      });
    }
    const deal = json.opportunity;
    if (deal && typeof deal === "object" && onlyKeys(json, ["opportunity", "exists"]) &&
        onlyKeys(deal, ["pipeline", "stage", "meaning"])) {
      return rule("opportunity", {
        exists: json.exists !== false, pipeline: deal.pipeline || "",
        stage: deal.stage || [], meaning: deal.meaning || [],
      });
    }
    const consent = json.consent;
    if (consent && typeof consent === "object" && onlyKeys(json, ["consent"]) && catalogue.consent) {
      return rule("consent", {
        channel: consent.channel, purpose: consent.purpose, status: consent.status || [],
      });
    }
    if ("segment" in json && onlyKeys(json, ["segment"])) {
      return rule("segment", { segment: json.segment });
    }
    return null;
  }

  function toJSON(node) {
    if (node.type === "group") {
      const children = node.children.map(toJSON);
      return node.mode === "none" ? { not: { any: children } } : { [node.mode]: children };
    }
    return ruleJSON[node.kind](node);
  }

  const ruleJSON = {
    field(node) {
      const [kind, key] = splitField(node.field);
      const json = { [kind]: key, op: node.op };
      if (!NO_VALUE.includes(node.op)) json.value = node.value === undefined ? null : node.value;
      return json;
    },
    event(node) {
      const json = { event: node.event || "" };
      if (!node.occurred) json.occurred = false;
      if (node.min_count !== undefined && node.min_count !== null) json.min_count = node.min_count;
      if (node.within_days !== undefined && node.within_days !== null) json.within_days = node.within_days;
      if (node.properties !== undefined) json.properties = node.properties;
      return json;
    },
    opportunity(node) {
      const deal = {};
      if (node.pipeline) deal.pipeline = node.pipeline;
      if (node.stage.length) deal.stage = node.stage;
      if (node.meaning.length) deal.meaning = node.meaning;
      return node.exists ? { opportunity: deal } : { opportunity: deal, exists: false };
    },
    consent(node) {
      return { consent: { channel: node.channel, purpose: node.purpose, status: node.status } };
    },
    segment(node) {
      return { segment: node.segment };
    },
    json(node) {
      return node.json;
    },
  };

  function splitField(ref) {
    const at = ref.indexOf(":");
    return [ref.slice(0, at), ref.slice(at + 1)];
  }

  function fieldOf(catalogue, kind, key) {
    return catalogue.fields.find((each) => each.kind === kind && each.key === key);
  }

  // --- Defaults: a new rule, and a value that fits a field and operator -----------------

  function newRule(catalogue, what) {
    if (what === "event") return rule("event", { event: "", occurred: true });
    if (what === "opportunity") {
      return rule("opportunity", { exists: true, pipeline: "", stage: [], meaning: [] });
    }
    if (what === "consent") {
      const c = catalogue.consent;
      return rule("consent", {
        channel: c.channels[0].value, purpose: c.purposes[0].value, status: ["opted_in"],
      });
    }
    if (what === "segment") {
      return rule("segment", { segment: catalogue.segments.length ? catalogue.segments[0].id : null });
    }
    if (what === "json") return rule("json", { json: { all: [] } });
    const [kind, key] = splitField(what);
    const field = fieldOf(catalogue, kind, key);
    const op = field.ops[0].value;
    return rule("field", { field: what, op: op, value: defaultValue(field, op) });
  }

  function defaultValue(field, op) {
    if (NO_VALUE.includes(op)) return undefined;
    if (LIST_OPS.includes(op)) return field.choices ? [field.choices[0].value] : [];
    if (DAY_OPS.includes(op)) return 30;
    if (field.choices) return field.choices[0].value;
    if (field.type === "boolean") return true;
    if (field.type === "number" || field.type === "reference") return null;
    return "";
  }

  // --- Controls ---------------------------------------------------------------------------

  function element(tag, attributes, children) {
    const made = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => {
      if (value === undefined || value === null || value === false) return;
      if (name === "text") made.textContent = value;
      else made.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach((child) => made.appendChild(child));
    return made;
  }

  function select(id, label, options, current) {
    const control = element("select", { id: id, "aria-label": label });
    options.forEach((option) => {
      if (option.group) {
        const optgroup = element("optgroup", { label: option.group });
        option.options.forEach((each) => optgroup.appendChild(optionOf(each, current)));
        control.appendChild(optgroup);
      } else {
        control.appendChild(optionOf(option, current));
      }
    });
    return control;
  }

  function optionOf(option, current) {
    const value = String(option.value);
    return element("option", { value: value, text: option.label, selected: value === String(current) });
  }

  function checks(id, label, options, chosen) {
    const box = element("fieldset", { class: "sb-checks", id: id }, [element("legend", { text: label })]);
    options.forEach((option, index) => {
      const input = element("input", {
        type: "checkbox", id: id + "-" + index, value: option.value,
        checked: chosen.includes(option.value),
      });
      box.appendChild(element("label", { for: input.id }, [input, element("span", { text: option.label })]));
    });
    return box;
  }

  function checked(box) {
    return Array.from(box.querySelectorAll("input:checked")).map((input) => input.value);
  }

  function word(text) {
    return element("span", { class: "sb-word", text: text });
  }

  function numberOrNull(text, whole) {
    if (text.trim() === "") return null;
    const number = Number(text);
    if (!Number.isFinite(number)) return text;
    return whole && Number.isInteger(number) ? number : whole ? text : number;
  }

  // --- The builder ----------------------------------------------------------------------

  function Builder(panel, textarea, catalogue, ownSegment) {
    const root = panel.querySelector(".segment-builder-root");
    const problem = panel.querySelector(".segment-builder-problem");
    let tree = group("all");
    let writing = false;
    let ruleNumber = 0;
    let groupNumber = 0;

    function load() {
      let json;
      try {
        json = JSON.parse(textarea.value || '{"all": []}');
      } catch (error) {
        say("The JSON below is not valid, so the builder shows nothing yet: " + error.message);
        return false;
      }
      // A new segment's form holds no rules yet (null): that is every contact, {"all": []}.
      const node = json === null ? group("all") : fromJSON(json, catalogue);
      tree = node.type === "group" ? node : group("all", [node]);
      say("");
      return true;
    }

    function say(text) {
      problem.textContent = text;
      problem.hidden = !text;
    }

    function write() {
      writing = true;
      textarea.value = JSON.stringify(toJSON(tree), null, 2);
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
      writing = false;
    }

    // A change to a value: the tree and the JSON change, the controls stay (and keep focus).
    function changed() {
      write();
    }

    // A change of shape: the controls are drawn again, focus returns to the same control.
    function reshaped() {
      const focused = document.activeElement && root.contains(document.activeElement)
        ? document.activeElement.id : null;
      render();
      write();
      const again = focused && document.getElementById(focused);
      if (again) again.focus();
    }

    function render() {
      ruleNumber = 0;
      groupNumber = 0;
      root.replaceChildren(groupView(tree, null));
    }

    function groupView(node, parent) {
      const n = ++groupNumber;
      const name = n === 1 ? "All rules" : "Group " + n;
      const mode = select("sb-" + node.id + "-mode", name + ": match", MODES.map(([v, l]) => ({ value: v, label: l })), node.mode);
      mode.addEventListener("change", () => { node.mode = mode.value; changed(); });
      const head = element("div", { class: "sb-group-head" }, [mode]);
      if (parent) head.appendChild(removeButton(node, parent, name));
      const box = element("div", { class: "sb-group", role: "group", "aria-label": name }, [head]);
      node.children.forEach((child) => {
        box.appendChild(child.type === "group" ? groupView(child, node) : ruleView(child, node));
      });
      if (!node.children.length) {
        const empty = node.mode === "any" ? "Add a rule: “any of” needs at least one." : "No rules yet: every contact matches.";
        box.appendChild(element("p", { class: "help", text: empty }));
      }
      box.appendChild(actionsView(node, name));
      return box;
    }

    function actionsView(node, name) {
      const addRule = element("button", { type: "button", class: "button", id: "sb-" + node.id + "-add-rule", text: "+ Rule", "aria-label": name + ": add a rule" });
      addRule.addEventListener("click", () => {
        node.children.push(newRule(catalogue, catalogue.fields[0].kind + ":" + catalogue.fields[0].key));
        reshaped();
        focusLast(node, "what");
      });
      const addGroup = element("button", { type: "button", class: "button", id: "sb-" + node.id + "-add-group", text: "+ Group", "aria-label": name + ": add a group" });
      addGroup.addEventListener("click", () => {
        const inner = group(node.mode === "any" ? "all" : "any");
        node.children.push(inner);
        reshaped();
        const mode = document.getElementById("sb-" + inner.id + "-mode");
        if (mode) mode.focus();
      });
      return element("div", { class: "sb-actions" }, [addRule, addGroup]);
    }

    function focusLast(node, part) {
      const last = node.children[node.children.length - 1];
      const control = last && document.getElementById("sb-" + last.id + "-" + part);
      if (control) control.focus();
    }

    function removeButton(node, parent, name) {
      const button = element("button", { type: "button", class: "button sb-remove", id: "sb-" + node.id + "-remove", text: "Remove", "aria-label": "Remove " + name.toLowerCase() });
      button.addEventListener("click", () => {
        const at = parent.children.indexOf(node);
        parent.children.splice(at, 1);
        reshaped();
        const next = parent.children[Math.min(at, parent.children.length - 1)];
        const target = next ? document.getElementById("sb-" + next.id + (next.type === "group" ? "-mode" : "-what"))
          : document.getElementById("sb-" + parent.id + "-add-rule");
        if (target) target.focus();
      });
      return button;
    }

    function whatOptions() {
      const groups = [];
      catalogue.fields.forEach((field) => {
        let bucket = groups.find((each) => each.group === field.group);
        if (!bucket) groups.push((bucket = { group: field.group, options: [] }));
        bucket.options.push({ value: field.kind + ":" + field.key, label: field.label });
      });
      const more = [
        { value: "event", label: "Did (or did not do) an event" },
        { value: "opportunity", label: "Has an opportunity" },
      ];
      if (catalogue.consent) more.push({ value: "consent", label: "Consent" });
      more.push({ value: "segment", label: "Is in another segment" });
      more.push({ value: "json", label: "Rule written as JSON" });
      return [...groups, { group: "Behaviour, deals, consent", options: more }];
    }

    function ruleView(node, parent) {
      const name = "Rule " + ++ruleNumber;
      const current = node.kind === "field" ? node.field : node.kind;
      const what = select("sb-" + node.id + "-what", name + ": what", whatOptions(), current);
      what.addEventListener("change", () => {
        const fresh = newRule(catalogue, what.value);
        fresh.id = node.id;
        Object.keys(node).forEach((key) => delete node[key]);
        Object.assign(node, fresh);
        reshaped();
      });
      const row = element("div", { class: "sb-rule", role: "group", "aria-label": name }, [what]);
      ruleControls[node.kind](node, name, "sb-" + node.id).forEach((control) => row.appendChild(control));
      row.appendChild(removeButton(node, parent, name));
      return row;
    }

    const ruleControls = {
      field(node, name, id) {
        const [kind, key] = splitField(node.field);
        const field = fieldOf(catalogue, kind, key);
        const op = select(id + "-op", name + ": operator", field.ops, node.op);
        op.addEventListener("change", () => {
          const keep = LIST_OPS.includes(op.value) === LIST_OPS.includes(node.op) &&
            DAY_OPS.includes(op.value) === DAY_OPS.includes(node.op) && !NO_VALUE.includes(node.op);
          node.op = op.value;
          if (!keep) node.value = defaultValue(field, node.op);
          reshaped();
        });
        if (NO_VALUE.includes(node.op)) return [op];
        return [op, valueControl(node, field, name + ": value", id + "-value")];
      },
      event(node, name, id) {
        const occurred = select(id + "-occurred", name + ": did or did not", [
          { value: "true", label: "did" }, { value: "false", label: "did not do" },
        ], String(node.occurred));
        occurred.addEventListener("change", () => { node.occurred = occurred.value === "true"; changed(); });
        const listId = id + "-types";
        const type = element("input", { id: id + "-event", "aria-label": name + ": event type", list: listId, value: node.event || "", placeholder: "event type, e.g. pricing_view", autocomplete: "off" });
        const list = element("datalist", { id: listId }, catalogue.events.map((each) => element("option", { value: each.value, text: each.label })));
        type.addEventListener("input", () => { node.event = type.value.trim(); changed(); });
        const count = element("input", { type: "number", min: "1", step: "1", id: id + "-min-count", "aria-label": name + ": at least how many times", value: node.min_count ?? "", placeholder: "1" });
        count.addEventListener("input", () => { node.min_count = numberOrNull(count.value, true) ?? undefined; changed(); });
        const days = element("input", { type: "number", min: "1", step: "1", id: id + "-within-days", "aria-label": name + ": within the last how many days (empty: ever)", value: node.within_days ?? "", placeholder: "ever" });
        days.addEventListener("input", () => { node.within_days = numberOrNull(days.value, true) ?? undefined; changed(); });
        const parts = [occurred, type, list, word("at least"), count, word("times, in the last"), days, word("days")];
        return [...parts, ...propertyControls(node, name, id)];
      },
      opportunity(node, name, id) {
        const exists = select(id + "-exists", name + ": has or has none", [
          { value: "true", label: "has one" }, { value: "false", label: "has none" },
        ], String(node.exists));
        exists.addEventListener("change", () => { node.exists = exists.value === "true"; changed(); });
        const pipelines = catalogue.opportunity.pipelines;
        const pipeline = select(id + "-pipeline", name + ": pipeline", [{ value: "", label: "in any pipeline" }, ...pipelines.map((p) => ({ value: p.key, label: "in " + p.label }))], node.pipeline);
        pipeline.addEventListener("change", () => { node.pipeline = pipeline.value; node.stage = []; reshaped(); });
        const stages = stageOptions(node.pipeline);
        const stage = checks(id + "-stage", name + ": stage", stages, node.stage);
        stage.addEventListener("change", () => { node.stage = checked(stage); changed(); });
        const meaning = checks(id + "-meaning", name + ": stage meaning", catalogue.opportunity.meanings, node.meaning);
        meaning.addEventListener("change", () => { node.meaning = checked(meaning); changed(); });
        return [exists, pipeline, word("at stage"), stage, word("that is"), meaning];
      },
      consent(node, name, id) {
        const c = catalogue.consent;
        const channel = select(id + "-channel", name + ": channel", c.channels, node.channel);
        channel.addEventListener("change", () => { node.channel = channel.value; changed(); });
        const purpose = select(id + "-purpose", name + ": purpose", c.purposes, node.purpose);
        purpose.addEventListener("change", () => { node.purpose = purpose.value; changed(); });
        const status = checks(id + "-status", name + ": consent status", c.statuses, node.status);
        status.addEventListener("change", () => { node.status = checked(status); changed(); });
        return [channel, purpose, word("is"), status];
      },
      segment(node, name, id) {
        const others = catalogue.segments.filter((each) => each.id !== ownSegment);
        const options = others.map((each) => ({ value: each.id, label: each.name }));
        if (!options.length) return [word("There is no other segment yet.")];
        const chosen = select(id + "-segment", name + ": segment", options, node.segment);
        chosen.addEventListener("change", () => { node.segment = Number(chosen.value); changed(); });
        return [chosen];
      },
      json(node, name, id) {
        const area = element("textarea", { id: id + "-json", class: "sb-json-rule", rows: "3", "aria-label": name + ": rule as JSON", spellcheck: "false" });
        area.value = JSON.stringify(node.json);
        area.addEventListener("input", () => {
          try {
            node.json = JSON.parse(area.value);
            say("");
            changed();
          } catch (error) {
            say(name + " is not valid JSON yet: " + error.message);
          }
        });
        return [area];
      },
    };

    // One property to match (e.g. plan = pro); more than one stays as it was written.
    function propertyControls(node, name, id) {
      const entries = Object.entries(node.properties || {});
      if (entries.length > 1) return [word("with properties " + JSON.stringify(node.properties))];
      const [shownKey, shownValue] = entries[0] || ["", ""];
      const key = element("input", { id: id + "-property", "aria-label": name + ": with the property (optional)", value: shownKey, placeholder: "property, e.g. plan", autocomplete: "off" });
      const value = element("input", { id: id + "-property-value", "aria-label": name + ": property value", value: String(shownValue), placeholder: "value", autocomplete: "off" });
      const numeric = typeof shownValue === "number";
      function update() {
        const name = key.value.trim();
        const text = value.value;
        if (!name) delete node.properties;
        else node.properties = { [name]: numeric && text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text };
        changed();
      }
      key.addEventListener("input", update);
      value.addEventListener("input", update);
      return [word("with"), key, word("="), value];
    }

    function stageOptions(pipelineKey) {
      const pipelines = catalogue.opportunity.pipelines.filter((p) => !pipelineKey || p.key === pipelineKey);
      const seen = new Map();
      pipelines.forEach((p) => p.stages.forEach((s) => { if (!seen.has(s.value)) seen.set(s.value, s); }));
      return Array.from(seen.values());
    }

    function valueControl(node, field, label, id) {
      const list = LIST_OPS.includes(node.op);
      if (field.choices && list) {
        const box = checks(id, label, field.choices, Array.isArray(node.value) ? node.value : []);
        box.addEventListener("change", () => { node.value = checked(box); changed(); });
        return box;
      }
      if (field.choices) {
        const one = select(id, label, field.choices, node.value);
        one.addEventListener("change", () => { node.value = one.value; changed(); });
        return one;
      }
      if (field.type === "boolean") {
        const yes = select(id, label, [{ value: "true", label: "yes" }, { value: "false", label: "no" }], String(node.value));
        yes.addEventListener("change", () => { node.value = yes.value === "true"; changed(); });
        return yes;
      }
      return inputControl(node, field, label, id, list);
    }

    function inputControl(node, field, label, id, list) {
      const days = DAY_OPS.includes(node.op);
      const numeric = days || field.type === "number" || (field.type === "reference" && !list);
      let type = numeric ? "number" : "text";
      if (!days && field.type === "date") type = "date";
      if (!days && field.type === "datetime") type = "datetime-local";
      const shown = type === "datetime-local" ? localTime(node.value) : list ? (node.value || []).join(", ") : node.value ?? "";
      const input = element("input", { type: type, id: id, "aria-label": label + (days ? " (days)" : list ? " (separate with commas)" : ""), value: shown, step: numeric && !days && field.type === "number" ? "any" : numeric ? "1" : undefined });
      input.addEventListener("input", () => {
        node.value = readInput(input.value, type, field, list, days);
        changed();
      });
      return days ? element("span", {}, [input, word(" days")]) : input;
    }

    function readInput(text, type, field, list, days) {
      if (list) {
        const items = text.split(",").map((item) => item.trim()).filter(Boolean);
        return field.type === "reference" ? items.map((item) => numberOrNull(item, true)) : items;
      }
      if (type === "number") return numberOrNull(text, days || field.type === "reference");
      if (type === "datetime-local") return text ? new Date(text).toISOString().replace(".000Z", "Z") : "";
      return text;
    }

    function localTime(value) {
      const moment = value ? new Date(value) : null;
      if (!moment || isNaN(moment)) return "";
      const local = new Date(moment.getTime() - moment.getTimezoneOffset() * 60000);
      return local.toISOString().slice(0, 16);
    }

    // A power user's edit of the JSON redraws the builder when it parses.
    textarea.addEventListener("input", () => {
      if (writing) return;
      if (load()) render();
    });

    if (load()) render();
  }

  function place(panel, textarea) {
    const row = textarea.closest(".form-row") || textarea.parentElement;
    const fieldset = row.closest("fieldset");
    const details = element("details", { class: "module sb-json", id: "segment-rules-json" }, [
      element("summary", { text: "Rules as JSON (the stored form, for power users)" }),
    ]);
    details.open = row.querySelector(".errorlist") !== null;
    fieldset.after(panel);
    panel.after(details);
    details.appendChild(row);
    panel.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const panel = document.getElementById("segment-builder");
    const textarea = document.getElementById("id_rules");
    if (!panel || !textarea) return;
    try {
      const response = await fetch(panel.dataset.catalogueUrl, { credentials: "same-origin" });
      if (!response.ok) throw new Error("the server answered " + response.status);
      const catalogue = await response.json();
      place(panel, textarea);
      const preview = document.getElementById("segment-preview");
      const own = preview && preview.dataset.segment ? Number(preview.dataset.segment) : null;
      Builder(panel, textarea, catalogue, own);
    } catch (error) {
      // Without the catalogue the JSON stays editable as before.
      panel.hidden = true;
    }
  });
})();
