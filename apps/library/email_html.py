"""An email template's HTML part: sanitised when saved, turned into text when the text
part is left blank, and given inline CSS when rendered.

The HTML is a small, safe subset a newsletter needs (an allow-list, Ammonia through `nh3`):
no script, no event handler, no javascript: URL. Placeholders are the same as in text
({{ contact.first_name | "there" }}, {link:book}); they are filled before the <style>
block is inlined, so that mail clients that drop <style> still show the styling.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser

import css_inline
import nh3

from apps.library.errors import LibraryError

ALLOWED_TAGS = {
    "p", "a", "strong", "em", "b", "i", "u", "ul", "ol", "li", "h1", "h2", "h3", "img",
    "table", "thead", "tbody", "tr", "td", "th", "br", "hr", "span", "div", "style",
}  # fmt: skip
_STYLED = {"style", "class"}
_CELL = {"align", "valign", "width", "colspan", "rowspan", *_STYLED}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", *_STYLED},
    "img": {"src", "alt", "width", "height", *_STYLED},
    "table": {"width", "align", "border", "cellpadding", "cellspacing", *_STYLED},
    "td": _CELL,
    "th": _CELL,
    "span": _STYLED,
    "div": _STYLED,
    "p": _STYLED,
    "*": {"class"},
}
# What a style attribute may set; anything else (a url(), a behaviour) is dropped.
ALLOWED_STYLE_PROPERTIES = {
    "color", "background-color", "font-family", "font-size", "font-style", "font-weight",
    "line-height", "text-align", "text-decoration", "vertical-align", "width", "max-width",
    "height", "display", "border", "border-top", "border-bottom", "border-left",
    "border-right", "border-radius", "border-collapse", "padding", "padding-top",
    "padding-bottom", "padding-left", "padding-right", "margin", "margin-top",
    "margin-bottom", "margin-left", "margin-right",
}  # fmt: skip
URL_SCHEMES = {"https", "http", "mailto"}
# In the <style> block: what loads or runs something rather than styles it.
_UNSAFE_CSS = re.compile(r"@import|expression\s*\(|javascript:|behavior\s*:|-moz-binding", re.I)
MAX_HTML_LENGTH = 100_000


def html_sanitize(html: str) -> str:
    """The HTML as stored: only allowed tags, attributes, style properties and URL schemes.
    Refuses what cannot be stored or would load something from the <style> block."""
    if "\x00" in html:
        raise LibraryError("The HTML contains a NUL character; remove it.", field="html")
    if len(html) > MAX_HTML_LENGTH:
        raise LibraryError(f"The HTML is longer than {MAX_HTML_LENGTH:,} characters.", field="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        clean_content_tags={"script"},
        url_schemes=URL_SCHEMES,
        link_rel=None,
        filter_style_properties=ALLOWED_STYLE_PROPERTIES,
        strip_comments=True,
    )
    for style in _STYLE_BLOCK.findall(clean):
        if found := _UNSAFE_CSS.search(style):
            raise LibraryError(
                f'The <style> block may only style: "{found.group()}" is not allowed.',
                field="html",
            )
    return clean.strip()


_STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)


def html_inline_css(html: str) -> str:
    """The rendered HTML with its <style> rules moved into style attributes (mail clients
    drop <style> blocks); never fetches anything."""
    inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_link_tags=False)
    try:
        return inliner.inline(html)
    except ValueError:  # unparseable CSS: send the markup with its block rather than nothing
        return html


@lru_cache(maxsize=64)  # a batch of emails from one version derives its text once
def html_to_text(html: str) -> str:
    """A readable text part for HTML: paragraphs and headings as blank-line blocks, list
    items as "- ", a link as its text and its address, an image as its alt text.
    Placeholders pass through as written, to be rendered as text."""
    reader = _TextReader()
    reader.feed(html)
    reader.close()
    return reader.text()


_BLOCKS = {"p", "div", "h1", "h2", "h3", "table", "ul", "ol", "hr"}
_LINES = {"tr", "li", "br"}
_HIDDEN = {"style", "script", "head", "title"}


class _TextReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.hrefs: list[str | None] = []
        self.link_start = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in _LINES:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "img" and attributes.get("alt"):
            self.parts.append(attributes["alt"])
        elif tag == "a":
            self.hrefs.append(attributes.get("href"))
            self.link_start = len(self.parts)

    def handle_endtag(self, tag):
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.hrefs:
            href = self.hrefs.pop()
            label = "".join(self.parts[self.link_start :]).strip()
            if href and href != label:
                self.parts.append(f" ({href})" if label else href)

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self.parts).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
