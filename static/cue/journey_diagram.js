// The diagram leads to the steps: a box (clicked, or focused and Enter pressed) shows its
// full text under the diagram and opens that step's settings, scrolled into view and
// focused, so the diagram is reachable and usable from the keyboard.
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

  function open(box) {
    detail(box);
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

  document.addEventListener("DOMContentLoaded", function () {
    var diagram = document.getElementById("cue-diagram");
    if (!diagram) return;
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
