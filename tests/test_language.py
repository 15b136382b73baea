"""Every language feature: a program that uses it and checks as expected,
and a misuse that is rejected with a clear `file:line:col: error:` message."""

from __future__ import annotations

import re

import pytest

from checker.dsl.diagnostics import SpecError
from tests.conftest import errors, run


def assert_error(text: str, line: int, col: int, message: str) -> None:
    pattern = rf"spec\d+\.mig:{line}:{col}: error: {re.escape(message)}"
    assert re.search(pattern, text), text
    assert "^" in text  # the caret under the offending text
    assert "Traceback" not in text


# ---------------------------------------------------------------- syntax


def test_syntax_error_names_the_token_and_what_was_expected(spec_file):
    p = spec_file("int[0..3] x = 0\nthread t() { x = 1; }\n")
    text = errors(p)
    assert_error(text, 2, 1, "syntax error: expected ';' before 'thread'")


def test_unexpected_character(spec_file):
    p = spec_file("int[0..3] x = 0;\nthread t() { x = 1 @ 2; }\n")
    assert_error(errors(p), 2, 20, "syntax error: unexpected character '@'")


def test_integer_constants_read_as_in_c(spec_file):
    # 0x hexadecimal, a leading 0 octal (file modes, flag masks copied from
    # kernel source), suffixes ignored: 0x1F + 010 + 3UL + 0 = 31 + 8 + 3.
    p = spec_file("""
        int[0..63] x = 0x1F + 010 + 3UL + 0;
        thread t() { assert(x == 42); }
        scenario s { run t(); expect verified; }
    """)
    assert run(p).met


def test_an_invalid_octal_constant_is_an_error(spec_file):
    p = spec_file("int[0..9] x = 09;\nthread t() { }\nscenario s { run t(); }\n")
    assert_error(errors(p), 1, 15, "invalid integer constant '09' (a leading 0 makes it octal)")


def test_command_line_constants_read_as_in_c():
    from checker.sema.check import parse_override
    assert [parse_override(t) for t in ("N=010", "N=0x10", "N=-2", "N=true")] == [
        ("N", 8), ("N", 16), ("N", -2), ("N", 1)]
    with pytest.raises(SpecError, match="'09' is not an integer"):
        parse_override("N=09")


# ---------------------------------------------------------------- types


def test_bounded_int_store_out_of_range_is_a_violation(spec_file):
    p = spec_file("""
        int[0..2] x = 2;
        thread t() { x = x + 1; }
        scenario s { run t(); expect range; }
    """)
    r = run(p)
    assert r.met and r.violation is not None
    assert "x = 3 is outside 0..2" in r.violation.message


def test_bare_int_is_rejected(spec_file):
    p = spec_file("int x;\n")
    assert_error(errors(p), 1, 1, "'int' needs a range, e.g. int[0..3]")


def test_empty_range_is_rejected(spec_file):
    p = spec_file("int[3..1] x;\n")
    assert_error(errors(p), 1, 1, "empty integer range int[3..1]")


def test_enums_compare_and_print_by_name(spec_file):
    p = spec_file("""
        enum fg { ZS_EMPTY, ZS_ALMOST_EMPTY, ZS_FULL };
        enum fg g = ZS_EMPTY;
        thread t() { g = ZS_FULL; assert(g != ZS_FULL, "full"); }
        scenario s { run t(); expect assert "full"; }
    """)
    r = run(p)
    assert r.met


def test_enum_and_int_do_not_mix(spec_file):
    p = spec_file("""
        enum fg { A, B };
        enum fg g = A;
        thread t() { g = 1; }
        scenario s { run t(); }
    """)
    assert_error(errors(p), 4, 18, "cannot use a value of type 'int' as assignment of type 'enum fg'")


def test_arrays_index_and_bounds(spec_file):
    p = spec_file("""
        int[0..3] a[2];
        thread t() { int[0..3] i = 2; a[0] = 1; a[i] = 1; }
        scenario s { run t(); expect out_of_bounds; }
    """)
    r = run(p)
    assert r.met and r.violation is not None
    assert "index 2 out of bounds 0..1" in r.violation.message


def test_constant_index_out_of_bounds_is_a_compile_error(spec_file):
    p = spec_file("""
        int[0..3] a[2];
        thread t() { a[5] = 1; }
        scenario s { run t(); }
    """)
    assert_error(errors(p), 3, 16, "index 5 is out of bounds 0..1")


