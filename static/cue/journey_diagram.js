// The diagram leads to the steps: a box (clicked, or focused and Enter pressed) shows its
// full text under the diagram and opens that step's settings, scrolled into view and
// focused, so the diagram is reachable and usable from the keyboard. "Add a step after it"
// adds a step on the opened step's edge (between it and what followed); "Delete it…" asks,
// then marks the step for deletion. Both take effect on Save, like every other edit.
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

  // The opened step's edges, to choose the one Connect, Disconnect and Add work on.
  function edgeChoices(form) {
    var choice = document.getElementById("cue-edge-choice");
    var kind = kinds()[input(form, "kind").value] || { edges: {} };
    var was = choice.value;
    choice.replaceChildren.apply(choice, Object.keys(kind.edges).map(function (name) {
      var option = document.createElement("option");
      option.value = name;
      option.textContent = kind.edges[name] + " → " + (input(form, name).value.trim() || "the end");
      return option;
    }));
    if (was && kind.edges[was]) choice.value = was;
  }

  function connectTo(box) {
    var form = stepForm(selected);
    var edge = form && edgeOf(form);
    connecting = false;
    if (!edge) return;
    edge.value = box.dataset.key;
    edgeChoices(form);
    document.getElementById("cue-diagram-detail").textContent =
      selected + " now leads to " + box.dataset.key + " (saved when you save).";
    document.dispatchEvent(new Event("change"));
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

  // The edge of the opened step the new step goes on: its "Then go to", else its first
  // empty edge (a branch's "otherwise", a wait's timeout), else its first edge.
  function edgeOf(form) {
    var chosen = document.getElementById("cue-edge-choice").value;
    if (chosen && input(form, chosen)) return input(form, chosen);
    var kind = kinds()[input(form, "kind").value] || { edges: {} };
    var names = Object.keys(kind.edges);
    var empty = names.filter(function (name) { return !input(form, name).value.trim(); });
    var name = names.indexOf("next_step") >= 0 ? "next_step" : empty[0] || names[0];
    return name ? input(form, name) : null;
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
      input(added, "next_step").value = edge.value.trim();
      edge.value = key;
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
      edge.value = "";
      edgeChoices(form);
      document.dispatchEvent(new Event("change"));
    });
    var deleteButton = document.getElementById("cue-delete-step");
    if (deleteButton) deleteButton.addEventListener("click", remove);
    diagram.addEventListener("click", function (event) {
      var box = event.target.closest("g.cue-step");
      if (box) open(box);
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
