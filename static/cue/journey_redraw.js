// The diagram follows the form: after each edit to the steps (a kind, an edge, a label, a
// template, a step added, removed or connected) the page posts the form as it stands and
// the server draws it as it draws the saved diagram (nothing is saved). Answers that
// arrive out of order are dropped, so the last edit wins. Then the live checks mark the
// new boxes and show each split's problems as the server's rule found them
// ("cue:diagram-redrawn", the answer as its detail).
(function () {
  "use strict";

  var asked = 0;  // the number of the last redraw asked for
  var pending = null;

  function form(diagram) {
    return diagram.closest("form");
  }

  function redraw(diagram) {
    var number = ++asked;
    var body = new FormData(form(diagram));
    fetch(diagram.dataset.redrawUrl, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("The diagram could not be drawn (" + response.status + ").");
        return response.json();
      })
      .then(function (drawn) {
        if (number !== asked) return;  // a later edit's drawing is on its way
        var focused = focusedKey(diagram);
        diagram.innerHTML = drawn.svg;  // drawn by the server, every text escaped
        refocus(diagram, focused);
        diagram.dataset.drawn = String(number);
        document.dispatchEvent(new CustomEvent("cue:diagram-redrawn", { detail: drawn }));
      })
      .catch(function (error) {
        var detail = document.getElementById("cue-diagram-detail");
        if (detail) detail.textContent = error.message + " Save to see it.";
      });
  }

  // A keyboard user on a box stays on it when the diagram is redrawn.
  function focusedKey(diagram) {
    var active = document.activeElement;
    var box = active && diagram.contains(active) ? active.closest("g.cue-step") : null;
    return box ? box.dataset.key : null;
  }

  function refocus(diagram, key) {
    if (key === null) return;
    var box = Array.prototype.find.call(diagram.querySelectorAll("g.cue-step"), function (g) {
      return g.dataset.key === key;
    });
    if (box) box.focus({ preventScroll: true });
  }

  function later(diagram) {
    clearTimeout(pending);
    pending = setTimeout(function () { redraw(diagram); }, 120);
  }

  function aboutSteps(event) {
    var target = event.target;
    if (!target || !target.closest) return true;  // a script's edit, dispatched on document
    return !!target.closest(".inline-group") || target.name === "start_step";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var diagram = document.getElementById("cue-diagram");
    if (!diagram || !diagram.dataset.redrawUrl || !form(diagram)) return;
    ["input", "change"].forEach(function (type) {
      document.addEventListener(type, function (event) {
        if (aboutSteps(event)) later(diagram);
      });
    });
    document.addEventListener("formset:added", function () { later(diagram); });
    document.addEventListener("formset:removed", function () { later(diagram); });
    // A split's problems come with a drawing (the server's rule): ask for one at once.
    if (document.querySelector(".inline-related:not(.empty-form) textarea[name$='-variants']")) {
      later(diagram);
    }
  });
})();
