"""A small document model, rendered both as Markdown and as HTML.

Documents are built once as blocks and rendered twice, so the Markdown a
reviewer reads in a patch and the HTML page say exactly the same thing.
Inline text uses one markup only: `backticks` for code.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Block:
    __slots__ = ()


@dataclass
class Heading(Block):
    level: int
    text: str
    anchor: str = ""


@dataclass
class Para(Block):
    text: str


@dataclass
class Bullets(Block):
    items: list[str]


@dataclass
class Table(Block):
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Code(Block):
    text: str
    lang: str = ""


@dataclass
class Details(Block):
    """A folded block: a long trace under a one-line summary."""

    summary: str
    blocks: list[Block]


@dataclass
class GraphNode:
    id: str
    label: str
    note: str = ""  # a second line: the lock's kind


@dataclass
class GraphEdge:
    src: str
    dst: str
    label: str = ""
    dashed: bool = False  # only waited for, never taken
    alert: bool = False  # on a cycle, or against the declared order


@dataclass
class Graph(Block):
    nodes: list[GraphNode]
    edges: list[GraphEdge] = field(default_factory=list)


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)
