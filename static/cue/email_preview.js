// The email preview on the template page: as the marketer types, the HTML part rendered for
// the sample contact (sanitised as saving would, CSS inlined as sending does) at desktop and
// phone width, and the text part, saying whether it is written or derived from the HTML.
// It draws the preview API's answer that template_editor.js fetches (the "cue:preview"
// event on the form), so the lint and the preview always describe the same text. The
// frames are sandboxed: nothing in them runs.
"use strict";

(function () {
  const WIDTHS = [
    ["desktop", "Desktop", 600],
    ["phone", "Phone", 375],
  ];

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function frameBuild(key, label, width) {
    const figure = element("figure", "cue-email-frame");
    figure.appendChild(element("figcaption", "", label + " (" + width + " px)"));
    const frame = element("iframe");
    frame.id = "cue-email-" + key;
    frame.setAttribute("sandbox", "");
    frame.setAttribute("title", "The email at " + label.toLowerCase() + " width");
    frame.style.width = width + "px";
    figure.appendChild(frame);
    return { figure, frame };
  }

  function panelBuild() {
    const panel = element("div", "cue-email-preview");
    panel.id = "cue-email-preview";
    panel.appendChild(element("p", "cue-email-heading", "Preview for the sample contact"));
    const errors = element("ul", "errorlist");
    errors.id = "cue-email-errors";
    const row = element("div", "cue-email-frames");
    const frames = {};
    WIDTHS.forEach(([key, label, width]) => {
      const built = frameBuild(key, label, width);
      frames[key] = built.frame;
      row.appendChild(built.figure);
    });
    const source = element("p", "cue-email-text-source");
    source.id = "cue-email-text-source";
    const text = element("pre", "cue-body");
    text.id = "cue-email-text";
    panel.append(errors, row, source, text);
    return { panel, errors, frames, source, text };
  }

  function previewShow(parts, email) {
    parts.errors.replaceChildren(...email.errors.map((message) => element("li", "", message)));
    Object.values(parts.frames).forEach((frame) => {
      frame.srcdoc = email.html;
    });
    parts.source.textContent = email.text_derived
      ? "Text part: derived from the HTML (write one in the text box to replace it)."
      : "Text part: as written in the text box.";
    parts.text.textContent = email.text;
  }

  function setUp(doc) {
    const html = doc.querySelector("textarea.cue-template-html");
    if (!html || !html.form) return;
    const parts = panelBuild();
    (html.closest(".form-row") || html).insertAdjacentElement("afterend", parts.panel);
    html.form.addEventListener("cue:preview", (event) => {
      const email = event.detail && event.detail.email;
      parts.panel.hidden = !email;
      if (email) previewShow(parts, email);
    });
  }

  document.addEventListener("DOMContentLoaded", () => setUp(document));
})();
