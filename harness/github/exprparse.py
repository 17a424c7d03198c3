"""Tokenizer and recursive-descent parser of the `${{ }}` expression language (AST only).

Lexing and parsing follow GitHub's `@actions/expressions`: keywords (true, false, null, NaN, Infinity)
are case-sensitive, number literals are whatever JavaScript's Number() accepts, only a named-value, a
function call or a parenthesised group can be indexed, and expressions are at most 21000 characters
and 50 levels deep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from harness.github.errors import ExpressionError
from harness.github.exprvalues import JS_WHITESPACE, parse_number

KNOWN_CONTEXTS = frozenset(
    {"github", "env", "vars", "secrets", "inputs", "needs", "steps", "job", "jobs", "runner", "strategy", "matrix"}
)
STATUS_FUNCTIONS = frozenset({"success", "failure", "always", "cancelled"})
# name -> (min args, max args or None for unbounded)
FUNCTION_ARITY: MappingProxyType[str, tuple[int, int | None]] = MappingProxyType(
    {
        "case": (3, 255),
        "contains": (2, 2),
        "startswith": (2, 2),
        "endswith": (2, 2),
        "format": (1, 255),
        "join": (1, 2),
        "tojson": (1, 1),
        "fromjson": (1, 1),
        "hashfiles": (1, None),
        "success": (0, 0),
        "failure": (0, 0),
        "always": (0, 0),
        "cancelled": (0, 0),
    }
)
MAX_LENGTH = 21000
MAX_DEPTH = 50


# ---------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Token:
    kind: str  # num, str, kw (true/false/null), ident, op, eof
    value: Any
    pos: int


_SPACE = " \t\r\n"  # skipped between tokens
_BOUNDARY = "()[],.!<>=&|" + JS_WHITESPACE  # ends a number or a name
_TWO_CHAR_OPS = ("&&", "||", "==", "!=", "<=", ">=")
_ONE_CHAR_OPS = "()[],!<>*"
_KEYWORDS = MappingProxyType({"true": True, "false": False, "null": None})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _unexpected(text: str, pos: int, expr: str) -> ExpressionError:
    return ExpressionError(f"Unexpected symbol {text!r} at position {pos} in expression: {expr!r}")


def _word_end(expr: str, pos: int, dots: bool) -> int:
    """End of the number (`dots`: '.' included) or name starting at `pos`."""
    end = pos + 1
    while end < len(expr) and (expr[end] not in _BOUNDARY or (dots and expr[end] == ".")):
        end += 1
    return end


def _read_string(expr: str, pos: int) -> tuple[str, int]:
    """The value of the string literal at `pos` ('' is a quote) and the index after it."""
    end = pos + 1
    chunks: list[str] = []
    while True:
        nxt = expr.find("'", end)
        if nxt < 0:
            raise ExpressionError(f"Unterminated string in expression: {expr!r}")
        chunks.append(expr[end:nxt])
        if not expr.startswith("''", nxt):
            return "".join(chunks), nxt + 1
        chunks.append("'")
        end = nxt + 2


def _number_value(number: float) -> int | float:
    """A literal's double; integral values below 2**53 as int (the same number, exactly)."""
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _takes_member(token: _Token) -> bool:
    """Whether a '.' after `token` is a dereference (else it starts a number such as .5)."""
    return token.kind == "ident" or (token.kind == "op" and token.value in (")", "]", "*"))


def _tokenize(expr: str) -> list[_Token]:
    if len(expr) > MAX_LENGTH:
        raise ExpressionError(f"Exceeded max expression length {MAX_LENGTH} in expression: {expr[:80]!r}...")
    tokens: list[_Token] = []
    pos = 0
    while pos < len(expr):
        ch = expr[pos]
        if ch in _SPACE:
            pos += 1
            continue
        if ch == "'":
            text, end = _read_string(expr, pos)
            tokens.append(_Token("str", text, pos))
        elif expr[pos : pos + 2] in _TWO_CHAR_OPS:
            end = pos + 2
            tokens.append(_Token("op", expr[pos:end], pos))
        elif ch in _ONE_CHAR_OPS or (ch == "." and tokens and _takes_member(tokens[-1])):
            end = pos + 1
            tokens.append(_Token("op", ch, pos))
        elif ch in "+-." or "0" <= ch <= "9":
            end = _word_end(expr, pos, dots=True)
            number = parse_number(expr[pos:end])
            if number != number:  # NaN: not a number after all
                raise _unexpected(expr[pos:end], pos, expr)
            tokens.append(_Token("num", _number_value(number), pos))
        else:
            end = _word_end(expr, pos, dots=False)
            tokens.append(_word_token(expr, pos, end, tokens))
        pos = end
    tokens.append(_Token("eof", None, len(expr)))
    return tokens


