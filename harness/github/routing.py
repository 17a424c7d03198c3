"""A tiny HTTP router: request/response value types and regex routes with typed params."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from harness.github.errors import ApiError


@dataclass
class Request:
    """An HTTP request as the handlers see it."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    base_url: str  # scheme://host[:port] as the client reached us

    @classmethod
    def build(cls, method: str, target: str, headers: Mapping[str, str], body: bytes, base_url: str) -> Request:
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        return cls(method.upper(), unquote(parts.path), query, headers, body, base_url)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object ({} when empty); 400 when malformed."""
        if not self.body.strip():
            return {}
        try:
            value = json.loads(self.body)
        except ValueError as exc:
            raise ApiError(400, f"Problems parsing JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise ApiError(400, "Problems parsing JSON: expected an object")
        return value

    def query_int(self, name: str, default: int) -> int:
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise ApiError(400, f"query parameter {name} must be an integer") from exc

    def query_float(self, name: str, default: float) -> float:
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        try:
            return float(raw)
        except ValueError as exc:
            raise ApiError(400, f"query parameter {name} must be a number") from exc


@dataclass
class Response:
    """Status, body and content type."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(value).encode())

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), "text/plain; charset=utf-8")


Handler = Callable[..., Response]


class Router:
    """Routes like '/repos/{owner}/{repo}/actions/runs/{run_id:int}' -> handler(request, **params)."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^"
        for piece in re.split(r"(\{[a-z_]+(?::[a-z]+)?\})", pattern):
            if piece.startswith("{"):
                name, _, kind = piece[1:-1].partition(":")
                regex += {"int": rf"(?P<{name}>\d+)", "path": rf"(?P<{name}>.+)"}.get(kind, rf"(?P<{name}>[^/]+)")
            else:
                regex += re.escape(piece)
        self._routes.append((method.upper(), re.compile(regex + "$"), handler))

    def dispatch(self, request: Request) -> Response:
        """Call the matching handler; 404 for unknown paths, 405 for a known path and wrong method."""
        path_matched = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match is None:
                continue
            path_matched = True
            if method != request.method:
                continue
            params = {k: int(v) if v.isdigit() and k.endswith("_id") else v for k, v in match.groupdict().items()}
            return handler(request, **params)
        if path_matched:
            raise ApiError(405, f"Method {request.method} not allowed on {request.path}")
        raise ApiError(404, "Not Found", documentation_url="https://docs.github.com/rest")