def test_struct_fields_and_unknown_field(spec_file):
    p = spec_file("""
        struct pair { int[0..3] a; bool b; };
        struct pair p;
        thread t() { p.a = 2; p.c = true; }
        scenario s { run t(); }
    """)
    assert_error(errors(p), 4, 23, "'struct pair' has no field 'c' (fields: a, b)")


def test_word_field_store_is_one_read_modify_write(spec_file):
    """Two threads set different bits of one word with single statements:
    each store is an atomic read-modify-write, so both bits survive."""
    p = spec_file("""
        word flags { bool A; bool B; };
        word flags f;
        thread set_a() { f.A = true; }
        thread set_b() { f.B = true; }
        final both_set: f.A && f.B;
        scenario s { run set_a(); run set_b(); expect verified; }
    """)
    assert run(p).met


def test_non_atomic_word_update_loses_a_bit(spec_file):
    """The same with __set_bit(): load the word, set the bit, store it back.
    The other thread's store in between is lost."""
    p = spec_file("""
        word flags { bool A; bool B; };
        word flags f;
        thread set_a() { word flags w = f; w.A = true; f = w; }
        thread set_b() { word flags w = f; w.B = true; f = w; }
        final both_set: f.A && f.B;
        scenario s { run set_a(); run set_b(); expect final both_set; }
    """)
    r = run(p)
    assert r.met and r.violation is not None and r.violation.name == "both_set"


def test_word_cannot_hold_an_array(spec_file):
    p = spec_file("word w { int[0..1] a[2]; };\n")
    assert_error(errors(p), 1, 10, "a word holds scalar fields only, not 'int[0..1][2]'")


# ---------------------------------------------------------------- pools


def test_alloc_returns_null_when_the_pool_is_full(spec_file):
    p = spec_file("""
        struct obj { int[0..1] v; };
        pool struct obj objs[1];
        thread t() {
            struct obj *a = alloc(objs);
            struct obj *b = alloc(objs);
            assert(a != null, "first");
            assert(b == null, "second is null");
        }
        scenario s { run t(); }
    """)
    assert run(p).met


def test_use_after_free_is_a_violation(spec_file):
    p = spec_file("""
        struct obj { int[0..1] v; };
        pool struct obj objs[1];
        thread t() { struct obj *a = alloc(objs); free(a); a->v = 1; }
        scenario s { run t(); expect use_after_free; }
    """)
    r = run(p)
    assert r.met and r.violation is not None
    assert r.violation.message == "write objs[0] after it was freed"


def test_double_free_is_a_violation(spec_file):
    p = spec_file("""
        struct obj { int[0..1] v; };
        pool struct obj objs[1];
        thread t() { struct obj *a = alloc(objs); free(a); free(a); }
        scenario s { run t(); expect double_free; }
    """)
    assert run(p).met


def test_null_dereference_is_a_violation(spec_file):
    p = spec_file("""
        struct obj { int[0..1] v; };
        pool struct obj objs[1];
        struct obj *g = null;
        thread t() { g->v = 1; }
        scenario s { run t(); expect null_deref; }
    """)
    assert run(p).met


def test_two_pools_of_one_type_are_rejected(spec_file):
    p = spec_file("""
        struct obj { int[0..1] v; };
        pool struct obj a[1];
        pool struct obj b[1];
    """)
    assert_error(errors(p), 4, 1, "'struct obj' objects already live in pool 'a'")


def test_pointer_outside_any_pool_cannot_be_stored(spec_file):
    p = spec_file("""
        struct lock { bool held; };
        struct lock *l;
    """)
    assert_error(errors(p), 3, 1, "a global of type 'struct lock *' points outside any pool")


def test_freed_object_fields_are_reset(spec_file):
    """Freeing resets an object's fields, so freed objects do not multiply states."""
    p = spec_file("""
        struct obj { int[0..3] v; };
        pool struct obj objs[1];
        thread t() { struct obj *a = alloc(objs); a->v = 3; free(a); }
        scenario s { run t(); }
    """)
    r = run(p)
    # start; after alloc; after a->v = 3; after free+end. The first and last
    # differ only in... nothing: the object is free with v = 0 again, and the
    # thread finished (locals reset): 4 distinct states.
    assert r.stats.states == 4


# ---------------------------------------------------------------- variables


def test_thread_local_variables_are_per_thread(spec_file):
    p = spec_file("""
        thread_local int[0..1] mine = 0;
        int[0..2] sum = 0;
        thread t() { mine = 1; sum = sum + mine; }
        final counted: sum == 2;
        scenario s { run t(); run t(); expect verified; }
    """)
    assert run(p).met