def _word_token(expr: str, pos: int, end: int, tokens: list[_Token]) -> _Token:
    word = expr[pos:end]
    if not _IDENTIFIER.fullmatch(word):
        raise _unexpected(word, pos, expr)
    if tokens and tokens[-1].kind == "op" and tokens[-1].value == ".":
        return _Token("ident", word, pos)  # a property name, even `true` or `NaN`
    if word in _KEYWORDS:
        return _Token("kw", _KEYWORDS[word], pos)
    if word in ("NaN", "Infinity"):
        return _Token("num", float(word.replace("Infinity", "inf")), pos)
    return _Token("ident", word, pos)


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
    """Recursive descent parser; precedence: || < && < == != < < <= > >= < ! < . [].

    Nesting is counted as @actions/expressions does (each expression, ||/&& chain, ! and
    member access adds a level); more than MAX_DEPTH levels is a parse error.
    """

    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = _tokenize(expr)
        self.i = 0
        self.depth = 0

    def error(self, message: str) -> ExpressionError:
        tok = self.tokens[self.i]
        return ExpressionError(f"{message} at position {tok.pos} in expression: {self.expr!r}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"Exceeded max expression depth {MAX_DEPTH}")

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, op: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.value == op

    def accept(self, op: str) -> bool:
        if self.at(op):
            self.i += 1
            return True
        return False

    def expect(self, op: str) -> None:
        if not self.accept(op):
            raise self.error(f"Expected {op!r}")

    def parse(self) -> Any:
        if self.peek().kind == "eof":
            raise ExpressionError(f"Empty expression: {self.expr!r}")
        node = self.expression()
        if self.peek().kind != "eof":
            raise self.error(f"Unexpected token {self.peek().value!r}")
        return node

    def expression(self) -> Any:
        self.enter()
        node = self.parse_logical("||")
        self.depth -= 1
        return node

    def parse_logical(self, op: str) -> Any:
        operand = self.parse_eq if op == "&&" else lambda: self.parse_logical("&&")
        node = operand()
        if self.at(op):
            self.enter()
            while self.accept(op):
                node = Binary(op, node, operand())
            self.depth -= 1
        return node

    def parse_eq(self) -> Any:
        node = self.parse_cmp()
        while (tok := self.peek()).kind == "op" and tok.value in ("==", "!="):
            self.take()
            node = Binary(tok.value, node, self.parse_cmp())
        return node

    def parse_cmp(self) -> Any:
        node = self.parse_unary()
        while (tok := self.peek()).kind == "op" and tok.value in ("<", "<=", ">", ">="):
            self.take()
            node = Binary(tok.value, node, self.parse_unary())
        return node

    def parse_unary(self) -> Any:
        if self.accept("!"):
            self.enter()
            node = Not(self.parse_unary())
            self.depth -= 1
            return node
        node, indexable = self.parse_primary()
        return self.parse_postfix(node) if indexable else node

    def parse_primary(self) -> tuple[Any, bool]:
        """The next operand, and whether it may be indexed (named-value, call or group)."""
        tok = self.take()
        if tok.kind in ("num", "str", "kw"):
            return Literal(tok.value), False
        if tok.kind == "op" and tok.value == "(":
            node = self.expression()
            if self.peek().kind == "eof":
                raise self.error("Expected ')' (unexpected end of expression)")
            self.expect(")")
            return node, True
        if tok.kind == "ident":
            lower = tok.value.lower()
            if self.accept("("):
                return self.parse_call(lower, tok), True
            if lower not in KNOWN_CONTEXTS:
                self.i -= 1
                raise self.error(
                    f"Unrecognized named-value: {tok.value!r} (contexts: {', '.join(sorted(KNOWN_CONTEXTS))})"
                )
            return Named(lower), True
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
                args.append(self.expression())
                if self.accept(")"):
                    break
                self.expect(",")
        low, high = FUNCTION_ARITY[name]
        if len(args) < low or (high is not None and len(args) > high):
            raise ExpressionError(
                f"Function {tok.value!r} takes {low}{'' if high == low else '+' if high is None else f'-{high}'} "
                f"argument(s), got {len(args)} in expression: {self.expr!r}"
            )
        if name == "case" and len(args) % 2 == 0:
            raise ExpressionError(f"Function 'case' takes an odd number of arguments in expression: {self.expr!r}")
        return Call(name, tuple(args))

    def parse_postfix(self, node: Any) -> Any:
        levels = 0
        while True:
            if self.accept("."):
                self.enter()
                levels += 1
                tok = self.take()
                if tok.kind == "ident":
                    node = Index(node, Literal(tok.value))
                elif tok.kind == "op" and tok.value == "*":
                    node = Star(node)
                else:
                    self.i -= 1
                    raise self.error("Expected a property name after '.'")
            elif self.accept("["):
                node = Star(node) if self.accept("*") else Index(node, self.expression())
                self.expect("]")
                self.enter()
                levels += 1
            else:
                self.depth -= levels
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
