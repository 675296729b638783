"""Formatted text written by staff (Markdown), turned into HTML that is safe to show anyone."""

from __future__ import annotations

import re

import markdown
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a", "blockquote", "code", "pre", "hr",
                "h1", "h2", "h3", "h4", "h5", "h6"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
_HEADING = re.compile(r"<(/?)h([1-6])>")


def render_markdown(text: str | None, *, top_heading: int = 3) -> Markup:
    """Markdown → HTML through an allow-list: no scripts, styles, event handlers, images or
    javascript: links survive, whatever the Markdown (or raw HTML inside it) says.

    The text's highest heading becomes an h``top_heading`` (the page around it has its own h1
    and h2), the others keep their distance below it, so screen readers hear a sound outline.
    """
    if not text or not text.strip():
        return Markup("")
    html = markdown.markdown(text, extensions=["sane_lists"], output_format="html")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=ALLOWED_URL_SCHEMES,
                      link_rel="noopener noreferrer nofollow")
    levels = [int(level) for _closing, level in _HEADING.findall(clean)]
    if levels:
        # Safe to rewrite: nh3's output has only the allowed tags, without attributes on headings.
        shift = top_heading - min(levels)
        clean = _HEADING.sub(lambda m: f"<{m.group(1)}h{min(max(int(m.group(2)) + shift, 1), 6)}>", clean)
    return Markup(clean)
