// The reps' task page: live SLA countdowns, and the "not interested" options shown only
// when that outcome is chosen. No libraries; the page works without this script.
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function duration(seconds) {
    var s = Math.abs(Math.round(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = s % 60;
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(rest);
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time.countdown[data-due]").forEach(function (el) {
      var left = (Date.parse(el.dataset.due) - now) / 1000;
      el.textContent = left >= 0 ? "Due in " + duration(left) : "Overdue by " + duration(left);
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 300);
    });
  }

  function outcomeToggle() {
    var form = document.getElementById("complete-form");
    if (!form) { return; }
    var extra = form.querySelector("[data-show-for]");
    function update() {
      var chosen = form.querySelector("input[name=outcome]:checked");
      extra.hidden = !chosen || chosen.value !== extra.dataset.showFor;
    }
    form.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    outcomeToggle();
  });
})();
