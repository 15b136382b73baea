"""Lowering of lvalues and expressions (calls already hoisted)."""

from __future__ import annotations

from dataclasses import replace

from checker.dsl import ast
from checker.dsl.diagnostics import Span
from checker.ir.astwalk import is_location
from checker.ir.fold import fold
from checker.ir.lower_base import LowererBase
from checker.ir.micro import LV
from checker.ir.nodes import FALSE, TRUE, Binary, Const, Dyn, Expr, FieldOf, Ite, Loc, Read, Unary
from checker.sema.symbols import ConstSym, EnumMemberSym, LocalSym, PoolSym, QuantVarSym
from checker.sema.types import ArrayType, BoolType, PtrType, StructType


class ExprLowerer(LowererBase):
    """Lvalues and expressions."""

    # ------------------------------------------------------------ lvalues
    def lvalue(self, e: ast.Expr) -> LV:
        el = self.el
        if isinstance(e, ast.Name):
            sym = el.refs[e]
            got = self.lookup(sym, e.span)
            if not isinstance(got, LV):
                raise self.error(e.span, "not a location")
            return got
        if isinstance(e, ast.Member):
            base = self.deref(e.base) if e.arrow else self.lvalue(e.base)
            st = base.type
            assert isinstance(st, StructType)
            if st.is_word:
                if base.bits is not None:
                    raise self.error(e.span, "a word field has no fields")
                wf = self.layout.word_fields(st)[e.name]
                return replace(base, type=wf.type, bits=wf, path=f"{base.path}.{e.name}")
            off = self.layout.field_offset(st, e.name)
            return LV(base.base + off, base.dyn, st.fields[e.name].type, f"{base.path}.{e.name}")
        if isinstance(e, ast.Index) and isinstance(pool := el.refs.get(e.base), PoolSym):
            return self.pool_object(pool, e.index)
        if isinstance(e, ast.Index):
            base = self.lvalue(e.base)
            at = base.type
            assert isinstance(at, ArrayType)
            idx = self.expr(e.index)
            stride = self.layout.size(at.elem)
            if isinstance(idx, Const):
                if not 0 <= idx.value < at.length:
                    raise self.error(e.index.span, f"index {idx.value} is out of bounds "
                                                   f"0..{at.length - 1}")
                return LV(base.base + idx.value * stride, base.dyn, at.elem, base.path)
            return LV(base.base, (*base.dyn, Dyn(idx, stride, at.length)), at.elem, base.path)
        if isinstance(e, ast.Deref):
            return self.deref(e.operand)
        raise self.error(e.span, "not a location")

    def pool_object(self, pool: PoolSym, index: ast.Expr) -> LV:
        """`zspages[i]`: the pool's object i, as `*ref` with ref = i + 1
        (checked for liveness as any reference is). A run-time index is first
        checked against the pool's size (an `INDEX` fault, as for an array)
        by a component of stride 0."""
        info = self.layout.pools[pool.name]
        idx = self.expr(index)
        bound: tuple[Dyn, ...] = ()
        if isinstance(idx, Const):
            if not 0 <= idx.value < info.size:
                raise self.error(index.span, f"index {idx.value} is out of bounds "
                                             f"0..{info.size - 1} of pool '{pool.name}'")
        else:
            bound = (Dyn(idx, 0, info.size),)
        ref = fold(Binary("+", idx, Const(1)))
        return LV(info.base + 1, (*bound, Dyn(ref, info.stride, info.size, pool.name, info.base)),
                  pool.elem, pool.elem.name)

    def deref(self, e: ast.Expr) -> LV:
        """The object a pointer expression designates."""
        if isinstance(e, ast.Name):
            sym = self.el.refs[e]
            if isinstance(sym, LocalSym) and sym.alias:
                got = self.lookup(sym, e.span)
                assert isinstance(got, LV)
                return got
        pt = self.el.type_of(e)
        assert isinstance(pt, PtrType)
        pool = self.el.pool_of(pt)
        assert pool is not None
        info = self.layout.pools[pool.name]
        ref = self.expr(e)
        if isinstance(ref, Const) and ref.value == 0:
            raise self.error(e.span, "dereference of null")
        return LV(info.base + 1, (Dyn(ref, info.stride, info.size, pool.name, info.base),),
                  pool.elem, pool.elem.name)

    def scalar_loc(self, lv: LV, span: Span) -> Loc:
        if isinstance(lv.type, ArrayType) or (isinstance(lv.type, StructType)
                                              and not lv.type.is_word):
            raise self.error(span, f"'{lv.type}' is not a scalar here")
        return lv.loc()

    # ------------------------------------------------------------ expressions
    def expr(self, e: ast.Expr) -> Expr:
        """Lower an expression whose calls have been hoisted already."""
        el = self.el
        if isinstance(e, ast.IntLit):
            return Const(e.value)
        if isinstance(e, ast.BoolLit):
            return Const(int(e.value))
        if isinstance(e, ast.NullLit):
            return FALSE
        if isinstance(e, ast.Current):
            return Const(self.tid)
        if isinstance(e, ast.NoThread):
            return Const(0)
        if isinstance(e, ast.Name):
            sym = el.refs[e]
            if isinstance(sym, ConstSym):
                return Const(sym.value)
            if isinstance(sym, EnumMemberSym):
                return Const(sym.index)
            if isinstance(sym, QuantVarSym):
                got = self.lookup(sym, e.span)
                assert isinstance(got, Expr)
                return got
            got = self.lookup(sym, e.span)
            if isinstance(got, Expr):
                return got
            return Read(self.scalar_loc(got, e.span))
        if isinstance(e, ast.Call):
            res = self.call_results.get(e)
            if res is None:  # pragma: no cover - hoisting missed a call
                raise self.error(e.span, "internal: call not hoisted")
            return res
        if isinstance(e, ast.Warn):
            raise self.error(e.span, f"{e.macro}() is a statement, or a condition (of if, "
                                     "while, do, for, a bool return or assignment, and "
                                     "inside them under &&, || and !), not a value here")
        if isinstance(e, ast.Member):
            if not e.arrow and not is_location(e.base, el):
                base_t = el.type_of(e.base)
                assert isinstance(base_t, StructType) and base_t.is_word
                wf = self.layout.word_fields(base_t)[e.name]
                return FieldOf(self.expr(e.base), wf.shift, wf.width, wf.lo)
            return Read(self.scalar_loc(self.lvalue(e), e.span))
        if isinstance(e, ast.Index | ast.Deref):
            return Read(self.scalar_loc(self.lvalue(e), e.span))
        if isinstance(e, ast.Unary):
            a = self.expr(e.operand)
            if e.op == "!":
                return fold(Unary("!", self.truth(a, e.operand)))
            return fold(Unary(e.op, a))
        if isinstance(e, ast.Binary):
            a = self.expr(e.left)
            b = self.expr(e.right)
            if e.op in ("&&", "||"):
                return fold(Binary(e.op, self.truth(a, e.left), self.truth(b, e.right)))
            return fold(Binary(e.op, a, b))
        if isinstance(e, ast.Cond):
            c = self.truth(self.expr(e.cond), e.cond)
            return fold(Ite(c, self.expr(e.then), self.expr(e.other)))
        if isinstance(e, ast.Quant):
            return self.quant(e)
        if isinstance(e, ast.AssignExpr):
            value = self.assigned_values.get(e)
            if value is None:  # pragma: no cover - sema admits them in conditions only
                raise self.error(e.span, "an assignment is not supported here")
            return value
        if isinstance(e, ast.AddrOf) and isinstance(e.operand, ast.Index) and \
                isinstance(pool := el.refs.get(e.operand.base), PoolSym):
            idx = self.expr(e.operand.index)
            if not isinstance(idx, Const):
                raise self.error(e.operand.index.span,
                                 f"'&{pool.name}[...]' needs a constant index (a constant, or a "
                                 "quantifier's or a scenario loop's variable)")
            self.pool_object(pool, e.operand.index)  # the bounds check
            return Const(idx.value + 1)
        raise self.error(e.span, f"cannot use {type(e).__name__.lower()} here")

    def truth(self, v: Expr, e: ast.Expr) -> Expr:
        if isinstance(self.el.type_of(e), BoolType):
            return v
        return fold(Binary("!=", v, FALSE))

    def cond(self, e: ast.Expr) -> Expr:
        return self.truth(self.expr(e), e)

    def quant(self, e: ast.Quant) -> Expr:
        var = self.el.quant_vars[e]
        terms: list[tuple[Expr, Expr]] = []  # (domain membership, body)
        alive: Expr
        frame = self.frames[-1]
        if e.pool is not None:
            info = self.layout.pools[e.pool]
            for i in range(info.size):
                alive = Read(Loc(info.base + i * info.stride))
                frame.binds[var] = Const(i + 1)
                terms.append((alive, self.cond(e.body)))
        else:
            assert e.lo is not None and e.hi is not None
            lo, hi = self.const(e.lo), self.const(e.hi)
            for k in range(lo, hi + 1):
                frame.binds[var] = Const(k)
                terms.append((TRUE, self.cond(e.body)))
        frame.binds.pop(var, None)
        acc: Expr
        if e.kind == "forall":
            acc = TRUE
            for alive, body in terms:
                acc = fold(Binary("&&", acc, fold(Binary("||", fold(Unary("!", alive)), body))))
            return acc
        if e.kind == "exists":
            acc = FALSE
            for alive, body in terms:
                acc = fold(Binary("||", acc, fold(Binary("&&", alive, body))))
            return acc
        total: Expr = Const(0)
        for alive, body in terms:
            total = fold(Binary("+", total, fold(Ite(fold(Binary("&&", alive, body)), TRUE,
                                                        FALSE))))
        return total

    def const(self, e: ast.Expr) -> int:
        v = self.expr(e)
        if not isinstance(v, Const):
            raise self.error(e.span, "must be a constant")
        return v.value