def test_constants_fold_and_can_be_overridden(spec_file):
    p = spec_file("""
        const N = 2;
        int[0..N] x = 0;
        thread t() { x = N; }
        final at_n: x == 2;
        scenario s { run t(); expect verified; }
    """)
    assert run(p).met
    r = run(p, overrides={"N": 3})
    assert r.violation is not None and r.violation.name == "at_n"


def test_unknown_override_is_rejected(spec_file):
    p = spec_file("""
        thread t() { }
        scenario s { run t(); }
    """)
    with pytest.raises(Exception) as info:
        run(p, overrides={"NOPE": 1})
    assert "-D NOPE: no constant or option of that name" in str(info.value)


def test_options_select_code_at_compile_time(spec_file):
    """`if (option)` is resolved when the variant is built: no step for it,
    and the branch not taken is not part of the model."""
    p = spec_file("""
        option fixed = true;
        int[0..1] x = 0;
        thread t() { if (fixed) x = 1; else x = 0; }
        final set: x == 1;
        scenario good { run t(); expect verified; }
        scenario bad { option fixed = false; run t(); expect final set; }
    """)
    good = run(p, "good")
    assert good.met and good.stats.states == 2
    assert run(p, "bad").met


def test_scenario_cannot_set_a_constant(spec_file):
    p = spec_file("""
        const N = 1;
        thread t() { }
        scenario s { option N = 2; run t(); }
    """)
    assert_error(errors(p), 4, 14, "'N' is a constant; scenarios set options")


def test_unknown_name(spec_file):
    p = spec_file("""
        thread t() { y = 1; }
        scenario s { run t(); }
    """)
    assert_error(errors(p), 2, 14, "unknown name 'y'")


def test_several_errors_are_reported_together(spec_file):
    p = spec_file("""
        thread t() { y = 1; z = 2; }
        scenario s { run t(); }
    """)
    text = errors(p)
    assert "unknown name 'y'" in text and "unknown name 'z'" in text


# ---------------------------------------------------------------- statements


def test_goto_and_labels_for_error_paths(spec_file):
    p = spec_file("""
        int[0..3] x = 0;
        thread t() {
            x = 1;
            if (x == 1)
                goto out;
            x = 2;
        out:
            x = 3;
        }
        final done: x == 3;
        scenario s { run t(); expect verified; }
    """)
    assert run(p).met


def test_goto_to_a_missing_label(spec_file):
    p = spec_file("""
        thread t() { goto nowhere; }
        scenario s { run t(); }
    """)
    assert_error(errors(p), 2, 14, "no label 'nowhere' in t")


def test_while_for_break_continue(spec_file):
    p = spec_file("""
        int[0..9] total = 0;
        thread t() {
            int[0..5] i;
            for (i = 0; i < 5; i++) {
                if (i == 1) continue;
                if (i == 4) break;
                total = total + i;
            }
            while (total < 9) total = total + 1;
        }
        final nine: total == 9;
        scenario s { run t(); expect verified; }
    """)
    assert run(p).met


def test_break_outside_a_loop(spec_file):
    p = spec_file("""
        thread t() { break; }
        scenario s { run t(); }
    """)
    assert_error(errors(p), 2, 14, "'break' outside a loop")


def test_procedures_with_parameters_and_return_values(spec_file):
    p = spec_file("""
        int[0..7] x = 0;
        int[0..7] twice(int[0..3] v) { return v + v; }
        bool is_big(int[0..7] v) { return v > 4; }
        thread t() {
            x = twice(3);
            if (!is_big(x)) x = 0;
        }
        final six: x == 6;
        scenario s { run t(); expect verified; }
    """)
    assert run(p).met


def test_recursion_is_rejected(spec_file):
    p = spec_file("""
        void f() { g(); }
        void g() { f(); }
        thread t() { f(); }
        scenario s { run t(); }
    """)
    assert "recursive procedures are not supported" in errors(p)


def test_by_reference_parameter_binds_at_the_call(spec_file):
    p = spec_file("""
        struct box { int[0..3] v; };
        pool struct box boxes[2];
        struct counter { int[0..3] n; };
        struct holder { struct counter c; };
        struct holder hs[2];
        void bump(struct counter *c) { c->n = c->n + 1; }
        thread t() { bump(&hs[1].c); bump(&hs[1].c); }
        final two: hs[1].c.n == 2 && hs[0].c.n == 0;
        scenario s { run t(); expect verified; }
    """)
    assert run(p).met


