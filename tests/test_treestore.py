"""The tree-compressed state store (checker/vm/treestore.py) against a dict:
the same states are new, the same index comes back for a state seen before,
and every index gives back its state, whatever the width and the growth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.vm.treestore import LEAF, NODE, ROOT, TreeShape, TreeStore


@pytest.mark.parametrize("words", range(1, 41))
def test_every_input_feeds_exactly_one_node(words: int) -> None:
    """Each word, and each node's id below the root, is read by exactly one
    node; the root reads the rest; padding appears only for one word."""
    shape = TreeShape.of(words)
    inputs = shape.left.tolist() + shape.right.tolist()
    used = [i for i in inputs if i >= 0]
    assert sorted(used) == list(range(words + shape.nodes - 1))
    assert inputs.count(-1) == (1 if words == 1 else 0)
    assert shape.table[-1] == ROOT
    for i in range(shape.nodes - 1):
        both_ids = min(shape.left[i], shape.right[i]) >= words
        assert shape.table[i] == (NODE if both_ids else LEAF)


def _check_against_dict(words: int, states: list[list[int]]) -> TreeStore:
    store = TreeStore(words)
    seen: dict[tuple[int, ...], int] = {}
    for s in states:
        index, new = store.put(np.array(s, dtype=np.int64))
        key = tuple(s)
        if key in seen:
            assert (index, new) == (seen[key], False)
        else:
            assert (index, new) == (len(seen), True)
            seen[key] = index
    assert store.states == len(seen)
    for key, index in seen.items():
        assert tuple(store.get(index).tolist()) == key
    return store


WORD = st.integers(min_value=0, max_value=2**63 - 1)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=9).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.lists(st.sampled_from([0, 1, 2**62, 2**63 - 1])
                                                      | WORD, min_size=n, max_size=n),
                                             max_size=60))))
def test_random_states_against_a_dict(case: tuple[int, list[list[int]]]) -> None:
    words, states = case
    _check_against_dict(words, states + states[::3])  # with repeats


@pytest.mark.parametrize("words", [1, 2, 3, 5, 12])
def test_states_that_differ_in_one_word_only(words: int) -> None:
    """Every word of the key takes part in the comparison: two states equal
    but in one word (either half of a pair, any position) are two states."""
    base = [7] * words
    states = [base]
    for k in range(words):
        for v in (0, 8, 2**40 + 7):
            s = list(base)
            s[k] = v
            states.append(s)
    _check_against_dict(words, states)


def test_growth_keeps_every_state() -> None:
    """Past several doublings of every table (1,024 entries at first)."""
    rng = np.random.default_rng(5)
    choices = rng.integers(0, 2**62, size=(6, 40))
    states = [[int(choices[k, rng.integers(0, 40)]) for k in range(6)] for _ in range(20_000)]
    store = _check_against_dict(6, states)
    assert len(store.keys[ROOT]) >= 16_384


def test_shared_parts_cost_no_new_entry() -> None:
    """A product of components: after the first state, a new state that
    recombines halves already stored costs its root entry only."""
    store = TreeStore(4)
    halves = [(1, 2), (3, 4), (5, 6)]
    for a in halves:
        for b in halves:
            store.put(np.array([*a, *b], dtype=np.int64))
    assert store.states == 9
    assert int(store.count[LEAF]) == 3  # each half once, whichever side it is on
    assert store.keys[ROOT].shape[1] == 1  # the root pairs two ids in one word
    # 9 roots of 8 bytes, 3 leaf pairs of 16, no node pair, and the three
    # hash indexes of 2,048 int32 slots (1,024 entries at most 3/4 full)
    assert store.used_bytes() == 9 * 8 + 3 * 16 + 3 * 2048 * 4
