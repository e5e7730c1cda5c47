// Live count and preview of a segment's rules while they are edited in the admin.
// The server validates and counts; this only sends the textarea's JSON and shows the answer.
"use strict";

(function () {
  const DELAY_MS = 400;

  function csrfToken(form) {
    const input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function contactRow(contact) {
    const row = document.createElement("tr");
    const link = document.createElement("a");
    link.href = contact.url;
    link.textContent = contact.name || "Contact " + contact.id;
    cell(row, "").appendChild(link);
    cell(row, contact.email);
    cell(row, contact.lifecycle_stage);
    cell(row, contact.intent_band + " (" + contact.intent_score + ")");
    return row;
  }

  function setup(panel, textarea) {
    const status = panel.querySelector(".segment-preview-status");
    const errors = panel.querySelector(".segment-preview-errors");
    const table = panel.querySelector(".segment-preview-table");
    const body = table.querySelector("tbody");
    const segment = panel.dataset.segment ? Number(panel.dataset.segment) : null;
    let timer = null;
    let latest = 0;

    function show(message, errorList, contacts) {
      status.textContent = message;
      errors.replaceChildren(
        ...errorList.map((text) => {
          const item = document.createElement("li");
          item.textContent = text;
          return item;
        })
      );
      errors.hidden = errorList.length === 0;
      body.replaceChildren(...contacts.map(contactRow));
      table.hidden = contacts.length === 0;
    }

    async function refresh() {
      let rules;
      try {
        rules = JSON.parse(textarea.value);
      } catch (error) {
        show("The rules are not valid JSON yet.", [error.message], []);
        return;
      }
      const request = ++latest;
      status.textContent = "Counting…";
      try {
        const response = await fetch(panel.dataset.previewUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(textarea.form) },
          body: JSON.stringify({ rules: rules, segment: segment }),
        });
        const answer = await response.json();
        if (request !== latest) return; // a newer edit is already on its way
        if (answer.errors) {
          show("Fix the rules to see who matches.", answer.errors, []);
        } else {
          const noun = answer.count === 1 ? "contact matches" : "contacts match";
          show(answer.count.toLocaleString() + " " + noun + ".", [], answer.contacts);
        }
      } catch (error) {
        if (request === latest) show("The preview is unavailable: " + error.message, [], []);
      }
    }

    textarea.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, DELAY_MS);
    });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const panel = document.getElementById("segment-preview");
    const textarea = document.getElementById("id_rules");
    if (panel && textarea) setup(panel, textarea);
  });
})();