def test_by_reference_parameter_cannot_be_stored(spec_file):
    p = spec_file("""
        struct counter { int[0..3] n; };
        bool same(struct counter *c) { struct counter *d = c; return true; }
    """)
    text = errors(p)
    assert "points outside any pool" in text


def test_atomic_blocks_loop_only_a_constant_number_of_times(spec_file):
    p = spec_file("""
        int[0..3] x;
        thread t() { atomic { while (x < 3) x++; } }
        scenario s { run t(); }
    """)
    assert_error(errors(p), 3, 23, "a loop inside an atomic block must count with a constant: "
                                   "for (int[LO..HI] i = A; i < B; i++) { ... }")


def test_await_blocks_and_deadlock_is_found(spec_file):
    p = spec_file("""
        bool a = false;
        bool b = false;
        thread t1() { await a; b = true; }
        thread t2() { await b; a = true; }
        scenario s { run t1(); run t2(); expect deadlock; }
    """)
    r = run(p)
    assert r.met and r.violation is not None
    assert "t1() at line 4" in r.violation.message


def test_spinning_forever_is_found(spec_file):
    p = spec_file("""
        bool flag = false;
        thread spinner() { while (!flag) { } }
        scenario s { run spinner(); expect deadlock; }
    """)
    r = run(p)
    assert r.met and r.violation is not None
    assert "spin forever" in r.violation.message


def test_asserts_are_named_by_their_message(spec_file):
    p = spec_file("""
        int[0..1] x = 0;
        thread t() { x = 1; assert(x == 0, "x stays zero"); }
        scenario s { run t(); expect assert "x stays zero"; }
    """)
    r = run(p)
    assert r.met and r.violation is not None
    assert r.violation.name == "x stays zero"


def test_start_runs_a_thread_later(spec_file):
    p = spec_file("""
        int[0..2] done = 0;
        thread worker(int[0..2] v) { done = v; }
        thread t() { start worker(2); }
        final ran: done == 2;
        scenario s { run t(); expect verified; }
    """)
    assert run(p).met


def test_starting_more_threads_than_slots(spec_file):
    p = spec_file("""
        thread worker() { }
        thread t() { start worker(); start worker(); }
        scenario s { run t(); expect thread_limit; }
        scenario two { run t(); max worker 2; expect verified; }
    """)
    assert run(p, "s").met
    assert run(p, "two").met


def test_invariant_violation(spec_file):
    p = spec_file("""
        int[0..3] x = 0;
        thread t() { x = 2; x = 0; }
        invariant small: x < 2;
        scenario s { run t(); expect invariant small; }
    """)
    r = run(p)
    assert r.met and r.violation is not None and len(r.violation.path) == 2


def test_on_exit_property_catches_a_leaked_lock(spec_file):
    p = spec_file("""
        import "spinlock";
        spinlock_t l;
        thread t() { spin_lock(&l); }
        scenario s { run t(); expect on_exit lock_held_at_exit; }
    """)
    assert run(p).met


def test_sleeping_in_atomic_context(spec_file):
    p = spec_file("""
        import "spinlock";
        import "mutex";
        spinlock_t l;
        struct mutex m;
        thread t() { spin_lock(&l); mutex_lock(&m); mutex_unlock(&m); spin_unlock(&l); }
        scenario s { run t(); expect assert "sleeping in atomic context"; }
    """)
    assert run(p).met


def test_unlock_of_a_lock_not_held(spec_file):
    p = spec_file("""
        import "spinlock";
        spinlock_t l;
        thread t() { spin_unlock(&l); }
        scenario s { run t(); expect assert "spin_unlock of a lock not held"; }
    """)
    assert run(p).met


def test_cover_must_be_reached(spec_file):
    p = spec_file("""
        int[0..1] x = 0;
        thread t() { if (x == 1) cover("x was one"); }
        scenario s { run t(); }
    """)
    r = run(p)
    assert r.verdict == "verified"
    assert [c.message for c in r.uncovered] == ["x was one"]
    assert r.status == "vacuous" and not r.met


def test_unexecuted_statements_are_listed(spec_file):
    p = spec_file("""
        int[0..1] x = 0;
        thread t() {
            if (x == 1)
                x = 0;
        }
        scenario s { run t(); }
    """)
    r = run(p)
    assert [o.span.line for o in r.unexecuted] == [5]


def test_expect_names_an_existing_property(spec_file):
    p = spec_file("""
        thread t() { }
        scenario s { run t(); expect invariant nope; }
    """)
    assert_error(errors(p), 3, 23, "no invariant property 'nope'")


