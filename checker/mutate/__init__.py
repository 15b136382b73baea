"""Mutation testing of a spec's fixed scenarios (`migcheck mutate`).

A fixed scenario that verifies is only as good as the protocol edits it
would catch. This package makes the edits a patch could make to the locking
of the spec's code (drop a lock or an unlock, swap two acquisitions, turn a
trylock into a lock and back, drop a recheck, move an unlock earlier), checks
each mutant against the fixed scenarios, and reports which were killed, by
which violation, and which survived.

Why mutate the AST, not the IR. A mutant must be an edit a reviewer
recognises: "line 197: dropped spin_lock(&zs_class.lock)" is a change to
one call site of the spec's own code. In the IR that call is inlined, fused
with its neighbours into atomic steps and copied once per thread instance and
call path, so one source edit is many coordinated IR edits, and some have
no IR form at all: dropping a lock changes which local statements fuse with
which shared step; swapping two acquisitions or moving an unlock reorders
steps across program counters; replacing a trylock by a lock turns a branch
into a blocking step. Editing the AST and running the ordinary pipeline
(sema, lowering, fusion) gives every mutant the atomicity rule's exact
semantics for free, and the AST is immutable after parsing, so a mutant
shares every untouched node with the original (`syntax.rewrite`).

The IR still decides what is worth mutating. Lock operations are the
procedures with lock annotations (which lower to `LockEvent`s) and their
wrappers; an unmodified run of each fixed scenario records which actions
fired, and their `origins` (source statements with inlining call stacks) say
which call sites and conditions the scenario executes, which statements are
steps of their own, and which conditions are tested while the thread may
hold a lock (a data-flow over the `LockEvent`s of each thread's actions):
a mutant of code no scenario runs is not made, and a "recheck" is a test of
shared state made under a lock.

Modules: `locks` (which procedures are lock operations), `syntax` (AST walks
and copy-on-write rewriting), `irfacts` (what a scenario's run executes),
`operators` (the mutants), `harmless` (declarations in the spec), `runner`
(checking the mutants), `report` and `command` (the command line).
"""
