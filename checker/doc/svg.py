"""Draw a lock graph as inline SVG, for pages that must not load a script.

Layout: nodes in columns by their longest distance from a source in the
graph of strongly connected components (a lock order reads left to right),
names sorted within a column. Forward edges are straight; edges within a
column or backwards are curved, so a cycle stands out.
"""

from __future__ import annotations

from html import escape

import networkx as nx

from checker.doc.model import Graph

COL_GAP = 90
ROW_GAP = 34
NODE_H = 44
CHAR_W = 7.2
TOP_ARC = 34


def _columns(g: Graph) -> dict[str, int]:
    dg: nx.DiGraph = nx.DiGraph()
    dg.add_nodes_from(n.id for n in g.nodes)
    dg.add_edges_from((e.src, e.dst) for e in g.edges)
    cond = nx.condensation(dg)
    layer: dict[int, int] = {}
    for c in nx.topological_sort(cond):
        preds = list(cond.predecessors(c))
        layer[c] = max((layer[p] + 1 for p in preds), default=0)
    mapping = cond.graph["mapping"]
    return {n: layer[mapping[n]] for n in dg.nodes}


def render_svg(g: Graph) -> str:
    if not g.nodes:
        return ""
    col = _columns(g)
    width = {n.id: max(len(n.label), len(n.note)) * CHAR_W + 24 for n in g.nodes}
    ncols = max(col.values()) + 1
    colw = [max((width[n.id] for n in g.nodes if col[n.id] == c), default=0)
            for c in range(ncols)]
    xs = [20.0]
    for c in range(1, ncols):
        xs.append(xs[-1] + colw[c - 1] + COL_GAP)
    pos: dict[str, tuple[float, float]] = {}
    rows: dict[int, int] = {}
    for n in sorted(g.nodes, key=lambda n: (col[n.id], n.label)):
        r = rows.get(col[n.id], 0)
        rows[col[n.id]] = r + 1
        pos[n.id] = (xs[col[n.id]], 20.0 + TOP_ARC + r * (NODE_H + ROW_GAP))
    total_w = xs[-1] + colw[-1] + 40
    total_h = 40 + TOP_ARC + max(rows.values()) * (NODE_H + ROW_GAP)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="lockgraph" '
             f'width="{total_w:.0f}" height="{total_h:.0f}" '
             f'viewBox="0 0 {total_w:.0f} {total_h:.0f}" role="img">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
             'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
             '<path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker>'
             '<marker id="arrow-alert" viewBox="0 0 10 10" refX="10" refY="5" '
             'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
             '<path d="M 0 0 L 10 5 L 0 10 z" fill="#c00"/></marker></defs>']
    for e in g.edges:
        x1, y1 = pos[e.src]
        x2, y2 = pos[e.dst]
        w1 = width[e.src]
        color = "#c00" if e.alert else "#333"
        marker = "arrow-alert" if e.alert else "arrow"
        dash = ' stroke-dasharray="5,4"' if e.dashed else ""
        if col[e.dst] == col[e.src] + 1:
            sx, sy, tx, ty = x1 + w1, y1 + NODE_H / 2, x2, y2 + NODE_H / 2
            d = f"M {sx:.0f} {sy:.0f} L {tx:.0f} {ty:.0f}"
            lx, ly = (sx + tx) / 2, (sy + ty) / 2 - 6
        elif col[e.dst] > col[e.src]:
            # Over the columns in between: an arc above the boxes.
            sx, sy, tx, ty = x1 + w1 / 2, y1, x2 + width[e.dst] / 2, y2
            cy = min(sy, ty) - TOP_ARC
            d = f"M {sx:.0f} {sy:.0f} C {sx:.0f} {cy:.0f}, {tx:.0f} {cy:.0f}, {tx:.0f} {ty:.0f}"
            lx, ly = (sx + tx) / 2, cy + 10
        else:
            # Same column or backwards: a curve below the boxes.
            sx, sy = x1 + w1 / 2, y1 + NODE_H
            tx, ty = x2 + width[e.dst] / 2, y2 + NODE_H
            if e.src == e.dst:
                tx += 16
                sx -= 16
            cy = max(sy, ty) + ROW_GAP * 0.9
            d = f"M {sx:.0f} {sy:.0f} C {sx:.0f} {cy:.0f}, {tx:.0f} {cy:.0f}, {tx:.0f} {ty:.0f}"
            lx, ly = (sx + tx) / 2, cy - 4
        parts.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width='
                     f'"{2.5 if e.alert else 1.4}"{dash} marker-end="url(#{marker})"/>')
        if e.label:
            parts.append(f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="11" text-anchor="middle" '
                         f'fill="{color}">{escape(e.label)}</text>')
    for n in g.nodes:
        x, y = pos[n.id]
        w = width[n.id]
        parts.append(f'<g class="node" data-lock="{escape(n.label)}">'
                     f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{NODE_H}" rx="6" '
                     'fill="#eef3fb" stroke="#4a6fa5"/>'
                     f'<text x="{x + w / 2:.0f}" y="{y + 18:.0f}" font-size="13" '
                     f'text-anchor="middle" font-family="monospace">{escape(n.label)}</text>'
                     f'<text x="{x + w / 2:.0f}" y="{y + 34:.0f}" font-size="11" '
                     f'text-anchor="middle" fill="#555">{escape(n.note)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
