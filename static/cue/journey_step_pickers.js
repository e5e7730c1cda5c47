// Step keys are picked, not typed: a new step gets a key from its kind when the kind is
// chosen ("sms_1", "wait_1"), and beside every field that names a step (where an edge
// leads, the step whose message a branch asks about) a list offers the steps on the page.
// Choosing one writes its key into the field, which stays editable.
(function () {
  "use strict";

  function kinds() {
    var source = document.getElementById("cue-builder-checks");
    return source ? JSON.parse(source.textContent).kinds : {};
  }

  function forms() {
    return Array.prototype.filter.call(
      document.querySelectorAll(".inline-related:not(.empty-form)"),
      function (form) { return !form.id.endsWith("-empty"); }
    );
  }

  function keyOf(form) {
    var input = form.querySelector("input[name$='-key']");
    return input ? input.value.trim() : "";
  }

  function stepKeys() {
    return forms().filter(function (form) {
      var deleted = form.querySelector("input[name$='-DELETE']");
      return keyOf(form) && !(deleted && deleted.checked);
    }).map(keyOf);
  }

  // The names of the fields that hold a step's key, every kind's.
  function keyFieldNames() {
    var names = new Set();
    var all = kinds();
    Object.keys(all).forEach(function (kind) {
      Object.keys(all[kind].edges).forEach(function (name) { names.add(name); });
    });
    return names;
  }

  function keyFields(form) {
    var names = keyFieldNames();
    return Array.prototype.filter.call(form.querySelectorAll("input[type=text]"), function (input) {
      var name = input.name.replace(/^steps-\d+-/, "");
      return names.has(name) || input.classList.contains("cue-step-pick");
    });
  }

  function label(input) {
    var found = document.querySelector("label[for='" + input.id + "']");
    return found ? found.textContent.replace(/:$/, "").trim() : input.name;
  }

  function fillPicker(picker, input, own) {
    var current = input.value.trim();
    var first = document.createElement("option");
    first.value = "";
    first.textContent = "— pick a step —";
    var options = [first].concat(stepKeys().filter(function (key) {
      return key !== own;
    }).map(function (key) {
      var option = document.createElement("option");
      option.value = key;
      option.textContent = key;
      return option;
    }));
    picker.replaceChildren.apply(picker, options);
    picker.value = options.some(function (o) { return o.value === current; }) ? current : "";
  }

  function pickerFor(input, form) {
    var picker = input.parentNode.querySelector("select.cue-key-pick[data-for='" + input.id + "']");
    if (!picker) {
      picker = document.createElement("select");
      picker.className = "cue-key-pick";
      picker.dataset.for = input.id;
      picker.setAttribute("aria-label", "Pick the step for “" + label(input) + "”");
      picker.addEventListener("change", function () {
        input.value = picker.value;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
      input.parentNode.insertBefore(picker, input.nextSibling);
    }
    fillPicker(picker, input, keyOf(form));
  }

  function refresh() {
    forms().forEach(function (form) {
      keyFields(form).forEach(function (input) { pickerFor(input, form); });
    });
  }

  // A key from the kind: "sms_1" for a text, "wait_2" for the second wait.
  function keyFor(kind) {
    var stem = kind.replace(/^send_/, "");
    var taken = new Set(stepKeys());
    var n = 1;
    while (taken.has(stem + "_" + n)) n += 1;
    return stem + "_" + n;
  }

  function kindChosen(select) {
    var form = select.closest(".inline-related");
    var key = form && form.querySelector("input[name$='-key']");
    if (key && !key.value.trim() && select.value) {
      key.value = keyFor(select.value);
      key.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  var pending = null;
  function later() {
    clearTimeout(pending);
    pending = setTimeout(refresh, 100);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.getElementById("cue-builder-checks")) return;
    refresh();
    document.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches && target.matches("select[name$='-kind']")) kindChosen(target);
      if (!(target.matches && target.matches("select.cue-key-pick"))) later();
    });
    document.addEventListener("formset:added", later);
    document.addEventListener("formset:removed", later);
  });
})();
