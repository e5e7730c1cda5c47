// Shows each step only the settings of its kind (without this script, all are shown): the
// fieldsets of its kind, and in a fieldset kinds share, only the fields its kind uses (a
// text step offers no email template). Which fields those are comes from the kinds' specs.
(function () {
  "use strict";

  var owned = null;  // {kind: [field name, ...]}

  function kindFields() {
    if (owned) return owned;
    var source = document.getElementById("cue-builder-checks");
    var kinds = source ? JSON.parse(source.textContent).kinds : {};
    owned = {};
    Object.keys(kinds).forEach(function (kind) { owned[kind] = kinds[kind].fields || null; });
    return owned;
  }

  // The field a form row (or a box of a row of two) holds, from its "field-<name>" class
  // (none for a row of two: its boxes are shown or hidden each).
  function fieldName(element) {
    var found = Array.prototype.filter.call(element.classList, function (name) {
      return name.indexOf("field-") === 0;
    });
    return found.length === 1 ? found[0].slice("field-".length) : null;
  }

  function sync(step) {
    const kind = step.querySelector("select[name$='-kind']");
    if (!kind) return;
    var fields = kind.value ? kindFields()[kind.value] : null;
    step.querySelectorAll("fieldset.cue-kind").forEach(function (fieldset) {
      fieldset.hidden = !!kind.value && !fieldset.classList.contains("cue-kind-" + kind.value);
      fieldset.querySelectorAll(".form-row, .fieldBox").forEach(function (element) {
        var name = fieldName(element);
        if (name) element.hidden = !!fields && fields.indexOf(name) < 0;
      });
    });
  }

  function steps() {
    return document.querySelectorAll(".inline-related");
  }

  document.addEventListener("DOMContentLoaded", function () {
    steps().forEach(sync);
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("select[name$='-kind']")) {
        sync(event.target.closest(".inline-related"));
      }
    });
    document.addEventListener("formset:added", function (event) {
      sync(event.target);
    });
  });
})();
