// The diagram leads to the steps: a box (clicked, or focused and Enter pressed) shows its
// full text under the diagram and opens that step's settings, scrolled into view and
// focused, so the diagram is reachable and usable from the keyboard. "Add a step after it"
// adds a step on the opened step's edge (between it and what followed); "Delete it…" asks,
// then marks the step for deletion. Both take effect on Save, like every other edit.
// A split's variants are edges like the others: each is offered under "Its edge", and
// Connect, Disconnect and Add work on its row's "then go to" (the rows write the variants).
// Clicking an edge's label in the diagram opens its step with that edge chosen.
(function () {
  "use strict";

  function stepForm(key) {
    var inputs = document.querySelectorAll(".inline-related input[name$='-key']");
    for (var i = 0; i < inputs.length; i += 1) {
      if (inputs[i].value.trim() === key) return inputs[i].closest(".inline-related");
    }
    return null;
  }

  function detail(box) {
    var shown = document.getElementById("cue-diagram-detail");
    if (shown) shown.textContent = box.getAttribute("aria-label") || box.dataset.key;
  }

  var selected = null;  // the key of the step the diagram last opened
  var connecting = false;  // the next box clicked is where the chosen edge leads

  function kinds() {
    return JSON.parse(document.getElementById("cue-builder-checks").textContent).kinds;
  }

  // The rows of a split's variants (journey_split_editor.js), in the variants' order.
  function variantRows(form) {
    return Array.prototype.slice.call(form.querySelectorAll(".cue-variants tbody tr"));
  }

  function offered(pick, key) {
    return Array.prototype.some.call(pick.options, function (o) { return o.value === key; });
  }

  // Every edge of a step as {value, label, get(), set(key)}: its kind's edge fields, then
  // one per variant of a split. A variant's edge is its row's "then go to" picker: setting
  // it tells the row, which writes the variants field (and so the diagram and the checks).
  function edgesOf(form) {
    var kind = kinds()[input(form, "kind").value] || { edges: {} };
    var found = Object.keys(kind.edges).map(function (name) {
      var field = input(form, name);
      return {
        value: name,
        label: kind.edges[name],
        get: function () { return field.value.trim(); },
        set: function (key) { field.value = key; },
      };
    });
    if (!kind.variants) return found;
    return found.concat(variantRows(form).map(function (row, index) {
      var pick = row.querySelector(".cue-variant-next");
      // As the row writes it into the variants field (and so as the diagram labels it).
      var name = row.querySelector(".cue-variant-name").value.replace(/[,\s]+/g, "_") ||
        "#" + (index + 1);
      return {
        value: "variant-" + index,
        label: name,
        title: "variant " + name,
        get: function () { return pick.value; },
        set: function (key) {
          if (key && !offered(pick, key)) {
            var option = document.createElement("option");
            option.value = option.textContent = key;
            pick.appendChild(option);
          }
          pick.value = key;
          pick.dispatchEvent(new Event("change", { bubbles: true }));
        },
      };
    }));
  }

  // The opened step's edges, to choose the one Connect, Disconnect and Add work on.
  function edgeChoices(form) {
    var choice = document.getElementById("cue-edge-choice");
    var edges = edgesOf(form);
    var was = choice.value;
    choice.replaceChildren.apply(choice, edges.map(function (edge) {
      var option = document.createElement("option");
      option.value = edge.value;
      option.textContent = (edge.title || edge.label) + " → " + (edge.get() || "the end");
      return option;
    }));
    if (edges.some(function (edge) { return edge.value === was; })) choice.value = was;
  }

  function connectTo(box) {
    var form = stepForm(selected);
    var edge = form && edgeOf(form);
    connecting = false;
    if (!edge) return;
    edge.set(box.dataset.key);
    edgeChoices(form);
    document.getElementById("cue-diagram-detail").textContent =
      selected + " now leads to " + box.dataset.key + " along " + (edge.title || edge.label) +
      " (saved when you save).";
    document.dispatchEvent(new Event("change"));
  }

  // A click on an edge (its label or line) opens the step it leaves, that edge chosen.
  function openEdge(line) {
    var box = Array.prototype.find.call(
      document.querySelectorAll("#cue-diagram g.cue-step"),
      function (g) { return g.dataset.key === line.dataset.from; }
    );
    if (!box) return;
    connecting = false;
    open(box);
    var form = stepForm(line.dataset.from);
    var leading = form ? edgesOf(form).filter(function (one) {
      return one.get() === line.dataset.to;
    }) : [];
    // By its label; else the one edge to that step (a kind may label an edge otherwise in
    // the diagram, e.g. a wait for an event's "event" is its "next").
    var edge = leading.find(function (one) { return one.label === line.dataset.label; }) ||
      (leading.length === 1 ? leading[0] : null);
    if (edge) document.getElementById("cue-edge-choice").value = edge.value;
  }

  function open(box) {
    if (connecting && selected) {
      connectTo(box);
      return;
    }
    detail(box);
    selected = box.dataset.key;
    var actions = document.getElementById("cue-diagram-actions");
    if (actions) actions.hidden = false;
    var opened = stepForm(selected);
    if (opened) edgeChoices(opened);
    var form = stepForm(box.dataset.key);
    if (!form) return;
    document.querySelectorAll(".inline-related.cue-step-open").forEach(function (other) {
      other.classList.remove("cue-step-open");
    });
    form.classList.add("cue-step-open");
    form.scrollIntoView({ block: "start" });
    var first = form.querySelector("input[name$='-key']");
    if (first) first.focus({ preventScroll: true });
  }

  function input(form, name) {
    return form.querySelector("[name$='-" + name + "']");
  }

  function freeKey() {
    var taken = new Set(Array.prototype.map.call(
      document.querySelectorAll(".inline-related:not(.empty-form) input[name$='-key']"),
      function (field) { return field.value.trim(); }
    ).filter(Boolean));
    var n = taken.size + 1;
    while (taken.has("step_" + n)) n += 1;
    return "step_" + n;
  }

  // The edge of the opened step the new step goes on: the one chosen, else its "Then go
  // to", else its first empty edge (a branch's "otherwise", a wait's timeout, a variant),
  // else its first edge.
  function edgeOf(form) {
    var edges = edgesOf(form);
    var chosen = document.getElementById("cue-edge-choice").value;
    var named = function (value) {
      return edges.find(function (edge) { return edge.value === value; });
    };
    var empty = edges.filter(function (edge) { return !edge.get(); });
    return named(chosen) || named("next_step") || empty[0] || edges[0] || null;
  }

  function allForms() {
    return document.querySelectorAll(".inline-related:not(.empty-form)");
  }

  // The page's spare step form (the admin offers one), untouched: used before adding one.
  function blankForm() {
    return Array.prototype.find.call(allForms(), function (form) {
      return input(form, "key") && !input(form, "key").value.trim() && !input(form, "kind").value;
    }) || null;
  }

  function addAfter() {
    var source = selected && stepForm(selected);
    var add = document.querySelector(".inline-group .add-row a");
    if (!source || !add) return;
    var edge = edgeOf(source);
    var added = blankForm();
    if (!added) {
      add.click();
      added = blankForm();
    }
    var key = freeKey();
    input(added, "key").value = key;
    input(added, "position").value = Array.prototype.indexOf.call(allForms(), added);
    if (edge) {
      input(added, "next_step").value = edge.get();
      edge.set(key);
      edgeChoices(source);
    }
    added.classList.add("cue-step-open");
    added.scrollIntoView({ block: "start" });
    input(added, "kind").focus({ preventScroll: true });
    document.dispatchEvent(new Event("change"));
  }

  function remove() {
    var form = selected && stepForm(selected);
    if (!form) return;
    var sure = window.confirm(
      "Delete the step " + selected + "? It goes when you save; steps leading to it must " +
      "then lead elsewhere."
    );
    if (!sure) return;
    var box = input(form, "DELETE");
    if (box) box.checked = true;
    else form.querySelector(".inline-deletelink").click();
    form.classList.add("cue-step-deleted");
    document.dispatchEvent(new Event("change"));
  }

  document.addEventListener("DOMContentLoaded", function () {
    var diagram = document.getElementById("cue-diagram");
    if (!diagram) return;
    var addButton = document.getElementById("cue-add-after");
    if (addButton) addButton.addEventListener("click", addAfter);
    document.getElementById("cue-connect").addEventListener("click", function () {
      if (!selected) return;
      connecting = true;
      document.getElementById("cue-diagram-detail").textContent =
        "Click the step " + selected + " should lead to (or tab to it and press Enter).";
    });
    document.getElementById("cue-disconnect").addEventListener("click", function () {
      var form = selected && stepForm(selected);
      var edge = form && edgeOf(form);
      if (!edge) return;
      edge.set("");
      edgeChoices(form);
      document.dispatchEvent(new Event("change"));
    });
    var deleteButton = document.getElementById("cue-delete-step");
    if (deleteButton) deleteButton.addEventListener("click", remove);
    diagram.addEventListener("click", function (event) {
      var box = event.target.closest("g.cue-step");
      var line = event.target.closest("g.cue-edge");
      if (box) open(box);
      else if (line) openEdge(line);
    });
    // New rows, renamed variants, edges set in the panel: the choices say them as they are.
    document.addEventListener("cue:diagram-redrawn", function () {
      var form = selected && stepForm(selected);
      if (form) edgeChoices(form);
    });
    diagram.addEventListener("keydown", function (event) {
      var box = event.target.closest("g.cue-step");
      if (box && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        open(box);
      }
    });
    diagram.addEventListener("focusin", function (event) {
      var box = event.target.closest("g.cue-step");
      if (box) detail(box);
    });
  });
})();