def test_import_of_a_missing_module(spec_file):
    p = spec_file('import "no_such_module";\n')
    text = errors(p)
    assert ":1:8: error: cannot find module 'no_such_module'" in text


# ---------------------------------------------------------------- misuse table

MISUSES = [
    # (spec text, line, column, message)
    ("thread t() { int[0..1] x = choose(0..1) + 1; }\nscenario s { run t(); }\n",
     1, 28, "'choose' must be the whole right-hand side of an assignment"),
    ("struct o { bool b; };\npool struct o os[1];\nthread t() { struct o *p; p = alloc(nope); }\n"
     "scenario s { run t(); }\n", 3, 31, "unknown pool 'nope'"),
    ("thread t() { free(1); }\nscenario s { run t(); }\n",
     1, 19, "free() takes a reference to a pool object, not 'int'"),
    ("thread t() { start nope(); }\nscenario s { run t(); }\n", 1, 14, "unknown thread 'nope'"),
    ("thread t() { }\nscenario s { run t(1); }\n", 2, 14, "'t' takes 0 argument(s), not 1"),
    ("thread t() { }\nscenario s { run u(); }\n", 2, 14, "unknown thread 'u'"),
    ("thread t() { }\nscenario s { run t(); max u 2; }\n", 2, 23, "unknown thread 'u'"),
    ("thread t() { }\nscenario s { run t(); expect crash; }\n", 2, 23, "unknown expectation 'crash'"),
    ("thread t() { }\nscenario s { }\n", 2, 1, "scenario 's' runs no thread"),
    ("int[0..1] x;\ninvariant i: current == 1;\n", 2, 14,
     "'current' is not defined in an invariant property"),
    ("thread_local int[0..1] x;\ninit { x = 1; }\n", 2, 8,
     "thread-local 'x' is not defined in an init block"),
    ("thread t() { int[0..1] y; }\ninvariant i: forall(p in nope: true);\n", 2, 14,
     "unknown pool 'nope'"),
    ("int[0..1] x;\nfinal f: forall(i in 0..x: i == 0);\n", 2, 25,
     "a quantifier bound must be a constant: 'x' is not a constant"),
    ("void f() __frobs(x) { }\n", 1, 10, "unknown annotation '__frobs'"),
    ("void f(bool a) __acquires(b) { }\n", 1, 16, "__acquires() names one parameter of 'f'"),
    ("unknown_t x;\n", 1, 1, "syntax error: unexpected 'unknown_t'"),
    ("struct nope *p;\n", 1, 1, "unknown struct 'nope'"),
    ("enum e { A };\nenum e { B };\n", 2, 1, "enum 'e' is already declared"),
    ("int[0..1] x;\nint[0..1] x;\n", 2, 1, "'x' is already declared"),
    ("thread t() { int[0..1] v; v = t(); }\nscenario s { run t(); }\n", 1, 31,
     "'t' is a thread: use 'start t(...)'"),
    ("int[0..1] f() { return 1; }\nthread t() { f = 1; }\nscenario s { run t(); }\n", 2, 14,
     "'f' is a procedure, not a value"),
    ("bool f() { }\nthread t() { bool b = f(); }\nscenario s { run t(); }\n", 1, 10,
     "'f' can reach its end without returning a value"),
    ("void f() { return 1; }\n", 1, 19, "'f' returns no value"),
    ("int[0..1] f() { return; }\n", 1, 17, "'f' must return a value of type 'int[0..1]'"),
    ("thread t() { atomic { int[0..1] i; for (i = 0; i < 1; i++) { } } }\n"
     "scenario s { run t(); }\n", 1, 36, "a loop inside an atomic block must count with a constant"),
    ("thread t() { continue; }\nscenario s { run t(); }\n", 1, 14, "'continue' outside a loop"),
    ("thread t() { a: ; a: ; }\nscenario s { run t(); }\n", 1, 19, "duplicate label 'a'"),
    ("struct s { struct s inner; };\n", 1, 1, "struct 's' contains itself"),
    ("pool bool bs[2];\n", 1, 6, "a pool holds struct objects, not 'bool'"),
    ("struct o { bool b; };\npool struct o os[0];\n", 2, 18, "a pool needs at least one object"),
    ("int[0..1] a[0];\n", 1, 13, "array size must be positive, not 0"),
    ("option o = true;\nconst C = 1;\nthread t() { }\nscenario s { option nope = true; run t(); }\n",
     4, 14, "no option 'nope'"),
    ("int[0..1] x;\nthread t() { x = true; }\nscenario s { run t(); }\n", 2, 18,
     "cannot use a value of type 'bool' as assignment of type 'int[0..1]'"),
    ("bool b;\nthread t() { b = b + 1; }\nscenario s { run t(); }\n", 2, 18,
     "'+' needs integer operands, not 'bool'"),
    ("struct o { bool b; };\npool struct o os[1];\nthread t() { struct o *p; p.b = true; }\n"
     "scenario s { run t(); }\n", 3, 27, "'struct o *' is a pointer: use '->'"),
    ("struct o { bool b; };\nstruct o g;\nthread t() { g->b = true; }\nscenario s { run t(); }\n",
     3, 14, "'->' needs a pointer, not 'struct o'; use '.'"),
    ("thread t() { int[0..1] x = 1; x(); }\nscenario s { run t(); }\n", 1, 31,
     "unknown procedure 'x'"),
    ("int[0..1] x;\nthread t() { &x; }\nscenario s { run t(); }\n", 2, 16,
     "syntax error: unexpected ';'"),
]


