"""A self-contained HTML page to step through counterexamples (`--html`).

One lane (column) per thread, one row per step, under a folded race diagram
to copy (checker.trace.race); the spec source beside it
with the current step's line marked; the shared state at the current step,
with what the step changed highlighted. Arrow keys (or j/k) step forward and
back, Home/End jump to the ends. Everything (traces, sources, script, style)
is inside the one file, so it can be attached to a CI run or a bug report.
"""

from __future__ import annotations

import json
from html import escape

from checker.dsl.diagnostics import SourceCache
from checker.textsafe import json_for_script
from checker.trace.model import Trace
from checker.trace.race import render_race


def _expand(values: dict[str, str]) -> dict[str, str]:
    """Word values (`{pin=true, page=pages[0]}`) as one entry per field, the
    form in which steps report their changes."""
    out: dict[str, str] = {}
    for var, v in values.items():
        if v.startswith("{") and v.endswith("}") and "=" in v:
            for part in v[1:-1].split(", "):
                name, _, val = part.partition("=")
                out[f"{var}.{name}"] = val
        else:
            out[var] = v
    return out


def states_of(trace: Trace) -> list[dict[str, str]]:
    """The shared state before the first step and after each step, rebuilt
    backwards from the final state through each step's changes."""
    state = _expand(trace.final_state)
    states = [dict(state)]
    for step in reversed(trace.steps):
        for ch in step.changes:
            if ch.var in state:
                state[ch.var] = ch.before
        states.append(dict(state))
    states.reverse()
    return states


def _source(file: str) -> list[str]:
    lines = []
    k = 1
    while True:
        text = SourceCache.line(file, k)
        if text is None:
            break
        lines.append(text)
        k += 1
    return lines


def viewer_data(traces: list[Trace]) -> dict[str, object]:
    files: dict[str, list[str]] = {}
    items = []
    for tr in traces:
        for f in {tr.spec, *(s.file for s in tr.steps)}:
            if f not in files:
                files[f] = _source(f)
        items.append({
            "spec": tr.spec, "scenario": tr.scenario, "kind": tr.kind, "name": tr.name,
            "message": tr.message, "loop_start": tr.loop_start,
            "threads": [{"id": t.id, "label": t.label} for t in tr.threads],
            "race": render_race(tr),
            "steps": [{"index": s.index, "thread": s.thread, "line": s.line, "file": s.file,
                       "text": s.text, "inner": s.inner, "fault": s.fault,
                       "warning": s.warning,
                       "changes": [[c.var, c.before, c.after] for c in s.changes
                                   if not c.frame]} for s in tr.steps],
            "states": states_of(tr),
        })
    return {"traces": items, "files": files}


STYLE = """
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, sans-serif; color: #222; }
header { padding: 0.6em 1em; background: #263238; color: #fff; }
header h1 { font-size: 1.1em; margin: 0 0 0.3em 0; }
header .msg { color: #ffcdd2; }
header .help { font-size: 0.85em; color: #b0bec5; }
header button, header select { font: inherit; margin-right: 0.4em; }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 0;
       height: calc(100vh - 6.5em); }
#lanes, #side { overflow: auto; }
#side { border-left: 1px solid #ccc; display: grid; grid-template-rows: 3fr 2fr; min-height: 0; }
#side > div { overflow: auto; min-height: 0; }
#source, #state { overflow: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th { position: sticky; top: 0; background: #eceff1; text-align: left; padding: 0.3em; }
td { border-top: 1px solid #eee; padding: 0.2em 0.4em; vertical-align: top;
     font-family: ui-monospace, monospace; }
td.idx { color: #888; width: 3em; text-align: right; }
tr.step { cursor: pointer; }
tr.step.future td.cell, tr.step.future .change { color: #aaa; }
tr.step.current { background: #fff59d; }
.change { color: #1565c0; }
.fault { color: #c62828; font-weight: bold; }
.warning { color: #ef6c00; font-weight: bold; }
.loop { background: #f3e5f5; }
#source pre { margin: 0; font-size: 0.82em; }
.src { display: block; white-space: pre; padding: 0 0.5em; }
.src .ln { display: inline-block; width: 3.5em; color: #999; text-align: right;
           margin-right: 0.8em; }
.src.current-line { background: #fff59d; outline: 1px solid #fbc02d; }
#state td.var { color: #555; }
#state tr.changed { background: #c8e6c9; font-weight: bold; }
details.race { padding: 0.3em 0.6em; border-bottom: 1px solid #ccc; }
details.race pre { font-size: 0.82em; margin: 0.4em 0; }
#fileName { font-size: 0.8em; padding: 0.2em 0.5em; background: #eceff1; }
"""

