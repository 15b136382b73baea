"""Render a `Document` as one self-contained HTML page (no script, no
external resource): the lock graph is inline SVG."""

from __future__ import annotations

import re
from html import escape

from checker.doc.model import (
    Block,
    Bullets,
    Code,
    Details,
    Document,
    Graph,
    Heading,
    Para,
    Table,
)
from checker.doc.svg import render_svg

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222;
       line-height: 1.45; padding: 0 1em; }
code, pre { font-family: ui-monospace, monospace; font-size: 0.92em; }
code { background: #f1f1f1; padding: 0 0.25em; border-radius: 3px; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 0.7em; overflow-x: auto; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
details { margin: 0.4em 0; }
summary { cursor: pointer; color: #345; }
.lockgraph { display: block; margin: 0.8em 0; }
"""

_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")
_EM = re.compile(r"(?<![*\w])\*([^*\s][^*]*)\*(?![*\w])")


def inline(text: str) -> str:
    """Escape, then turn `code` into <code>, **this** into <strong> and *this*
    into <em> (outside code)."""
    parts = _CODE.split(escape(text, quote=False))
    out = []
    for k, part in enumerate(parts):
        if k % 2:
            out.append(f"<code>{part}</code>")
        else:
            part = _STRONG.sub(r"<strong>\1</strong>", part)
            out.append(_EM.sub(r"<em>\1</em>", part))
    return "".join(out)


def _block(b: Block, out: list[str]) -> None:
    if isinstance(b, Heading):
        anchor = f' id="{escape(b.anchor)}"' if b.anchor else ""
        out.append(f"<h{b.level}{anchor}>{inline(b.text)}</h{b.level}>")
    elif isinstance(b, Para):
        out.append(f"<p>{inline(b.text)}</p>")
    elif isinstance(b, Bullets):
        out.append("<ul>" + "".join(f"<li>{inline(i)}</li>" for i in b.items) + "</ul>")
    elif isinstance(b, Table):
        head = "".join(f"<th>{inline(h)}</th>" for h in b.headers)
        body = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in row) + "</tr>"
                       for row in b.rows)
        out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    elif isinstance(b, Code):
        out.append(f"<pre>{escape(b.text, quote=False)}</pre>")
    elif isinstance(b, Details):
        inner: list[str] = []
        for x in b.blocks:
            _block(x, inner)
        out.append(f"<details><summary>{inline(b.summary)}</summary>{''.join(inner)}</details>")
    elif isinstance(b, Graph):
        out.append(render_svg(b))
    else:
        raise AssertionError(b)


def render_html(doc: Document) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{escape(doc.title)}</title><style>{STYLE}</style></head><body>",
           f"<h1>{inline(doc.title)}</h1>"]
    for b in doc.blocks:
        _block(b, out)
    out.append("</body></html>")
    return "\n".join(out) + "\n"
