"""Render a `Document` as GitHub-flavoured Markdown, graphs as Mermaid.

The document's text holds spec names, messages and file names, and many
Markdown renderers pass raw HTML through, so every text goes through
`_inline`: outside code spans `&`, `<`, `>` become entities and a backslash
is doubled (so no `\\`` can turn a code span the escaping saw into text the
renderer parses); code spans, which no renderer reads as HTML, are kept.
Table cells also escape pipes, fenced blocks get a fence longer than any
backtick run inside, Mermaid labels use Mermaid's `#lt;` entities, and
control characters are spelled out (`checker.textsafe.visible`).
"""

from __future__ import annotations

import html
import re

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
from checker.textsafe import visible

_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\\": "\\\\", "\n": " ", "\r": " "}
_TICKS = re.compile(r"`+")


def _inline(text: str) -> str:
    """Text for a Markdown paragraph, heading or cell: inert outside code spans."""
    text = visible(text)
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "`":
            out.append(_ENTITY.get(text[i], text[i]))
            i += 1
            continue
        run = _TICKS.match(text, i)
        assert run is not None
        n = run.end() - i
        close = next((m for m in _TICKS.finditer(text, run.end()) if m.end() - m.start() == n),
                     None)
        if close is None:  # no closing run of the same length: literal backticks
            out.append(run.group())
            i = run.end()
            continue
        out.append(text[i:close.end()].replace("\n", " ").replace("\r", " "))
        i = close.end()
    return "".join(out)


def _cell(text: str) -> str:
    return _inline(text).replace("|", "\\|") or " "


def _fence(text: str) -> str:
    longest = max((len(m.group()) for m in _TICKS.finditer(text)), default=0)
    return "`" * max(3, longest + 1)


def _mermaid_text(text: str) -> str:
    return (visible(text).replace("&", "#amp;").replace("<", "#lt;").replace(">", "#gt;")
            .replace('"', "#quot;"))


def mermaid(g: Graph) -> str:
    lines = ["graph LR"]
    for n in g.nodes:
        label = _mermaid_text(n.label) + (f"<br/><i>{_mermaid_text(n.note)}</i>"
                                          if n.note else "")
        lines.append(f'  {n.id}["{label}"]')
    alerts = []
    for k, e in enumerate(g.edges):
        arrow = "-.->" if e.dashed else "-->"
        label = f'|"{_mermaid_text(e.label)}"|' if e.label else ""
        lines.append(f"  {e.src} {arrow}{label} {e.dst}")
        if e.alert:
            alerts.append(str(k))
    if alerts:
        lines.append(f"  linkStyle {','.join(alerts)} stroke:#c00,stroke-width:3px")
    return "\n".join(lines)


def _block(b: Block, out: list[str]) -> None:
    if isinstance(b, Heading):
        out.append("#" * b.level + " " + _inline(b.text))
    elif isinstance(b, Para):
        out.append(_inline(b.text))
    elif isinstance(b, Bullets):
        out.append("\n".join(f"- {_inline(item)}" for item in b.items))
    elif isinstance(b, Table):
        rows = ["| " + " | ".join(_cell(h) for h in b.headers) + " |",
                "|" + "|".join("---" for _ in b.headers) + "|"]
        rows += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b.rows]
        out.append("\n".join(rows))
    elif isinstance(b, Code):
        fence = _fence(b.text)
        out.append(f"{fence}{b.lang}\n{visible(b.text)}\n{fence}")
    elif isinstance(b, Details):
        inner: list[str] = []
        for x in b.blocks:
            _block(x, inner)
        out.append(f"<details><summary>{html.escape(visible(b.summary))}</summary>\n\n"
                   + "\n\n".join(inner)
                   + "\n\n</details>")
    elif isinstance(b, Graph):
        out.append("```mermaid\n" + mermaid(b) + "\n```")
    else:
        raise AssertionError(b)


def render_markdown(doc: Document) -> str:
    out = [f"# {_inline(doc.title)}"]
    for b in doc.blocks:
        _block(b, out)
    return "\n\n".join(out) + "\n"
