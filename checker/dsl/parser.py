"""Parse spec text into the AST (`checker.dsl.ast`) with lark's LALR parser.

Two details of C reach the parser:
- typedef names are lexed as TYPENAME so that `spinlock_t *lock;` parses as a
  declaration; the post-lexer learns each name from its `typedef` and from the
  modules imported before the file (`known_types`);
- syntax errors are reported as `file:line:col: error: ...` with the expected
  tokens spelt as they appear in source, never as a lark traceback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from checker.dsl import ast
from checker.dsl.diagnostics import Diagnostic, SourceCache, Span, SpecError


class _TypedefPostLexer:
    """Turns NAME tokens that denote typedef'd types into TYPENAME tokens."""

    always_accept = ("NAME",)

    def __init__(self) -> None:
        self.known: set[str] = set()

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        in_typedef = False
        depth = 0
        candidate: str | None = None
        for tok in stream:
            if tok.type == "TYPEDEF":
                in_typedef, depth, candidate = True, 0, None
            elif in_typedef:
                if tok.type in ("LSQB", "LPAR", "LBRACE"):
                    depth += 1
                elif tok.type in ("RSQB", "RPAR", "RBRACE"):
                    depth -= 1
                elif tok.type == "SEMICOLON" and depth == 0:
                    if candidate is not None:
                        self.known.add(candidate)
                    in_typedef = False
                elif tok.type == "NAME" and depth == 0:
                    candidate = tok.value
            if tok.type == "NAME" and tok.value in self.known:
                tok = Token.new_borrow_pos("TYPENAME", tok.value, tok)
            yield tok


@cache
def _grammar_text() -> str:
    return resources.files("checker.dsl").joinpath("grammar.lark").read_text(encoding="utf-8")


@cache
def _parser() -> tuple[Lark, _TypedefPostLexer]:
    """One LALR parser for the process; its post-lexer is reset per file."""
    post = _TypedefPostLexer()
    lark = Lark(
        _grammar_text(),
        parser="lalr",
        lexer="contextual",
        postlex=post,
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,  # the LALR tables, in the temp directory, keyed by grammar hash
    )
    return lark, post


_TOKEN_SPELLING = {
    "NAME": "identifier",
    "TYPENAME": "type name",
    "INT": "integer",
    "STRING": "string",
    "$END": "end of file",
}


def _spell(parser: Lark, terminal: str) -> str:
    if terminal in _TOKEN_SPELLING:
        return _TOKEN_SPELLING[terminal]
    try:
        pattern = parser.get_terminal(terminal).pattern
    except KeyError:
        return terminal
    if pattern.type == "str":
        return f"'{pattern.value}'"
    return terminal.lower()


def _syntax_error(parser: Lark, path: str, err: UnexpectedInput) -> Diagnostic:
    line = getattr(err, "line", 0) or 0
    col = getattr(err, "column", 0) or 0
    if isinstance(err, UnexpectedToken):
        tok = err.token
        what = "unexpected end of file" if tok.type == "$END" else f"unexpected '{tok.value}'"
        expected = sorted({_spell(parser, t) for t in err.expected})
        width = max(len(str(tok.value)), 1) if tok.type != "$END" else 1
    elif isinstance(err, UnexpectedCharacters):
        what = f"unexpected character {err.char!r}"
        expected = []
        width = 1
    elif isinstance(err, UnexpectedEOF):
        what = "unexpected end of file"
        expected = sorted({_spell(parser, t) for t in err.expected})
        width = 1
    else:  # pragma: no cover - lark has no other kinds
        what, expected, width = str(err), [], 1
    if expected:
        # Punctuation that ends or closes something is what is usually missing.
        first = [t for t in ("';'", "')'", "']'", "'}'", "','", "'{'") if t in expected]
        expected = first + [t for t in expected if t not in first]
        shown = ", ".join(expected[:8]) + (", ..." if len(expected) > 8 else "")
        what += f"; expected {shown}"
    span = Span(path, line, col, line, col + width)
    return Diagnostic(span, f"syntax error: {what}")


