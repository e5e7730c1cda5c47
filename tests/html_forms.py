"""A page's form as a browser submits it, untouched: what a test posts to check that a form
nobody filled in (a formset's blank extra form) passes as the browser sends it."""

from html.parser import HTMLParser

SKIPPED_INPUTS = {"submit", "button", "file", "image", "reset"}


class _FormFields(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._multiple = False
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            self._input(name, attrs)
        elif tag == "select" and name:
            self._select, self._options = name, []
            self._multiple = "multiple" in attrs
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value") or "", "selected" in attrs))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def _input(self, name: str, attrs: dict) -> None:
        kind = (attrs.get("type") or "text").lower()
        if kind in ("checkbox", "radio"):
            if "checked" in attrs:
                self.fields.append((name, attrs.get("value") or "on"))
        elif kind not in SKIPPED_INPUTS:
            self.fields.append((name, attrs.get("value") or ""))

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not self._multiple:  # a single select sends its first option
                chosen = [value for value, _ in self._options[:1]]
            self.fields += [(self._select, value) for value in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea:
            # HTML drops the newline that follows <textarea>, as Django renders it
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def form_as_submitted(page_html: str, form_id: str) -> dict[str, list[str]]:
    """{field name: [values]} of the form with id `form_id`, as a browser would post it."""
    parser = _FormFields(form_id)
    parser.feed(page_html)
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data
