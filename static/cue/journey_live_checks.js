// The builder's live checks: as the author edits the steps, each step shows its problems
// (an edge to no step, a loop without a wait, a template with no approved version, a split
// whose percentages do not add up to 100) and its box in the diagram is marked. What each
// kind's edges and fields are comes from the server (#cue-builder-checks, read from the
// kinds' specs); the server checks again on save and on activation. A split's variants
// are judged by the server's one rule, whose answer comes with each redrawn diagram.
(function () {
  "use strict";

  var data = null;
  var variantProblems = {};  // {step key: [problem]}: the server's, with the last drawing

  function field(step, name) {
    return step.querySelector("[name$='-" + name + "']");
  }

  function value(step, name) {
    var input = field(step, name);
    return input ? input.value.trim() : "";
  }

  function steps() {
    return Array.prototype.filter.call(
      document.querySelectorAll(".inline-related"),
      function (step) {
        var kind = field(step, "kind");
        var deleted = field(step, "DELETE");
        var key = field(step, "key");
        return kind && key && !(deleted && deleted.checked) && !step.id.endsWith("-empty");
      }
    );
  }

  function variants(text) {
    return text.split("\n").map(function (line) { return line.trim(); })
      .filter(Boolean)
      .map(function (line) {
        var parts = (line.indexOf(",") >= 0 ? line.split(",") : line.split(/\s+/))
          .map(function (part) { return part.trim(); });
        return { name: parts[0], next: parts[2] || "" };
      });
  }

  // [{key, kind, edges: [[label, target]], el}] for the steps on the page.
  function graph() {
    return steps().map(function (step) {
      var kind = value(step, "kind");
      var spec = data.kinds[kind] || { edges: {}, variants: "" };
      var edges = Object.keys(spec.edges).map(function (name) {
        return [spec.edges[name], value(step, name)];
      });
      if (spec.variants) {
        variants(value(step, spec.variants)).forEach(function (v) {
          edges.push([v.name, v.next]);
        });
      }
      return { key: value(step, "key"), kind: kind, edges: edges, el: step };
    }).filter(function (node) { return node.key && node.kind; });
  }

  function ownProblems(node, keys) {
    var spec = data.kinds[node.kind];
    var problems = [];
    node.edges.forEach(function (edge) {
      if (edge[1] && !keys.has(edge[1])) {
        problems.push('its "' + edge[0] + '" leads to \'' + edge[1] +
          "', which is not a step of this journey.");
      }
    });
    if (spec.variants) {
      problems = problems.concat(variantProblems[node.key] || []);
    }
    if (spec.template) {
      var select = field(node.el, spec.template);
      var chosen = select ? select.value : "";
      if (!chosen) problems.push("choose a template.");
      else if (data.approved_templates.indexOf(parseInt(chosen, 10)) < 0) {
        var label = select.options[select.selectedIndex].text.replace(/ \(not approved\)$/, "");
        problems.push(label + " has no approved version yet.");
      }
    }
    return problems;
  }

  // Each loop through steps that do not wait, as the list of its keys.
  function loops(nodes) {
    var instant = new Map();
    nodes.forEach(function (node) {
      if (!data.kinds[node.kind].waits) instant.set(node.key, node);
    });
    var state = new Map();
    var found = [];
    function visit(key, path) {
      state.set(key, "open");
      instant.get(key).edges.forEach(function (edge) {
        var target = edge[1];
        if (!instant.has(target)) return;
        if (state.get(target) === "open") {
          found.push(path.slice(path.indexOf(target)).concat([target]));
        } else if (!state.has(target)) {
          visit(target, path.concat([target]));
        }
      });
      state.set(key, "done");
    }
    instant.forEach(function (node, key) { if (!state.has(key)) visit(key, [key]); });
    return found;
  }

  function show(node, problems) {
    var list = node.el.querySelector("ul.cue-live-problems");
    if (!list) {
      list = document.createElement("ul");
      list.className = "errorlist cue-live-problems";
      list.setAttribute("aria-live", "polite");
      var heading = node.el.querySelector("h3");
      heading.parentNode.insertBefore(list, heading.nextSibling);
    }
    list.replaceChildren.apply(list, problems.map(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      return item;
    }));
    list.hidden = problems.length === 0;
    node.el.classList.toggle("cue-step-has-problems", problems.length > 0);
    document.querySelectorAll("#cue-diagram g.cue-step").forEach(function (box) {
      if (box.dataset.key === node.key) {
        box.classList.toggle("cue-step-problem", problems.length > 0);
      }
    });
  }

  // Under each template picker, the approved text it would send.
  function previews() {
    document.querySelectorAll(".inline-related select[name$='_template']").forEach(function (select) {
      var shown = select.parentNode.querySelector("pre.cue-template-preview");
      if (!shown) {
        shown = document.createElement("pre");
        shown.className = "cue-preview cue-template-preview";
        select.parentNode.appendChild(shown);
      }
      shown.textContent = data.previews[select.value] || "";
      shown.hidden = !shown.textContent;
    });
  }

  function check() {
    previews();
    var nodes = graph();
    var keys = new Set(nodes.map(function (node) { return node.key; }));
    var byKey = new Map();
    nodes.forEach(function (node) { byKey.set(node.key, ownProblems(node, keys)); });
    loops(nodes).forEach(function (loop) {
      var text = "Steps " + loop.join(" → ") + " loop without a wait.";
      new Set(loop).forEach(function (key) { byKey.get(key).push(text); });
    });
    var total = 0;
    nodes.forEach(function (node) {
      var problems = byKey.get(node.key);
      total += problems.length;
      show(node, problems);
    });
    var summary = document.getElementById("cue-live-summary");
    if (summary) {
      summary.textContent = total
        ? total + " problem" + (total === 1 ? "" : "s") + " in the steps as they stand (shown on each step)."
        : "The steps as they stand hold together.";
      summary.classList.toggle("cue-live-bad", total > 0);
    }
  }

  var pending = null;
  function later() {
    clearTimeout(pending);
    pending = setTimeout(check, 150);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("cue-builder-checks");
    if (!source) return;
    data = JSON.parse(source.textContent);
    check();
    document.addEventListener("input", later);
    document.addEventListener("change", later);
    document.addEventListener("formset:added", later);
    document.addEventListener("formset:removed", later);
    document.addEventListener("cue:diagram-redrawn", function (event) {
      if (event.detail && event.detail.variant_problems) {
        variantProblems = event.detail.variant_problems;
      }
      check();  // and new boxes to mark
    });
  });
})();
