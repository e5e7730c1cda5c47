// Shows each step only the settings of its kind (without this script, all are shown).
(function () {
  "use strict";

  function sync(step) {
    const kind = step.querySelector("select[name$='-kind']");
    if (!kind) return;
    step.querySelectorAll("fieldset.cue-kind").forEach(function (fieldset) {
      fieldset.hidden = !!kind.value && !fieldset.classList.contains("cue-kind-" + kind.value);
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
