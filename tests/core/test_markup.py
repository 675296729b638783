"""Staff-written Markdown shown to anyone: formatting survives, nothing active does."""

from __future__ import annotations

import pytest

from grants.core.markup import render_markdown


def test_render_markdown_keeps_formatting_and_safe_links():
    html = render_markdown("**Bold**, *italic*\n\n- one\n- two\n\n[site](https://example.org)")
    assert "<strong>Bold</strong>" in html and "<em>italic</em>" in html and "<li>one</li>" in html
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">site</a>' in html


@pytest.mark.parametrize("attack", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    '<a href="https://example.org" onclick="alert(1)">x</a>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    "<iframe src=https://evil.example></iframe>",
    "<svg onload=alert(1)>",
])
def test_render_markdown_drops_anything_active(attack):
    html = str(render_markdown(attack)).lower()
    for bad in ("<script", "alert(1)</script", "onerror", "javascript:", "onclick", "style=", "<iframe", "<svg",
                "onload"):
        assert bad not in html


def test_render_markdown_puts_the_highest_heading_below_the_page_headings():
    assert str(render_markdown("# Title\n\n## Sub\n\n##### Deep")) == "<h3>Title</h3>\n<h4>Sub</h4>\n<h6>Deep</h6>"
    assert str(render_markdown("## What we fund\n\n### Details")) == "<h3>What we fund</h3>\n<h4>Details</h4>"


def test_render_markdown_of_nothing_is_empty():
    assert render_markdown("") == "" and render_markdown(None) == ""
