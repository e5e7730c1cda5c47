// A split step's variants as rows to edit (label, percent, the step it leads to) instead of
// lines of text: add one, change one, remove one, and see the total. The rows write the
// step's variants field ("A, 50, offer_a" per line), which is what is posted and what the
// live checks and the diagram read; the server refuses a split that does not add up to 100.
(function () {
  "use strict";

  var LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

  function make(tag, attributes, text) {
    var element = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      element.setAttribute(name, attributes[name]);
    });
    if (text) element.textContent = text;
    return element;
  }

  function parse(text) {
    return text.split("\n").map(function (line) { return line.trim(); })
      .filter(Boolean)
      .map(function (line) {
        var parts = (line.indexOf(",") >= 0 ? line.split(",") : line.split(/\s+/))
          .map(function (part) { return part.trim(); });
        return { name: parts[0] || "", percent: parts[1] || "", next: parts[2] || "" };
      });
  }

  // The keys of the steps on the page (not deleted, not the template form).
  function stepKeys() {
    var keys = [];
    document.querySelectorAll(".inline-related:not(.empty-form)").forEach(function (form) {
      var key = form.querySelector("input[name$='-key']");
      var deleted = form.querySelector("input[name$='-DELETE']");
      if (key && key.value.trim() && !(deleted && deleted.checked)) keys.push(key.value.trim());
    });
    return keys;
  }

  function fillTargets(select, chosen) {
    var keys = stepKeys();
    var options = [make("option", { value: "" }, "— the journey ends —")];
    keys.forEach(function (key) { options.push(make("option", { value: key }, key)); });
    if (chosen && keys.indexOf(chosen) < 0) {
      options.push(make("option", { value: chosen }, chosen + " (no such step)"));
    }
    select.replaceChildren.apply(select, options);
    select.value = chosen;
  }

  function rowsOf(editor) {
    return Array.prototype.slice.call(editor.querySelectorAll("tbody tr"));
  }

  // Writes the rows into the variants field, and says the total (quiet: on building, when
  // nothing was edited).
  function write(editor, field, quiet) {
    var total = 0;
    field.value = rowsOf(editor).map(function (row) {
      var name = row.querySelector(".cue-variant-name").value.replace(/[,\s]+/g, "_");
      var percent = row.querySelector(".cue-variant-percent").value.trim();
      var next = row.querySelector(".cue-variant-next").value;
      total += parseInt(percent, 10) || 0;
      return [name, percent].concat(next ? [next] : []).join(", ");
    }).join("\n");
    var said = editor.querySelector(".cue-variant-total");
    said.textContent = "Total: " + total + "%" + (total === 100 ? "" : " (must be 100)");
    said.classList.toggle("cue-live-bad", total !== 100);
    if (!quiet) field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function freeName(editor) {
    var taken = rowsOf(editor).map(function (row) {
      return row.querySelector(".cue-variant-name").value;
    });
    for (var i = 0; i < LETTERS.length; i += 1) {
      if (taken.indexOf(LETTERS[i]) < 0) return LETTERS[i];
    }
    return "V" + (taken.length + 1);
  }

  function addRow(editor, field, variant) {
    var body = editor.querySelector("tbody");
    var number = body.children.length + 1;
    var row = make("tr", { class: "cue-variant" });
    var name = make("input", { type: "text", class: "cue-variant-name", maxlength: "32",
      "aria-label": "Variant " + number + " label" });
    name.value = variant.name;
    var percent = make("input", { type: "number", class: "cue-variant-percent", min: "0",
      max: "100", step: "1", "aria-label": "Variant " + number + " percent" });
    percent.value = variant.percent;
    var next = make("select", { class: "cue-variant-next",
      "aria-label": "Variant " + number + " then goes to" });
    fillTargets(next, variant.next);
    var remove = make("button", { type: "button", class: "button cue-variant-remove",
      "aria-label": "Remove variant " + number }, "Remove");
    remove.addEventListener("click", function () {
      row.remove();
      write(editor, field);
    });
    [name, percent, next, remove].forEach(function (control) {
      var cell = make("td");
      cell.appendChild(control);
      row.appendChild(cell);
    });
    body.appendChild(row);
    return row;
  }

  function build(field) {
    if (field.dataset.cueEditor) return;
    field.dataset.cueEditor = "1";
    var editor = make("div", { class: "cue-variants", role: "group", "aria-label": "Variants" });
    var table = make("table");
    var head = make("tr");
    ["Label", "Percent", "Then go to", ""].forEach(function (title) {
      head.appendChild(make("th", { scope: "col" }, title));
    });
    table.appendChild(make("thead")).appendChild(head);
    table.appendChild(make("tbody"));
    var add = make("button", { type: "button", class: "button cue-variant-add" }, "Add a variant");
    editor.append(table, add, make("p", { class: "cue-variant-total", "aria-live": "polite" }));
    field.parentNode.insertBefore(editor, field.nextSibling);
    field.hidden = true;  // still posted: the rows write it
    parse(field.value).forEach(function (variant) { addRow(editor, field, variant); });
    editor.addEventListener("input", function (event) {
      if (event.target !== field) write(editor, field);
    });
    editor.addEventListener("change", function (event) {
      if (event.target.matches(".cue-variant-next")) write(editor, field);
    });
    add.addEventListener("click", function () {
      var given = rowsOf(editor).reduce(function (sum, row) {
        return sum + (parseInt(row.querySelector(".cue-variant-percent").value, 10) || 0);
      }, 0);
      var row = addRow(editor, field, {
        name: freeName(editor), percent: String(Math.max(100 - given, 0)), next: "" });
      write(editor, field);
      row.querySelector(".cue-variant-name").focus();
    });
    write(editor, field, true);
  }

  // The steps' keys change as the author edits: every picker offers the current ones.
  function refreshTargets() {
    document.querySelectorAll(".cue-variant-next").forEach(function (select) {
      fillTargets(select, select.value);
    });
  }

  function buildAll() {
    document.querySelectorAll(".inline-related:not(.empty-form) textarea[name$='-variants']")
      .forEach(build);
  }

  document.addEventListener("DOMContentLoaded", function () {
    buildAll();
    document.addEventListener("formset:added", buildAll);
    document.addEventListener("change", function (event) {
      if (!event.target.closest || !event.target.closest(".cue-variants")) refreshTargets();
    });
  });
})();
