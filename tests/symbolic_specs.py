"""Hand-written specs that both symbolic engines are tested on
(tests/test_bmc.py, tests/test_prove.py): BMC and `prove` must answer the
same program consistently, so they share its text."""

# Two increments that both read 0: `both` fails after 4 steps (lost_update
# expects it; checked does not).
RACE = """\
int[0..3] g = 0;
thread inc() { int[0..3] l = 0; l = g; g = l + 1; }
final both: g == 2;
scenario lost_update { run inc(); run inc(); expect final both; }
scenario checked { run inc(); run inc(); }
"""

# The expected use-after-free takes b 4 steps; a's assert can fail after 3.
EXPECTED_AFTER_OTHER = """\
int[0..3] g = 0;
struct obj { int[0..3] v; };
pool struct obj objs[1];
thread a() { assert(g == 0, "early"); }
thread b() { struct obj *p = alloc(objs); g = 1; free(p); p->v = 1; }
scenario uaf { run a(); run b(); expect use_after_free; }
"""
