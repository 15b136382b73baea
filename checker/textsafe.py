"""Spec text made inert for each place it is shown.

Names, messages, comments and file names come from specs and trace files that
may not be trusted. Whatever they hold must reach a terminal, an XML report or
an HTML page as text, never as control sequences or markup:

- `visible` for terminals and text files: control characters (ESC, BEL, ...,
  C1 controls, DEL, line and paragraph separators, bidirectional overrides)
  are shown as Python-style escapes (`\\x1b`), so an assert message cannot
  recolour, retitle or rewrite the user's terminal.
- `xml_text` for JUnit and SARIF: characters XML 1.0 forbids (most C0
  controls) shown the same way, so the report stays well-formed.
- `json_for_script` for JSON embedded in an HTML `<script>` element: `<`,
  `>`, `&` and U+2028/U+2029 as JSON escapes, so no `</script>` or `<!--`
  sequence can end or blank the data block; `json.loads` reads it unchanged.

The Markdown escaping lives with its renderer (`checker.doc.markdown`).
"""

from __future__ import annotations

import re

from rich.console import ConsoleRenderable, RenderHook
from rich.text import Text

# C0 controls except tab and newline, DEL, C1 controls, line/paragraph
# separators, and the bidirectional embedding/override/isolate characters.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Not allowed in XML 1.0: C0 controls but tab, LF, CR; surrogates; U+FFFE/FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(text: str) -> str:
    """`text` with control characters spelled out (newlines and tabs kept)."""
    return _CONTROL.sub(_escape, text)


def xml_text(text: str) -> str:
    """`text` with the characters XML 1.0 cannot hold spelled out."""
    return _NOT_XML.sub(_escape, text)


def json_for_script(text: str) -> str:
    """JSON text safe inside `<script>...</script>`: the same JSON value."""
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class VisibleText(RenderHook):
    """A rich render hook: every text a console prints goes through `visible`
    (styles kept), so the command line needs no call per message."""

    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_visible_text(r) if isinstance(r, Text) else r for r in renderables]


def _visible_text(t: Text) -> Text:
    if not _CONTROL.search(t.plain):
        return t
    cuts = sorted({s.start for s in t.spans} | {s.end for s in t.spans})
    new = t.blank_copy()
    for piece in t.divide(cuts):
        part = Text(visible(piece.plain))
        for span in piece.spans:  # each covers the whole piece
            part.stylize(span.style)
        new.append_text(part)
    return new
