"""Render a `Document` as GitHub-flavoured Markdown, graphs as Mermaid."""

from __future__ import annotations

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


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def mermaid(g: Graph) -> str:
    lines = ["graph LR"]
    for n in g.nodes:
        label = n.label + (f"<br/><i>{n.note}</i>" if n.note else "")
        lines.append(f'  {n.id}["{_mermaid_text(label)}"]')
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
        out.append("#" * b.level + " " + b.text)
    elif isinstance(b, Para):
        out.append(b.text)
    elif isinstance(b, Bullets):
        out.append("\n".join(f"- {item}" for item in b.items))
    elif isinstance(b, Table):
        rows = ["| " + " | ".join(_cell(h) for h in b.headers) + " |",
                "|" + "|".join("---" for _ in b.headers) + "|"]
        rows += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b.rows]
        out.append("\n".join(rows))
    elif isinstance(b, Code):
        out.append(f"```{b.lang}\n{b.text}\n```")
    elif isinstance(b, Details):
        inner: list[str] = []
        for x in b.blocks:
            _block(x, inner)
        out.append(f"<details><summary>{b.summary}</summary>\n\n" + "\n\n".join(inner)
                   + "\n\n</details>")
    elif isinstance(b, Graph):
        out.append("```mermaid\n" + mermaid(b) + "\n```")
    else:
        raise AssertionError(b)


def render_markdown(doc: Document) -> str:
    out = [f"# {doc.title}"]
    for b in doc.blocks:
        _block(b, out)
    return "\n\n".join(out) + "\n"
