/* Polls a contact import's status while it runs and moves the progress bar; reloads the
   page for the full report once the import is done or has failed. */
(function () {
  "use strict";

  var box = document.querySelector("[data-import-status-url]");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-import-status-url");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-import-progress-text]");
  var counts = {
    imported_count: document.getElementById("import-imported"),
    updated_count: document.getElementById("import-updated"),
    rejected_count: document.getElementById("import-rejected"),
  };
  var status = document.getElementById("import-status");
  var delay = 1000;

  function show(progress) {
    bar.max = Math.max(progress.total_rows, 1);
    bar.value = progress.processed_rows;
    text.textContent = progress.processed_rows + " of " + progress.total_rows + " rows (" +
      progress.percent + "%)";
    Object.keys(counts).forEach(function (name) {
      if (counts[name]) {
        counts[name].textContent = progress[name];
      }
    });
    if (status) {
      status.textContent = progress.status_display;
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        show(progress);
        if (progress.finished) {
          window.location.reload();
          return;
        }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
