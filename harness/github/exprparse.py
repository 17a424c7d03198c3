"""Tokenizer and recursive-descent parser of the `${{ }}` expression language (AST only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harness.github.errors import ExpressionError

KNOWN_CONTEXTS = frozenset(
    {"github", "env", "vars", "secrets", "inputs", "needs", "steps", "job", "jobs", "runner", "strategy", "matrix"}
)
STATUS_FUNCTIONS = frozenset({"success", "failure", "always", "cancelled"})
# name -> (min args, max args or None for unbounded)
FUNCTION_ARITY: dict[str, tuple[int, int | None]] = {
    "contains": (2, 2),
    "startswith": (2, 2),
    "endswith": (2, 2),
    "format": (1, None),
    "join": (1, 2),
    "tojson": (1, 1),
    "fromjson": (1, 1),
    "hashfiles": (1, None),
    "success": (0, 0),
    "failure": (0, 0),
    "always": (0, 0),
    "cancelled": (0, 0),
}


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Token:
    kind: str  # num, str, ident, op, eof
    value: Any
    pos: int


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>-?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\].,*])
    """,
    re.VERBOSE,
)


def _tokenize(expr: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(expr):
        ch = expr[pos]
        if ch == "'":
            end = pos + 1
            chunks: list[str] = []
            while True:
                nxt = expr.find("'", end)
                if nxt < 0:
                    raise ExpressionError(f"Unterminated string in expression: {expr!r}")
                chunks.append(expr[end:nxt])
                if expr.startswith("''", nxt):
                    chunks.append("'")
                    end = nxt + 2
                    continue
                end = nxt + 1
                break
            tokens.append(_Token("str", "".join(chunks), pos))
            pos = end
            continue
        match = _TOKEN_RE.match(expr, pos)
        if match is None:
            raise ExpressionError(f"Unexpected symbol {ch!r} at position {pos} in expression: {expr!r}")
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "num" and text.startswith("-") and tokens and _ends_operand(tokens[-1]):
            raise ExpressionError(f"Unexpected symbol '-' at position {pos} in expression: {expr!r}")
        if kind == "num":
            tokens.append(_Token("num", _parse_number_literal(text), pos))
        elif kind != "ws":
            tokens.append(_Token(kind, text, pos))
        pos = match.end()
    tokens.append(_Token("eof", None, len(expr)))
    return tokens


def _ends_operand(token: _Token) -> bool:
    return token.kind in ("num", "str", "ident") or token.value in (")", "]")


def _parse_number_literal(text: str) -> int | float:
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("-")
    if body.lower().startswith("0x"):
        return sign * int(body, 16)
    if re.fullmatch(r"\d+", body):
        return sign * int(body)
    return sign * float(body)


# ---------------------------------------------------------------- AST


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Named:
    name: str


@dataclass(frozen=True)
class Index:
    target: Any
    key: Any  # a node


@dataclass(frozen=True)
class Star:
    target: Any


@dataclass(frozen=True)
class Not:
    operand: Any


@dataclass(frozen=True)
class Binary:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Call:
    name: str  # lower-case
    args: tuple[Any, ...]


class _Parser:
    """Recursive descent parser; precedence: || < && < == != < < <= > >= < ! < . []."""

    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = _tokenize(expr)
        self.i = 0

    def error(self, message: str) -> ExpressionError:
        tok = self.tokens[self.i]
        return ExpressionError(f"{message} at position {tok.pos} in expression: {self.expr!r}")

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, op: str) -> bool:
        tok = self.peek()
        if tok.kind == "op" and tok.value == op:
            self.i += 1
            return True
        return False

    def expect(self, op: str) -> None:
        if not self.accept(op):
            raise self.error(f"Expected {op!r}")

    def parse(self) -> Any:
        if self.peek().kind == "eof":
            raise ExpressionError(f"Empty expression: {self.expr!r}")
        node = self.parse_or()
        if self.peek().kind != "eof":
            raise self.error(f"Unexpected token {self.peek().value!r}")
        return node

    def parse_or(self) -> Any:
        node = self.parse_and()
        while self.accept("||"):
            node = Binary("||", node, self.parse_and())
        return node

    def parse_and(self) -> Any:
        node = self.parse_eq()
        while self.accept("&&"):
            node = Binary("&&", node, self.parse_eq())
        return node

    def parse_eq(self) -> Any:
        node = self.parse_cmp()
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.value in ("==", "!="):
                self.take()
                node = Binary(tok.value, node, self.parse_cmp())
            else:
                return node

    def parse_cmp(self) -> Any:
        node = self.parse_unary()
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.value in ("<", "<=", ">", ">="):
                self.take()
                node = Binary(tok.value, node, self.parse_unary())
            else:
                return node

    def parse_unary(self) -> Any:
        if self.accept("!"):
            return Not(self.parse_unary())
        return self.parse_postfix(self.parse_primary())

    def parse_primary(self) -> Any:
        tok = self.take()
        if tok.kind in ("num", "str"):
            return Literal(tok.value)
        if tok.kind == "op" and tok.value == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        if tok.kind == "ident":
            lower = tok.value.lower()
            if self.accept("("):
                return self.parse_call(lower, tok)
            if lower in ("true", "false"):
                return Literal(lower == "true")
            if lower == "null":
                return Literal(None)
            if lower not in KNOWN_CONTEXTS:
                self.i -= 1
                raise self.error(
                    f"Unrecognized named-value: {tok.value!r} (contexts: {', '.join(sorted(KNOWN_CONTEXTS))})"
                )
            return Named(lower)
        self.i -= 1
        if tok.kind == "eof":
            raise self.error("Unexpected end of expression")
        raise self.error(f"Unexpected token {tok.value!r}")

    def parse_call(self, name: str, tok: _Token) -> Any:
        if name not in FUNCTION_ARITY:
            raise ExpressionError(
                f"Unrecognized function: {tok.value!r} in expression: {self.expr!r} "
                f"(supported: {', '.join(sorted(FUNCTION_ARITY))})"
            )
        args: list[Any] = []
        if not self.accept(")"):
            while True:
                args.append(self.parse_or())
                if self.accept(")"):
                    break
                self.expect(",")
        low, high = FUNCTION_ARITY[name]
        if len(args) < low or (high is not None and len(args) > high):
            raise ExpressionError(
                f"Function {tok.value!r} takes {low}{'' if high == low else '+' if high is None else f'-{high}'} "
                f"argument(s), got {len(args)} in expression: {self.expr!r}"
            )
        return Call(name, tuple(args))

    def parse_postfix(self, node: Any) -> Any:
        while True:
            if self.accept("."):
                tok = self.take()
                if tok.kind == "ident":
                    node = Index(node, Literal(tok.value))
                elif tok.kind == "op" and tok.value == "*":
                    node = Star(node)
                else:
                    self.i -= 1
                    raise self.error("Expected a property name after '.'")
            elif self.accept("["):
                if self.accept("*"):
                    node = Star(node)
                else:
                    node = Index(node, self.parse_or())
                self.expect("]")
            else:
                return node


def parse(expr: str) -> Any:
    """Parse an expression (without `${{ }}`) into an AST; raises ExpressionError."""
    return _Parser(expr).parse()


def uses_status_function(node: Any) -> bool:
    """True if the AST calls success(), failure(), always() or cancelled()."""
    if isinstance(node, Call):
        return node.name in STATUS_FUNCTIONS or any(uses_status_function(a) for a in node.args)
    if isinstance(node, Binary):
        return uses_status_function(node.left) or uses_status_function(node.right)
    if isinstance(node, Not):
        return uses_status_function(node.operand)
    if isinstance(node, Index):
        return uses_status_function(node.target) or uses_status_function(node.key)
    if isinstance(node, Star):
        return uses_status_function(node.target)
    return False
