"""Bit-vector lemmas: the language extension, z3's proofs and witnesses, and
the zsmalloc location encoding (models/zsmalloc_encoding.mig)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from checker.dsl.diagnostics import SpecError
from checker.dsl.loader import load_program
from checker.ir.lemma import Lemma, build_lemmas
from checker.symbolic.lemma import LemmaResult, prove_lemma
from tests.conftest import ROOT

ENCODING = ROOT / "models" / "zsmalloc_encoding.mig"


def lemmas(path: Path, overrides: dict[str, int] | None = None) -> dict[str, Lemma]:
    return {lm.name: lm for lm in build_lemmas(load_program(path), overrides)}


def proved(path: Path, name: str, overrides: dict[str, int] | None = None) -> LemmaResult:
    return prove_lemma(lemmas(path, overrides)[name])


def lemma_errors(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        build_lemmas(load_program(path))
    return info.value.render()


def assert_error(text: str, line: int, col: int, message: str) -> None:
    pattern = rf"spec\d+\.mig:{line}:{col}: error: {re.escape(message)}"
    assert re.search(pattern, text), text
    assert "^" in text
    assert "Traceback" not in text


# ---------------------------------------------------------------- proofs and witnesses


def test_a_true_lemma_is_proved(spec_file):
    p = spec_file("""
        lemma halves(bits[8] x) {
            assert(((x & 0xf0) | (x & 0x0f)) == x, "the two nibbles make the byte");
        }
    """)
    r = proved(p, "halves")
    assert r.verdict == "proved" and r.status == "met"
    assert [g.verdict for g in r.goals] == ["proved"]


def test_a_false_lemma_has_a_witness(spec_file):
    p = spec_file("""
        lemma no_wrap(bits[8] x) {
            bits[8] y = x + 1;
            assert(y > x, "x + 1 is larger");
        }
    """)
    r = proved(p, "no_wrap")
    assert r.verdict == "fails" and r.status == "unmet"
    failure = r.failure
    assert failure is not None and failure.step.name == "x + 1 is larger"
    # Only x = 255 wraps; the witness shows the definition too.
    assert failure.witness == [("x", 8, 255), ("y", 8, 0)]


def test_assumptions_and_earlier_asserts_are_facts(spec_file):
    p = spec_file("""
        lemma bounded(bits[8] x) {
            assume(x < 200);
            assert(x + 1 > x);
            assert(x + 50 > x, "uses only the assumption");
        }
    """)
    assert proved(p, "bounded").verdict == "proved"


def test_widths_zero_extend_and_constants_wrap(spec_file):
    p = spec_file("""
        lemma mix(bits[4] a, bits[8] b) {
            assert((b | a) >= a, "a is zero-extended to 8 bits");
            assert((b & ~1) % 2 == 0, "~1 is 0xfe at 8 bits");
            assert(a <= 15);
        }
    """)
    assert proved(p, "mix").verdict == "proved"


def test_a_shift_by_a_variable_must_stay_below_the_width(spec_file):
    p = spec_file("""
        lemma shift(bits[8] x, bits[8] n) {
            assert((x << n) >> n <= x);
        }
        lemma shift_bounded(bits[8] x, bits[8] n) {
            assume(n < 8);
            assert((x << n) >> n <= x);
        }
    """)
    r = proved(p, "shift")
    assert r.verdict == "fails"
    f = r.failure
    assert f is not None and f.step.kind == "check"
    assert "a shift by 8 or more (undefined in C)" in f.step.name
    assert dict((n, v) for n, _w, v in f.witness)["n"] >= 8
    assert proved(p, "shift_bounded").verdict == "proved"


def test_a_division_by_a_variable_must_not_be_by_zero(spec_file):
    p = spec_file("""
        lemma div(bits[8] x, bits[8] d) {
            assert(x / d <= x);
        }
    """)
    r = proved(p, "div")
    assert r.failure is not None and r.failure.step.kind == "check"
    assert dict((n, v) for n, _w, v in r.failure.witness)["d"] == 0


def test_contradicting_assumptions_fail_instead_of_holding_vacuously(spec_file):
    p = spec_file("""
        lemma vacuous(bits[8] x) {
            assume(x > 10);
            assume(x < 5);
            assert(x == 7);
        }
    """)
    r = proved(p, "vacuous")
    assert r.vacuous and r.verdict == "fails"


def test_expect_fails_and_lemma_options(spec_file):
    p = spec_file("""
        option W = 16;
        const TOP = (1 << (W - 1));
        lemma fits(bits[W] x) {
            assume(x < TOP);
            assert(x + x >= x, "doubling does not wrap");
        }
        lemma narrow(bits[W] x) {
            option W = 8;
            assert(x + 200 >= x, "adding 200 does not wrap");
            expect fails;
        }
    """)
    got = lemmas(p)
    assert got["fits"].bindings == {} and got["narrow"].bindings == {"W": 8}
    assert got["narrow"].params[0].width == 8
    r = prove_lemma(got["narrow"])
    assert r.verdict == "fails" and r.status == "met"
    assert dict((n, v) for n, _w, v in r.failure.witness)["x"] >= 56
    assert prove_lemma(got["fits"]).status == "met"
    # The command line overrides a lemma's own option.
    assert lemmas(p, {"W": 12})["narrow"].params[0].width == 12


# ---------------------------------------------------------------- errors


def test_a_constant_that_does_not_fit_is_an_error(spec_file):
    p = spec_file("lemma big(bits[8] x) {\n    assert(x != 300);\n}\n")
    assert_error(lemma_errors(p), 2, 12, "the constant 300 does not fit in 8 bits")


def test_a_constant_shift_by_the_width_is_an_error(spec_file):
    p = spec_file("lemma sh(bits[8] x) {\n    assert((x << 8) == 0);\n}\n")
    assert_error(lemma_errors(p), 2, 18,
                 "shifting a 8-bit value by 8 is undefined in C (the amount must be 0..7)")


def test_a_wider_value_needs_a_mask(spec_file):
    p = spec_file("lemma w(bits[16] x) {\n    bits[8] y = x;\n    assert(y == y);\n}\n")
    assert_error(lemma_errors(p), 2, 17,
                 "the value of 'y' is bits[16], wider than bits[8]: mask it first")


def test_a_lemma_sees_only_its_variables_and_constants(spec_file):
    p = spec_file("int[0..3] g = 0;\nlemma l(bits[8] x) {\n    assert(x != g);\n}\n")
    assert_error(lemma_errors(p), 3, 17,
                 "a lemma sees its own variables and constants, not 'g'")


def test_lemma_misuses(spec_file):
    p = spec_file("""\
