/* The dashboard's "Refresh now": queues a refresh of the figures (POST), then polls where
   it stands and says so (queued, refreshing, done) until it is done. A refresh already
   under way when the page loads is followed the same way. */
(function () {
  "use strict";

  var form = document.getElementById("cue-refresh-form");
  var progress = document.getElementById("cue-refresh-progress");
  if (!progress) {
    return;
  }
  var button = document.getElementById("cue-refresh");
  var refreshedAt = document.getElementById("cue-refreshed-at");

  function show(status) {
    progress.textContent = status.words;
    progress.setAttribute("data-stage", status.stage);
    if (button) {
      button.disabled = !status.done;
    }
    if (status.done) {
      refreshedAt.textContent = "Figures last refreshed just now.";
    }
  }

  function failed(message) {
    progress.textContent = message;
    progress.setAttribute("data-stage", "failed");
    if (button) {
      button.disabled = false;
    }
  }

  function answer(response) {
    return response.json().then(function (body) {
      if (!response.ok) {
        throw new Error(body.error || "The refresh could not be followed.");
      }
      return body;
    });
  }

  function follow(url) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(answer)
      .then(function (status) {
        show(status);
        if (!status.done) {
          window.setTimeout(function () { follow(url); }, 1000);
        }
      })
      .catch(function (error) { failed(error.message); });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      progress.textContent = "Asking for a refresh…";
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        body: new FormData(form),
      })
        .then(answer)
        .then(function (status) {
          show(status);
          if (!status.done) {
            follow(status.progress_url);
          }
        })
        .catch(function (error) { failed(error.message); });
    });
    if (form.getAttribute("data-pending")) {
      follow(form.getAttribute("data-pending"));
    }
  }
})();