class _Builder(Transformer[Any, Any]):
    """Builds AST nodes from the parse tree."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path

    def _span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.path, 0, 0, 0, 0)
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def _tok_span(self, tok: Token) -> Span:
        return Span(
            self.path,
            tok.line or 0,
            tok.column or 0,
            tok.end_line or tok.line or 0,
            tok.end_column or tok.column or 0,
        )

    @staticmethod
    def _string(tok: Token) -> str:
        return bytes(tok.value[1:-1], "utf-8").decode("unicode_escape")

    # ------------------------------------------------------------ top level
    @v_args(meta=True)
    def start(self, meta: Any, items: list[Any]) -> list[ast.Decl]:
        # `extern const A, B;` is one ExternDecl per name.
        return [d for i in items for d in (i if isinstance(i, list) else [i])]

    @v_args(meta=True)
    def import_decl(self, meta: Any, items: list[Any]) -> ast.Import:
        return ast.Import(self._span(meta), self._string(items[0]))

    def _static(self, meta: Any, items: list[Any], proc: bool = False) -> tuple[bool, list[Any]]:
        """Whether a file-scope declaration is `static` (private to its module),
        and its items without the qualifiers. `inline` fits procedures only."""
        quals = [str(i) for i in items if isinstance(i, Token) and i.type == "QUALIFIER"]
        if "inline" in quals and not proc:
            raise SpecError.at(self._span(meta), "'inline' applies to procedures only")
        rest = [i for i in items if not (isinstance(i, Token) and i.type == "QUALIFIER")]
        return "static" in quals, rest

    @v_args(meta=True)
    def const_decl(self, meta: Any, items: list[Any]) -> ast.ConstDecl:
        static, items = self._static(meta, items)
        return ast.ConstDecl(self._span(meta), str(items[0]), items[1], False, static)

    @v_args(meta=True)
    def extern_const(self, meta: Any, items: list[Any]) -> list[ast.ExternDecl]:
        return [ast.ExternDecl(self._tok_span(t), "const", str(t)) for t in items]

    @v_args(meta=True)
    def extern_struct(self, meta: Any, items: list[Any]) -> ast.ExternDecl:
        return ast.ExternDecl(self._span(meta), "struct", str(items[0]))

    @v_args(meta=True)
    def extern_proc(self, meta: Any, items: list[Any]) -> ast.ExternDecl:
        return ast.ExternDecl(self._span(meta), "proc", str(items[1]))

    @v_args(meta=True)
    def option_decl(self, meta: Any, items: list[Any]) -> ast.ConstDecl:
        return ast.ConstDecl(self._span(meta), str(items[0]), items[1], True)

    @v_args(meta=True)
    def typedef_decl(self, meta: Any, items: list[Any]) -> ast.TypedefDecl:
        return ast.TypedefDecl(self._span(meta), str(items[1]), items[0], items[2])

    @v_args(meta=True)
    def struct_decl(self, meta: Any, items: list[Any]) -> ast.StructDecl:
        return ast.StructDecl(self._span(meta), str(items[0]), items[1:], False)

    @v_args(meta=True)
    def word_decl(self, meta: Any, items: list[Any]) -> ast.StructDecl:
        return ast.StructDecl(self._span(meta), str(items[0]), items[1:], True)

    @v_args(meta=True)
    def field(self, meta: Any, items: list[Any]) -> ast.FieldDecl:
        return ast.FieldDecl(self._span(meta), items[0], str(items[1]), items[2])

    @v_args(meta=True)
    def enum_decl(self, meta: Any, items: list[Any]) -> ast.EnumDecl:
        members = [(str(t), self._tok_span(t)) for t in items[1:]]
        return ast.EnumDecl(self._span(meta), str(items[0]), members)

    @v_args(meta=True)
    def pool_decl(self, meta: Any, items: list[Any]) -> ast.PoolDecl:
        return ast.PoolDecl(self._span(meta), items[0], str(items[1]), items[2],
                            symmetric=items[3] is not None)

    @v_args(meta=True)
    def thread_local_decl(self, meta: Any, items: list[Any]) -> ast.GlobalDecl:
        static, items = self._static(meta, items)
        var = ast.VarDecl(self._span(meta), items[0], str(items[1]), items[2], items[3], True)
        return ast.GlobalDecl(self._span(meta), var, static)

    @v_args(meta=True)
    def per_cpu_decl(self, meta: Any, items: list[Any]) -> ast.GlobalDecl:
        static, items = self._static(meta, items)
        var = ast.VarDecl(self._span(meta), items[0], str(items[1]), items[2], items[3],
                          per_cpu=True)
        return ast.GlobalDecl(self._span(meta), var, static)

    @v_args(meta=True)
    def global_decl(self, meta: Any, items: list[Any]) -> ast.GlobalDecl:
        static, items = self._static(meta, items)
        var = ast.VarDecl(self._span(meta), items[0], str(items[1]), items[2], items[3], False)
        return ast.GlobalDecl(self._span(meta), var, static)

    def initializer(self, items: list[Any]) -> ast.Expr:
        return items[0]  # type: ignore[no-any-return]

    @v_args(meta=True)
    def proc_decl(self, meta: Any, items: list[Any]) -> ast.ProcDecl:
        static, items = self._static(meta, items, proc=True)
        ret, name, params, *rest = items
        body = rest[-1]
        annotations = rest[:-1]
        return ast.ProcDecl(self._span(meta), ret, str(name), params, annotations, body, static)

    @v_args(meta=True)
    def thread_decl(self, meta: Any, items: list[Any]) -> ast.ThreadDecl:
        static, items = self._static(meta, items)
        quals = [str(i) for i in items if isinstance(i, Token) and i.type == "THREADQUAL"]
        items = [i for i in items if not (isinstance(i, Token) and i.type == "THREADQUAL")]
        if len(set(quals)) != len(quals):
            raise SpecError.at(self._span(meta), "a thread qualifier is repeated")
        return ast.ThreadDecl(self._span(meta), str(items[0]), items[1], items[2], static,
                              daemon="daemon" in quals, fair="fair" in quals)

    def params(self, items: list[Any]) -> list[ast.Param]:
        return [p for p in items if p is not None]

    @v_args(meta=True)
    def param(self, meta: Any, items: list[Any]) -> ast.Param:
        return ast.Param(self._span(meta), items[0], str(items[1]))

    @v_args(meta=True)
    def annotation(self, meta: Any, items: list[Any]) -> ast.Annotation:
        args = [str(a) for a in items[1:] if a is not None]
        return ast.Annotation(self._span(meta), str(items[0]), args)

    @v_args(meta=True)
    def init_decl(self, meta: Any, items: list[Any]) -> ast.InitDecl:
        return ast.InitDecl(self._span(meta), items[0])

    @v_args(meta=True)
    def property_decl(self, meta: Any, items: list[Any]) -> ast.PropertyDecl:
        return ast.PropertyDecl(self._span(meta), str(items[0]), str(items[1]), items[2])

    @v_args(meta=True)
    def lock_order_decl(self, meta: Any, items: list[Any]) -> ast.LockOrderDecl:
        return ast.LockOrderDecl(self._span(meta), list(items))

    @v_args(meta=True)
    def lock_name(self, meta: Any, items: list[Any]) -> tuple[str, Span]:
        """A lock class path: `page`, `zspage.lock`."""
        return ".".join(str(t) for t in items), self._span(meta)

    @v_args(meta=True)
    def scenario_decl(self, meta: Any, items: list[Any]) -> ast.ScenarioDecl:
        scen = ast.ScenarioDecl(self._span(meta), str(items[0]), [], [], None, [], [])
        for item in items[1:]:
            if isinstance(item, ast.InitDecl):
                scen.inits.append(item)
                continue
            kind, payload = item
            if kind == "option":
                scen.options.append(payload)
            elif kind == "run":
                scen.runs.extend(payload)
            elif kind == "max":
                scen.maxes.append(payload)
            elif kind == "symmetric":
                scen.symmetric_pools.extend(payload)
            elif kind == "tag":
                scen.tags.extend(payload)
            elif kind == "expect" and payload.kind == "warning":
                scen.warnings.append(payload)  # any number: each names a warning
            elif kind == "expect":
                if scen.expect is not None:
                    raise SpecError.at(payload.span, "a scenario has one 'expect'")
                scen.expect = payload
        return scen

    @v_args(meta=True)
    def lemma_decl(self, meta: Any, items: list[Any]) -> ast.LemmaDecl:
        params = [p for p in items[1:] if isinstance(p, ast.LemmaVar)]
        lemma = ast.LemmaDecl(self._span(meta), str(items[0]), params, [], [], None)
        for item in items[1:]:
            if item is None or isinstance(item, ast.LemmaVar):
                continue
            if isinstance(item, tuple):
                kind, payload = item
                if kind == "option":
                    lemma.options.append(payload)
                else:
                    lemma.expect = payload
            else:
                lemma.body.append(item)
        return lemma

    @v_args(meta=True)
    def lemma_var(self, meta: Any, items: list[Any]) -> ast.LemmaVar:
        return ast.LemmaVar(self._span(meta), items[0], str(items[1]))

    @v_args(meta=True)
    def lemma_let(self, meta: Any, items: list[Any]) -> ast.LemmaLet:
        return ast.LemmaLet(self._span(meta), items[0], items[1])

    @v_args(meta=True)
    def lemma_assume(self, meta: Any, items: list[Any]) -> ast.LemmaAssume:
        return ast.LemmaAssume(self._span(meta), items[0])

    @v_args(meta=True)
    def lemma_assert(self, meta: Any, items: list[Any]) -> ast.LemmaAssert:
        message = self._string(items[1]) if items[1] is not None else None
        return ast.LemmaAssert(self._span(meta), items[0], message)

    @v_args(meta=True)
    def scenario_set(self, meta: Any, items: list[Any]) -> tuple[str, Any]:
        return ("option", (str(items[0]), items[1], self._span(meta)))

    @v_args(meta=True)
    def sym_pool_item(self, meta: Any, items: list[Any]) -> tuple[str, Any]:
        return ("symmetric", [(str(t), self._span(meta)) for t in items[1:]])

    @v_args(meta=True)
    def run_item(self, meta: Any, items: list[Any]) -> tuple[str, Any]:
        return ("run", [ast.RunItem(self._span(meta), str(items[0]), items[1], items[4],
                                    cpu=items[2], symmetric=items[5] is not None)])

    @v_args(meta=True)
    def handler_item(self, meta: Any, items: list[Any]) -> tuple[str, Any]:
        context = "hardirq" if str(items[0]) == "irq" else "softirq"
        return ("run", [ast.RunItem(self._span(meta), str(items[1]), items[2], items[5],
                                    cpu=items[3], context=context)])

    def on_cpu(self, items: list[Any]) -> ast.Expr:
        return items[0]  # type: ignore[no-any-return]

    @v_args(meta=True)
    def run_loop(self, meta: Any, items: list[Any]) -> tuple[str, Any]:
        """Each `run` inside gets this loop in front of its own (outermost first)."""
        var, lo, hi, *body = items
        loop = ast.RunLoop(self._span(meta), str(var), lo, hi)
        runs: list[ast.RunItem] = []
        for _kind, inner in body:
            for r in inner:
                r.loops.insert(0, loop)
                runs.append(r)
        return ("run", runs)

    @v_args(meta=True)
    def max_item(self, meta: Any, items: list[Any]) -> tuple[str, Any]:
        return ("max", (str(items[0]), items[1], self._span(meta)))

    @v_args(meta=True)
    def tag_item(self, meta: Any, items: list[Any]) -> tuple[str, Any]:
        return ("tag", [str(t) for t in items])

    @v_args(meta=True)
    def expect_item(self, meta: Any, items: list[Any]) -> tuple[str, Any]:
        name: str | None = None
        if len(items) > 1 and items[1] is not None:
            tok = items[1]
            name = self._string(tok) if tok.type == "STRING" else str(tok)
        return ("expect", ast.ExpectItem(self._span(meta), str(items[0]), name))

    # ------------------------------------------------------------ types
    @v_args(meta=True)
    def type(self, meta: Any, items: list[Any]) -> ast.TypeExpr:
        base: ast.TypeExpr = items[0]
        for star in items[1:]:
            base = ast.PtrT(Span(self.path, base.span.line, base.span.column,
                                 star.end_line, star.end_column), base)
        return base

    @v_args(meta=True)
    def bool_type(self, meta: Any, items: list[Any]) -> ast.TypeExpr:
        return ast.BoolT(self._span(meta))

    @v_args(meta=True)
    def void_type(self, meta: Any, items: list[Any]) -> ast.TypeExpr:
        return ast.VoidT(self._span(meta))

    @v_args(meta=True)
    def tid_type(self, meta: Any, items: list[Any]) -> ast.TypeExpr:
        return ast.TidT(self._span(meta))

    @v_args(meta=True)
    def int_type(self, meta: Any, items: list[Any]) -> ast.TypeExpr:
        return ast.IntT(self._span(meta), items[0], items[1])

    @v_args(meta=True)
    def tidset_type(self, meta: Any, items: list[Any]) -> ast.TypeExpr:
        return ast.TidSetT(self._span(meta), items[0], items[1])

    @v_args(meta=True)
    def bare_int_type(self, meta: Any, items: list[Any]) -> ast.TypeExpr:
        return ast.BareIntT(self._span(meta))

    @v_args(meta=True)
    def struct_type(self, meta: Any, items: list[Any]) -> ast.TypeExpr:
        return ast.TaggedT(self._span(meta), "struct", str(items[0]))

    @v_args(meta=True)
    def enum_type(self, meta: Any, items: list[Any]) -> ast.TypeExpr:
        return ast.TaggedT(self._span(meta), "enum", str(items[0]))

    @v_args(meta=True)
    def word_type(self, meta: Any, items: list[Any]) -> ast.TypeExpr:
        return ast.TaggedT(self._span(meta), "word", str(items[0]))

    @v_args(meta=True)
    def named_type(self, meta: Any, items: list[Any]) -> ast.TypeExpr:
        return ast.NamedT(self._span(meta), str(items[0]))

    def dims(self, items: list[Any]) -> list[ast.Expr]:
        return list(items)

    # ------------------------------------------------------------ statements
    @v_args(meta=True)
    def block(self, meta: Any, items: list[Any]) -> ast.Block:
        return ast.Block(self._span(meta), list(items))

    @v_args(meta=True)
    def if_stmt(self, meta: Any, items: list[Any]) -> ast.If:
        return ast.If(self._span(meta), items[0], items[1], None)

    @v_args(meta=True)
    def if_else_stmt(self, meta: Any, items: list[Any]) -> ast.If:
        return ast.If(self._span(meta), items[0], items[1], items[2])

    @v_args(meta=True)
    def while_stmt(self, meta: Any, items: list[Any]) -> ast.While:
        return ast.While(self._span(meta), items[0], items[1])

    @v_args(meta=True)
    def do_stmt(self, meta: Any, items: list[Any]) -> ast.DoWhile:
        return ast.DoWhile(self._span(meta), items[0], items[1])

    @v_args(meta=True)
    def for_stmt(self, meta: Any, items: list[Any]) -> ast.For:
        init, cond, step, body = items
        return ast.For(self._span(meta), init, cond, step, body)

    @v_args(meta=True)
    def empty_init(self, meta: Any, items: list[Any]) -> None:
        return None

    @v_args(meta=True)
    def for_init(self, meta: Any, items: list[Any]) -> ast.Stmt:
        return items[0]  # type: ignore[no-any-return]

    @v_args(meta=True)
    def assign_step(self, meta: Any, items: list[Any]) -> ast.Assign:
        return ast.Assign(self._span(meta), items[0], str(items[1]), items[2])

    @v_args(meta=True)
    def incdec_step(self, meta: Any, items: list[Any]) -> ast.IncDec:
        return ast.IncDec(self._span(meta), items[0], str(items[1]))

    @v_args(meta=True)
    def label_stmt(self, meta: Any, items: list[Any]) -> ast.Label:
        return ast.Label(self._span(meta), str(items[0]), items[1])

    @v_args(meta=True)
    def local_decl(self, meta: Any, items: list[Any]) -> ast.VarDecl:
        return ast.VarDecl(self._span(meta), items[0], str(items[1]), items[2], items[3])

    @v_args(meta=True)
    def assign_stmt(self, meta: Any, items: list[Any]) -> ast.Assign:
        return ast.Assign(self._span(meta), items[0], str(items[1]), items[2])

    @v_args(meta=True)
    def incdec_stmt(self, meta: Any, items: list[Any]) -> ast.IncDec:
        return ast.IncDec(self._span(meta), items[0], str(items[1]))

    @v_args(meta=True)
    def call_stmt(self, meta: Any, items: list[Any]) -> ast.CallStmt:
        return ast.CallStmt(self._span(meta), items[0])

    @v_args(meta=True)
    def goto_stmt(self, meta: Any, items: list[Any]) -> ast.Goto:
        return ast.Goto(self._span(meta), str(items[0]))

    @v_args(meta=True)
    def return_stmt(self, meta: Any, items: list[Any]) -> ast.Return:
        return ast.Return(self._span(meta), items[0] if items else None)

    @v_args(meta=True)
    def break_stmt(self, meta: Any, items: list[Any]) -> ast.Break:
        return ast.Break(self._span(meta))

    @v_args(meta=True)
    def continue_stmt(self, meta: Any, items: list[Any]) -> ast.Continue:
        return ast.Continue(self._span(meta))

    @v_args(meta=True)
    def atomic_stmt(self, meta: Any, items: list[Any]) -> ast.Atomic:
        return ast.Atomic(self._span(meta), items[0])

    @v_args(meta=True)
    def await_stmt(self, meta: Any, items: list[Any]) -> ast.Await:
        return ast.Await(self._span(meta), items[0])

    @v_args(meta=True)
    def either_stmt(self, meta: Any, items: list[Any]) -> ast.Either:
        return ast.Either(self._span(meta), list(items))

    @v_args(meta=True)
    def assert_stmt(self, meta: Any, items: list[Any]) -> ast.Assert:
        msg = self._string(items[1]) if items[1] is not None else None
        return ast.Assert(self._span(meta), items[0], msg)

    @v_args(meta=True)
    def cover_stmt(self, meta: Any, items: list[Any]) -> ast.Cover:
        cond, msg = items[0]
        return ast.Cover(self._span(meta), cond, msg)

    def cover_args(self, items: list[Any]) -> tuple[ast.Expr | None, str]:
        if len(items) == 1:
            return None, self._string(items[0])
        return items[0], self._string(items[1])

    @v_args(meta=True)
    def start_stmt(self, meta: Any, items: list[Any]) -> ast.Start:
        return ast.Start(self._span(meta), str(items[-2]), items[-1])  # after the START token

    @v_args(meta=True)
    def free_stmt(self, meta: Any, items: list[Any]) -> ast.Free:
        return ast.Free(self._span(meta), items[0])

    @v_args(meta=True)
    def empty_stmt(self, meta: Any, items: list[Any]) -> ast.Empty:
        return ast.Empty(self._span(meta))

    # ------------------------------------------------------------ expressions
    @v_args(meta=True)
    def cond_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Cond(self._span(meta), items[0], items[1], items[2])

    @v_args(meta=True)
    def or_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Binary(self._span(meta), "||", items[0], items[1])

    @v_args(meta=True)
    def and_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Binary(self._span(meta), "&&", items[0], items[1])

    @v_args(meta=True)
    def binop_bor(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Binary(self._span(meta), "|", items[0], items[1])

    @v_args(meta=True)
    def binop_bxor(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Binary(self._span(meta), "^", items[0], items[1])

    @v_args(meta=True)
    def binop_band(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Binary(self._span(meta), "&", items[0], items[1])

    @v_args(meta=True)
    def _binop(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Binary(self._span(meta), str(items[1]), items[0], items[2])

    binop_eq = binop_rel = binop_shift = binop_add = binop_mul = _binop

    @v_args(meta=True)
    def not_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Unary(self._span(meta), "!", items[0])

    @v_args(meta=True)
    def neg_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        operand = items[-1]
        if isinstance(operand, ast.IntLit):
            return ast.IntLit(self._span(meta), -operand.value)
        return ast.Unary(self._span(meta), "-", operand)

    @v_args(meta=True)
    def bnot_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Unary(self._span(meta), "~", items[0])

    @v_args(meta=True)
    def deref_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Deref(self._span(meta), items[-1])

    @v_args(meta=True)
    def addr_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.AddrOf(self._span(meta), items[0])

    @v_args(meta=True)
    def member_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Member(self._span(meta), items[0], str(items[1]), False)

    @v_args(meta=True)
    def arrow_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Member(self._span(meta), items[0], str(items[1]), True)

    @v_args(meta=True)
    def assign_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.AssignExpr(self._span(meta), items[0], str(items[1]), items[2])

    @v_args(meta=True)
    def index_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Index(self._span(meta), items[0], items[1])

    @v_args(meta=True)
    def int_lit(self, meta: Any, items: list[Any]) -> ast.Expr:
        span = self._span(meta)
        text = str(items[0])
        try:
            value = c_int(text)
        except ConstTooLarge:
            raise SpecError([Diagnostic(span, f"integer constant too large: "
                                              f"{const_limit_message()}")]) from None
        except ValueError:
            raise SpecError([Diagnostic(span, f"invalid integer constant '{text}' "
                                              "(a leading 0 makes it octal)")]) from None
        return ast.IntLit(span, value)

    @v_args(meta=True)
    def true_lit(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.BoolLit(self._span(meta), True)

    @v_args(meta=True)
    def false_lit(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.BoolLit(self._span(meta), False)

    @v_args(meta=True)
    def null_lit(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.NullLit(self._span(meta))

    @v_args(meta=True)
    def current_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Current(self._span(meta))

    @v_args(meta=True)
    def none_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.NoThread(self._span(meta))

    @v_args(meta=True)
    def name_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Name(self._span(meta), str(items[0]))

    @v_args(meta=True)
    def call(self, meta: Any, items: list[Any]) -> ast.Call:
        return ast.Call(self._span(meta), str(items[0]), items[1])

    @v_args(meta=True)
    def warn(self, meta: Any, items: list[Any]) -> ast.Warn:
        msg = self._string(items[2]) if items[2] is not None else None
        return ast.Warn(self._span(meta), str(items[0]), items[1], msg)

    @v_args(meta=True)
    def warn_stmt(self, meta: Any, items: list[Any]) -> ast.WarnStmt:
        return ast.WarnStmt(self._span(meta), items[0])

    def args(self, items: list[Any]) -> list[ast.Expr]:
        return [a for a in items if a is not None]

    @v_args(meta=True)
    def alloc_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.Alloc(self._span(meta), str(items[0]))

    @v_args(meta=True)
    def choose_range(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.ChooseRange(self._span(meta), items[0], items[1])

    @v_args(meta=True)
    def choose_list(self, meta: Any, items: list[Any]) -> ast.Expr:
        return ast.ChooseList(self._span(meta), list(items))

    @v_args(meta=True)
    def quant_expr(self, meta: Any, items: list[Any]) -> ast.Expr:
        kind, var, domain, body = items
        if domain[0] == "pool":
            return ast.Quant(self._span(meta), str(kind), str(var), domain[1], None, None, body)
        return ast.Quant(self._span(meta), str(kind), str(var), None, domain[1], domain[2], body)

    def pool_domain(self, items: list[Any]) -> tuple[str, str]:
        return ("pool", str(items[0]))

    def range_domain(self, items: list[Any]) -> tuple[str, Any, Any]:
        return ("range", items[0], items[1])


MAX_SYNTAX_ERRORS = 20


@cache
def _keyword_table(_parser_id: int) -> dict[str, str]:
    parser, _ = _parser()
    table: dict[str, str] = {}
    for term in parser.terminals:
        if term.pattern.type == "str" and term.pattern.value.isidentifier():
            table[term.pattern.value] = term.name
    return table


def _keywords(parser: Lark) -> dict[str, str]:
    """Keyword spelling -> terminal name (e.g. 'thread' -> 'THREAD')."""
    return _keyword_table(id(parser))


def parse_text(text: str, path: str, known_types: set[str] | None = None) -> ast.Module:
    """Parse one file. `known_types` are typedef names from imported modules."""
    SourceCache.remember(path, text)
    parser, post = _parser()
    post.known = set(known_types or ())
    found: list[Diagnostic] = []

    def recover(err: UnexpectedInput) -> bool:
        """Record the error; if a ';' would have been accepted, pretend it was
        there and go on, so that later, independent errors are reported too."""
        found.append(_syntax_error(parser, path, err))
        if not isinstance(err, UnexpectedToken) or len(found) >= MAX_SYNTAX_ERRORS:
            return False
        if "SEMICOLON" not in err.expected or err.token.type == "$END":
            return False
        tok = err.token
        # The lexer read a keyword as a NAME where no keyword could follow;
        # after the ';' it may be one again.
        keyword = _keywords(parser).get(tok.value)
        if tok.type == "NAME" and keyword is not None:
            tok = Token.new_borrow_pos(keyword, tok.value, tok)
        try:
            err.interactive_parser.feed_token(Token.new_borrow_pos("SEMICOLON", ";", err.token))
            err.interactive_parser.feed_token(tok)
        except UnexpectedInput:
            return False
        last = found[-1]
        found[-1] = Diagnostic(last.span, f"syntax error: expected ';' before '{err.token.value}'")
        return True

    try:
        tree = parser.parse(text, on_error=recover)
    except UnexpectedInput as err:
        diag = _syntax_error(parser, path, err)
        if diag not in found:
            found.append(diag)
    if found:
        raise SpecError(found)
    try:
        decls = _Builder(path).transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, SpecError):
            raise err.orig_exc from None
        raise
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ast.Module(Span(path, 1, 1, 1, 1), path, decls, sha)


CONST_BITS = 1024
"""Every integer constant (a literal, a `-D` value, a folded `const` and so a
range bound) lies strictly between -2**CONST_BITS and 2**CONST_BITS. Far
beyond any kernel quantity, yet it keeps the front end from folding a
gigabyte integer (`1 << 40000000000`), keeps every value printable in
messages, traces and generated code (Python refuses int->str beyond 4,300
digits), and keeps z3's bit-vectors and the interval analysis small."""


class ConstTooLarge(ValueError):
    """An integer constant outside the CONST_BITS limit."""


def const_limit_message() -> str:
    return f"integer constants must lie strictly between -2^{CONST_BITS} and 2^{CONST_BITS}"


def c_int(text: str) -> int:
    """An integer constant as C reads it: 0x hexadecimal, a leading 0 octal
    (0644), else decimal; the suffixes u, l, ul, ull change nothing here.
    ValueError if it is none of these (09); ConstTooLarge beyond CONST_BITS
    (checked on the length first: converting a huge decimal is quadratic)."""
    digits = text.rstrip("uUlL")
    if len(digits.lstrip("0xX")) > CONST_BITS // 3 + 2:
        raise ConstTooLarge(text)
    if digits[:2] in ("0x", "0X"):
        value = int(digits[2:], 16)
    elif len(digits) > 1 and digits[0] == "0":
        value = int(digits[1:], 8)
    elif not digits.isdigit():
        raise ValueError(text)
    else:
        value = int(digits, 10)
    if value.bit_length() > CONST_BITS:
        raise ConstTooLarge(text)
    return value


def typedef_names(module: ast.Module) -> set[str]:
    return {d.name for d in module.decls if isinstance(d, ast.TypedefDecl)}