const C = 1;
lemma a(bits[0] x) { assert(true); }
lemma b(bits[8] x) { assume(x > 1); }
lemma c(bits[8] x) { option C = 2; assert(x == x); expect verified; }
lemma c(bits[8] x) { assert(x == x); }
""")
    text = lemma_errors(p)
    assert_error(text, 2, 14, "a bit width must be 1..1024, not 0")
    assert_error(text, 3, 1, "lemma 'b' asserts nothing")
    assert_error(text, 4, 22, "'C' is a constant; lemmas set options, and the command line "
                              "sets both (-D C=...)")
    assert_error(text, 4, 52, "a lemma expects 'proved' or 'fails', not 'verified'")
    assert_error(text, 5, 1, "lemma 'c' is already declared")


def test_lemma_variables_must_be_bits(spec_file):
    p = spec_file("lemma l(int x) {\n    assert(true);\n}\n")
    text = lemma_errors(p)
    assert re.search(r"spec\d+\.mig:1:9: error: syntax error", text), text


def test_bits_stays_an_ordinary_name_outside_lemmas(spec_file):
    p = spec_file("""
        word zb { int[0..3] fullness; };
        struct zspage { word zb bits; };
        struct zspage z;
        thread t() { z.bits.fullness = 2; }
        scenario s { run t(); }
    """)
    from tests.conftest import run

    assert run(p).verdict == "verified"


# ---------------------------------------------------------------- the zsmalloc encoding


def test_zsmalloc_encoding_lemmas_meet_their_expectations():
    results = {lm.name: prove_lemma(lm) for lm in build_lemmas(load_program(ENCODING))}
    assert set(results) == {"location_roundtrip", "pin_bit_outside_location", "header_tag",
                            "index_overflows_without_min_alloc_floor"}
    assert all(r.status == "met" for r in results.values())
    overflow = results["index_overflows_without_min_alloc_floor"]
    # 32-bit x86 with PAE: OBJ_INDEX_BITS = 32 - (36 - 12) - 1 = 7, so an index
    # of 128..511 (512 objects of 32 bytes in a 4-page zspage) loses its top bits.
    assert overflow.lemma.consts["OBJ_INDEX_BITS"] == 7
    f = overflow.failure
    assert f is not None and f.step.name == "obj_to_location gives back the object index"
    assert 128 <= dict((n, v) for n, _w, v in f.witness)["obj_idx"] <= 511


@pytest.mark.parametrize(("bits_per_long", "page_shift", "physmem_bits"), [
    (64, 12, 46),  # x86_64
    (64, 16, 48),  # 64K pages, 48-bit physical addresses
    (32, 12, 36),  # 32-bit x86 with PAE (CONFIG_HIGHMEM64G)
    (32, 12, 32),  # zsmalloc's fallback: MAX_PHYSMEM_BITS = BITS_PER_LONG
])
def test_zsmalloc_encoding_holds_for_each_configuration(bits_per_long, page_shift, physmem_bits):
    overrides = {"BITS_PER_LONG": bits_per_long, "PAGE_SHIFT": page_shift,
                 "MAX_PHYSMEM_BITS": physmem_bits}
    got = lemmas(ENCODING, overrides)
    for name in ("location_roundtrip", "pin_bit_outside_location", "header_tag"):
        r = prove_lemma(got[name])
        assert r.verdict == "proved", (name, overrides, r.failure)


def test_prove_command_on_the_encoding_model():
    proc = subprocess.run([sys.executable, "-m", "checker", "prove", str(ENCODING)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "lemma location_roundtrip: proved for every value: as expected" in out
    assert re.search(r"index_overflows_without_min_alloc_floor \(BITS_PER_LONG=32, "
                     r"MAX_PHYSMEM_BITS=36\): FAILS: as expected", out), out
    assert re.search(r"witness: pfn = 0x[0-9a-f]+ \(\d+\), obj_idx = 0x[0-9a-f]+ \(\d+\)", out)


def test_check_on_a_lemma_only_spec_points_to_prove():
    proc = subprocess.run([sys.executable, "-m", "checker", "check", str(ENCODING)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 2
    assert "the spec has no scenario: only lemmas: prove them with 'migcheck prove'" \
        in proc.stderr


def test_page_mapping_flag_lemmas():
    path = ROOT / "models" / "page_mapping_encoding.mig"
    for bits in (64, 32):
        results = {lm.name: prove_lemma(lm)
                   for lm in build_lemmas(load_program(path), {"BITS_PER_LONG": bits})}
        assert all(r.status == "met" for r in results.values()), results
        f = results["two_byte_aligned_mapping_collides"].failure
        assert f is not None
        mapping = dict((n, v) for n, _w, v in f.witness)["mapping"]
        assert mapping & 0b11 == 0b10  # the pointer's own bit 1 is taken for the flag
