// The inbox: tab counts that move without a reload, saved replies into the reply box, and
// a confirmation before a conversation changes hands.
(function () {
  "use strict";
  const POLL_MS = 15000;

  function pollCounts() {
    const tabs = document.querySelector("[data-counts-url]");
    if (!tabs) return;
    const url = tabs.getAttribute("data-counts-url");
    const refresh = () =>
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : null))
        .then((counts) => {
          if (!counts) return;
          document.querySelectorAll("[data-count]").forEach((node) => {
            const value = counts[node.getAttribute("data-count")];
            if (value !== undefined) node.textContent = String(value);
          });
        })
        .catch(() => {});
    window.setInterval(refresh, POLL_MS);
  }

  function savedReplies() {
    const box = document.querySelector("#reply-form textarea");
    document.querySelectorAll(".snippet").forEach((button) => {
      button.addEventListener("click", () => {
        if (!box) return;
        box.value = button.getAttribute("data-text");
        box.focus();
      });
    });
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach((form) => {
      form.addEventListener("submit", (event) => {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    pollCounts();
    savedReplies();
    confirmations();
  });
})();