@pytest.mark.parametrize(("text", "line", "col", "message"), MISUSES,
                         ids=[m[3][:40] for m in MISUSES])
def test_misuse_is_reported_where_it_is(spec_file, text, line, col, message):
    assert_error(errors(spec_file(text)), line, col, message)


def test_several_syntax_errors_in_one_pass(spec_file):
    p = spec_file("int[0..3] x = 0\nthread t() { x = 1 }\nscenario s { run t() }\n")
    text = errors(p)
    assert_error(text, 2, 1, "syntax error: expected ';' before 'thread'")
    assert_error(text, 2, 20, "syntax error: expected ';' before '}'")
    assert_error(text, 3, 22, "syntax error: expected ';' before '}'")


def test_constants_may_use_constants_declared_later(spec_file):
    """A model's constant can depend on one its importing spec defines."""
    p = spec_file("""
        const N = M + 1;
        const M = 2;
        int[0..N] x = N;
        final three: x == 3;
        thread t() { }
        scenario s { run t(); expect verified; }
    """)
    assert run(p).met


def test_constant_cycle_is_reported(spec_file):
    p = spec_file("const A = B;\nconst B = A;\n")
    assert "constant 'A' depends on itself (A -> B -> A)" in errors(p)


def test_assert_with_calls_under_and_short_circuits(spec_file):
    """assert(f() && g()): g runs only if f holds, as in C; a false f fails."""
    p = spec_file("""
        option f_holds = false;
        int[0..3] calls = 0;
        bool f() { calls = calls + 1; return f_holds; }
        bool g() { calls = calls + 2; return true; }
        thread t() { assert(f() && g(), "both hold"); }
        final g_ran_iff_f_held: calls == (f_holds ? 3 : 1);
        scenario fails { run t(); expect assert "both hold"; }
        scenario holds { option f_holds = true; run t(); expect verified; }
    """)
    r = run(p, "fails")
    assert r.met and r.violation is not None
    assert r.violation.steps == 1  # f's step, which fails the assert; g never ran
    assert run(p, "holds").met


def test_identifiers_that_start_like_keywords(spec_file):
    """`counter`, `finally`, `statics`, `existsx`, `invariants` are names."""
    p = spec_file("""
        typedef int[0..3] finalize_t;
        int[0..3] counter = 0;
        int[0..3] invariants = 0;
        finalize_t statics = 0;
        bool existsx = false;
        int[0..3] inline_count(int[0..3] forall_n) { return forall_n; }
        thread t() { counter = inline_count(2); statics = counter; existsx = true; }
        final all: counter == 2 && statics == 2 && existsx && invariants == 0;
        scenario s { run t(); expect verified; }
    """)
    assert run(p).met



def test_none_is_the_tid_of_no_thread(spec_file):
    """README: `tid` values are `current` and `none` (0), in code and in
    properties alike."""
    from tests.conftest import run

    r = run(spec_file("""
        tid owner = none;
        thread t() { owner = current; assert(owner != none, "set"); owner = none; }
        invariant sane: owner == none || owner == 1;
        final released: owner == none;
        scenario s { run t(); }
    """))
    assert r.verdict == "verified"
    bad = run(spec_file("""
        tid owner = none;
        thread t() { owner = current; }
        final released: owner == none;
        scenario s { run t(); expect final released; }
    """))
    assert bad.violation is not None and bad.violation.kind == "final"