SCRIPT = r"""
const DATA = JSON.parse(document.getElementById('migcheck-data').textContent);
let T = 0, K = 0;   // which trace, which step (0: the initial state)
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function trace() { return DATA.traces[T]; }
function buildLanes() {
  const tr = trace(), lanes = $('lanes');
  lanes.innerHTML = '';
  const race = el('details', 'race');
  race.appendChild(el('summary', '', 'race diagram (only the steps that matter; plain text to paste)'));
  race.appendChild(el('pre', '', tr.race));
  lanes.appendChild(race);
  const table = el('table'), head = el('tr');
  head.appendChild(el('th', '', '#'));
  for (const t of tr.threads) head.appendChild(el('th', '', 'T' + t.id + ' ' + t.label));
  table.appendChild(head);
  // A lasso (livelock, starvation): the rows of the cycle shaded, and a
  // line where it starts and where it goes back to.
  function mark(text) {
    const row = el('tr', 'loop-mark'), td = el('td', 'loop', text);
    td.colSpan = tr.threads.length + 1;
    row.appendChild(td);
    table.appendChild(row);
  }
  for (const s of tr.steps) {
    if (tr.loop_start !== null && s.index === tr.loop_start + 1)
      mark('— cycle starts here: steps ' + s.index + '..' + tr.steps.length + ' repeat forever —');
    const row = el('tr', 'step');
    row.dataset.step = s.index;
    if (tr.loop_start !== null && s.index > tr.loop_start) row.classList.add('loop');
    row.appendChild(el('td', 'idx', String(s.index)));
    for (const t of tr.threads) {
      const td = el('td', 'cell');
      if (t.id === s.thread) {
        // A module's line named with its file, as in the text trace.
        const where = s.file === tr.spec ? String(s.line) : s.file.split('/').pop() + ':' + s.line;
        td.appendChild(el('div', '', where + '  ' + s.text));
        for (const c of s.changes) td.appendChild(el('div', 'change', c[0] + ': ' + c[1] + ' \u2192 ' + c[2]));
        if (s.warning) td.appendChild(el('div', 'warning', 'WARNING: ' + s.warning));
        if (s.fault) td.appendChild(el('div', 'fault', '!! ' + s.fault));
      }
      row.appendChild(td);
    }
    row.addEventListener('click', () => show(s.index));
    table.appendChild(row);
  }
  if (tr.loop_start !== null) mark('— back to step ' + (tr.loop_start + 1) + ' —');
  lanes.appendChild(table);
  $('title').textContent = tr.spec + ' \u2014 scenario ' + tr.scenario;
  $('msg').textContent = tr.kind + (tr.name ? " '" + tr.name + "'" : '') + ': ' + tr.message;
}
function showSource(file, line) {
  const src = $('source');
  if (src.dataset.file !== file) {
    src.dataset.file = file;
    $('fileName').textContent = file;
    const pre = el('pre');
    (DATA.files[file] || []).forEach((text, i) => {
      const d = el('span', 'src');
      d.dataset.line = i + 1;
      d.appendChild(el('span', 'ln', String(i + 1)));
      d.appendChild(document.createTextNode(text));
      pre.appendChild(d);
    });
    src.innerHTML = '';
    src.appendChild(pre);
  }
  for (const c of src.querySelectorAll('.current-line')) { c.classList.remove('current-line'); c.removeAttribute('id'); }
  if (line > 0) {
    const cur = src.querySelector('.src[data-line="' + line + '"]');
    if (cur) { cur.classList.add('current-line'); cur.id = 'current-line'; cur.scrollIntoView({block: 'center'}); }
  }
}
function showState() {
  const tr = trace(), st = tr.states[K], changed = new Set();
  if (K > 0) for (const c of tr.steps[K - 1].changes) changed.add(c[0]);
  const table = el('table');
  const head = el('tr');
  head.appendChild(el('th', '', K === 0 ? 'shared state at the start' : 'shared state after step ' + K));
  head.appendChild(el('th', '', ''));
  table.appendChild(head);
  for (const name of Object.keys(st).sort()) {
    const row = el('tr', changed.has(name) ? 'changed' : '');
    row.appendChild(el('td', 'var', name));
    row.appendChild(el('td', '', st[name]));
    table.appendChild(row);
  }
  $('state').innerHTML = '';
  $('state').appendChild(table);
}
function show(k) {
  const tr = trace();
  K = Math.max(0, Math.min(k, tr.steps.length));
  document.body.dataset.step = K;
  for (const row of document.querySelectorAll('tr.step')) {
    const i = Number(row.dataset.step);
    row.classList.toggle('current', i === K);
    row.classList.toggle('future', i > K);
  }
  const cur = document.querySelector('tr.step.current');
  if (cur) cur.scrollIntoView({block: 'nearest'});
  const s = K > 0 ? tr.steps[K - 1] : null;
  showSource(s ? s.file : tr.spec, s ? s.line : 0);
  $('pos').textContent = 'step ' + K + ' / ' + tr.steps.length;
  showState();
}
function pick(t) { T = t; buildLanes(); show(0); }
document.addEventListener('keydown', (e) => {
  if (e.target && e.target.tagName === 'SELECT') return;
  if (['ArrowRight', 'ArrowDown', 'j', 'n', ' '].includes(e.key)) { show(K + 1); e.preventDefault(); }
  else if (['ArrowLeft', 'ArrowUp', 'k', 'p'].includes(e.key)) { show(K - 1); e.preventDefault(); }
  else if (e.key === 'Home') { show(0); e.preventDefault(); }
  else if (e.key === 'End') { show(trace().steps.length); e.preventDefault(); }
});
$('prev').addEventListener('click', () => show(K - 1));
$('next').addEventListener('click', () => show(K + 1));
const sel = $('which');
DATA.traces.forEach((tr, i) => {
  const o = el('option', '', tr.scenario + ': ' + tr.kind);
  o.value = i;
  sel.appendChild(o);
});
sel.addEventListener('change', () => { pick(Number(sel.value)); sel.blur(); });
if (DATA.traces.length < 2) sel.style.display = 'none';
pick(0);
"""


def viewer_html(traces: list[Trace]) -> str:
    # `<`, `>`, `&` as \u escapes: neither `</script>` nor `<!--<script>` in spec
    # text can end or blank the data block (README, "Security").
    data = json_for_script(json.dumps(viewer_data(traces), sort_keys=True))
    title = escape(f"migcheck: {traces[0].spec}" if traces else "migcheck")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{STYLE}</style></head>
<body data-step="0">
<header>
<h1 id="title"></h1>
<div class="msg" id="msg"></div>
<div><select id="which"></select><button id="prev">&larr; back</button><button id="next">forward &rarr;</button>
<span id="pos"></span>
<span class="help">&nbsp; keys: &rarr; or j: forward, &larr; or k: back, Home/End: first/last step; click a row</span></div>
</header>
<main><div id="lanes"></div>
<div id="side"><div><div id="fileName"></div><div id="source"></div></div><div id="state"></div></div></main>
<script type="application/json" id="migcheck-data">{data}</script>
<script>{SCRIPT}</script>
</body></html>
"""
