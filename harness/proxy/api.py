"""The Toxiproxy 2.x HTTP API (the routes, JSON shapes, status codes and error bodies of Shopify's api.go),
served by a minimal HTTP/1.1 server on the proxies' event loop.

Routes: GET /version; POST /reset; GET, POST /proxies; POST /populate; GET, POST|PATCH, DELETE /proxies/{proxy};
GET, POST /proxies/{proxy}/toxics; GET, POST|PATCH, DELETE /proxies/{proxy}/toxics/{toxic}.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from harness.proxy import errors
from harness.proxy.engine import Proxy
from harness.proxy.toxics import apply_update, parse_new_toxic

LOG = logging.getLogger("harness.proxy")
API_VERSION = "2.7.0+deploy-chaos"  # Toxiproxy API level (JSON /version, PATCH updates); build tag says whose
MAX_BODY = 1 << 20


@dataclass
class Response:
    """An HTTP response."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def json_response(value: Any, status: int = 200) -> Response:
    """Compact JSON, as Go's json.Marshal writes it."""
    return Response(status, json.dumps(value, separators=(",", ":")).encode(), "application/json")


def error_response(error: errors.ApiError) -> Response:
    """Toxiproxy's apiError: the JSON error object written with Go's http.Error (text/plain, trailing newline)."""
    body = json.dumps(error.body(), separators=(",", ":")).encode() + b"\n"
    return Response(error.status, body, "text/plain; charset=utf-8", {"X-Content-Type-Options": "nosniff"})


def _decode(body: bytes) -> Any:
    if not body.strip():
        raise errors.bad_request_body("EOF")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request_body(str(exc)) from exc


def _proxy_fields(item: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    """name/listen/upstream (strings) and enabled (bool) from a JSON object, over `defaults`."""
    if not isinstance(item, dict):
        raise errors.bad_request_body("json: cannot unmarshal into Go value of type toxiproxy.Proxy")
    result = dict(defaults)
    for key, kind in (("name", str), ("listen", str), ("upstream", str), ("enabled", bool)):
        value = item.get(key)
        if value is None:
            continue
        if not isinstance(value, kind):
            raise errors.bad_request_body(
                f"json: cannot unmarshal {type(value).__name__} into Go struct field Proxy.{key} "
                f"of type {'bool' if kind is bool else 'string'}"
            )
        result[key] = value
    return result


class Api:
    """The proxy collection and its HTTP API. All calls run on one event loop, one request at a time."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.proxies: dict[str, Proxy] = {}
        self._lock = asyncio.Lock()

    # -- operations (also used for --config) ----------------------------------------------------------------------

    def get_proxy(self, name: str) -> Proxy:
        """The proxy called `name` (ApiError 404 when there is none)."""
        proxy = self.proxies.get(name)
        if proxy is None:
            raise errors.proxy_not_found()
        return proxy

    async def create_proxy(self, name: str, listen: str, upstream: str, enabled: bool) -> Proxy:
        """Add a proxy, listening at once when enabled (409 when the name is taken; 500 when it cannot listen)."""
        if not name:
            raise errors.missing_field("name")
        if not upstream:
            raise errors.missing_field("upstream")
        if name in self.proxies:
            raise errors.proxy_already_exists()
        proxy = Proxy(name, listen, upstream, self.seed)
        if enabled:
            await proxy.start()
        self.proxies[name] = proxy
        return proxy

    async def populate(self, items: Any) -> tuple[list[Proxy], errors.ApiError | None]:
        """Create or replace proxies in bulk: one whose listen and upstream match is kept, toxics and all;
        otherwise it is replaced. Validates everything first; stops at the first failure."""
        if not isinstance(items, list):
            raise errors.bad_request_body("json: cannot unmarshal object into Go value of type []struct")
        wanted = [_proxy_fields(item, {"name": "", "listen": "", "upstream": "", "enabled": True}) for item in items]
        for number, item in enumerate(wanted, start=1):
            if not item["name"]:
                raise errors.missing_field(f"name at proxy {number}")
            if not item["upstream"]:
                raise errors.missing_field(f"upstream at proxy {number}")
        done: list[Proxy] = []
        for item in wanted:
            existing = self.proxies.get(item["name"])
            if existing is not None:
                if existing.listen == item["listen"] and existing.upstream == item["upstream"]:
                    done.append(existing)
                    continue
                existing.stop()
                del self.proxies[item["name"]]
            try:
                done.append(await self.create_proxy(item["name"], item["listen"], item["upstream"], item["enabled"]))
            except errors.ApiError as exc:
                return done, exc
        return done, None

    async def populate_exclusive(self, items: Any) -> tuple[list[Proxy], errors.ApiError | None]:
        """`populate`, serialized with API requests (for a config file loaded while the API serves)."""
        async with self._lock:
            return await self.populate(items)

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        for proxy in list(self.proxies.values()):
            await proxy.start()
            proxy.reset_toxics()

    def close(self) -> None:
        """Stop every proxy (shutdown)."""
        for proxy in self.proxies.values():
            proxy.stop()

    # -- HTTP -----------------------------------------------------------------------------------------------------

    async def dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """Route one request; errors become Toxiproxy's error responses."""
        if headers.get("user-agent", "").startswith("Mozilla/"):
            return Response(403, b"User agent not allowed\n", "text/plain; charset=utf-8")
        parts = [unquote(part) for part in urlsplit(target).path.split("/")[1:]]
        async with self._lock:
            try:
                return await self._route(method, parts, body)
            except errors.ApiError as exc:
                return error_response(exc)
            except Exception as exc:  # a bug must not kill the server: report it like Go's apiError would
                LOG.exception("API %s %s failed", method, target)
                return error_response(errors.internal(str(exc)))

    async def _route(self, method: str, parts: list[str], body: bytes) -> Response:
        routes: dict[str, Any]
        match parts:
            case ["version"]:
                routes = {"GET": self._version}
            case ["reset"]:
                routes = {"POST": self._reset}
            case ["populate"]:
                routes = {"POST": self._populate}
            case ["proxies"]:
                routes = {"GET": self._proxy_index, "POST": self._proxy_create}
            case ["proxies", name] if name:
                routes = {
                    "GET": self._proxy_show,
                    "POST": self._proxy_update,
                    "PATCH": self._proxy_update,
                    "DELETE": self._proxy_delete,
                }
            case ["proxies", name, "toxics"] if name:
                routes = {"GET": self._toxic_index, "POST": self._toxic_create}
            case ["proxies", name, "toxics", toxic] if name and toxic:
                routes = {
                    "GET": self._toxic_show,
                    "POST": self._toxic_update,
                    "PATCH": self._toxic_update,
                    "DELETE": self._toxic_delete,
                }
            case _:
                return Response(404, b"404 page not found\n", "text/plain; charset=utf-8")
        handler = routes.get(method)
        if handler is None:
            return Response(405)
        return await handler(parts, body)

    async def _version(self, parts: list[str], body: bytes) -> Response:
        payload = json.dumps({"version": API_VERSION}).encode() + b"\n"
        return Response(200, payload, "application/json;charset=utf-8")

    async def _reset(self, parts: list[str], body: bytes) -> Response:
        await self.reset()
        return Response(204)

    async def _populate(self, parts: list[str], body: bytes) -> Response:
        try:
            done, error = await self.populate(_decode(body))
        except errors.ApiError as exc:
            return json_response({**exc.body(), "proxies": None}, exc.status)
        listed = [proxy.to_json() for proxy in done] or None
        if error is not None:
            return json_response({**error.body(), "proxies": listed}, error.status)
        return json_response({"proxies": listed}, 201)

    async def _proxy_index(self, parts: list[str], body: bytes) -> Response:
        return json_response({name: self.proxies[name].to_json() for name in sorted(self.proxies)})

    async def _proxy_create(self, parts: list[str], body: bytes) -> Response:
        fields = _proxy_fields(_decode(body), {"name": "", "listen": "", "upstream": "", "enabled": True})
        proxy = await self.create_proxy(fields["name"], fields["listen"], fields["upstream"], fields["enabled"])
        return json_response(proxy.to_json(), 201)

    async def _proxy_show(self, parts: list[str], body: bytes) -> Response:
        return json_response(self.get_proxy(parts[1]).to_json())

    async def _proxy_update(self, parts: list[str], body: bytes) -> Response:
        proxy = self.get_proxy(parts[1])
        current = {"name": proxy.name, "listen": proxy.listen, "upstream": proxy.upstream, "enabled": proxy.enabled}
        fields = _proxy_fields(_decode(body), current)
        await proxy.update(fields["listen"], fields["upstream"], fields["enabled"])
        return json_response(proxy.to_json())

    async def _proxy_delete(self, parts: list[str], body: bytes) -> Response:
        self.get_proxy(parts[1]).stop()
        del self.proxies[parts[1]]
        return Response(204)

    async def _toxic_index(self, parts: list[str], body: bytes) -> Response:
        return json_response([toxic.to_json() for toxic in self.get_proxy(parts[1]).toxics()])

    async def _toxic_create(self, parts: list[str], body: bytes) -> Response:
        proxy = self.get_proxy(parts[1])
        toxic = parse_new_toxic(_decode(body), lambda name: proxy.find_toxic(name) is not None)
        proxy.add_toxic(toxic)
        return json_response(toxic.to_json())

    async def _toxic_show(self, parts: list[str], body: bytes) -> Response:
        toxic = self.get_proxy(parts[1]).find_toxic(parts[3])
        if toxic is None:
            raise errors.toxic_not_found()
        return json_response(toxic.to_json())

    async def _toxic_update(self, parts: list[str], body: bytes) -> Response:
        proxy = self.get_proxy(parts[1])
        toxic = proxy.find_toxic(parts[3])
        if toxic is None:
            raise errors.toxic_not_found()
        apply_update(toxic, _decode(body))
        proxy.toxic_updated(toxic)
        return json_response(toxic.to_json())

    async def _toxic_delete(self, parts: list[str], body: bytes) -> Response:
        proxy = self.get_proxy(parts[1])
        toxic = proxy.find_toxic(parts[3])
        if toxic is None:
            raise errors.toxic_not_found()
        proxy.remove_toxic(toxic)
        return Response(204)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()).strip():
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length = int(headers.get("content-length", "0") or "0")
    if length > MAX_BODY:
        raise ValueError("request body too large")
    return await reader.readexactly(length) if length > 0 else b""


def _encode(response: Response, keep_alive: bool) -> bytes:
    status = HTTPStatus(response.status)
    lines = [f"HTTP/1.1 {status.value} {status.phrase}", f"Date: {formatdate(usegmt=True)}"]
    if response.content_type:
        lines.append(f"Content-Type: {response.content_type}")
    lines.extend(f"{name}: {value}" for name, value in response.headers.items())
    if response.status != 204:
        lines.append(f"Content-Length: {len(response.body)}")
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (response.body if response.status != 204 else b"")


async def serve_http(api: Api, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Serve HTTP/1.1 requests on one API connection (keep-alive) until the client closes it."""
    try:
        while True:
            request_line = await reader.readline()
            if not request_line.strip():
                break
            try:
                method, target, version = request_line.decode("latin-1").split()
            except ValueError:
                writer.write(_encode(Response(400, b"bad request\n", "text/plain; charset=utf-8"), False))
                break
            headers: dict[str, str] = {}
            while (line := await reader.readline()).strip():
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            try:
                body = await _read_body(reader, headers)
            except ValueError:
                writer.write(_encode(Response(400, b"bad request body\n", "text/plain; charset=utf-8"), False))
                break
            connection = headers.get("connection", "").lower()
            keep_alive = connection != "close" and (version != "HTTP/1.0" or connection == "keep-alive")
            response = await api.dispatch(method.upper(), target, headers, body)
            writer.write(_encode(response, keep_alive))
            await writer.drain()
            if not keep_alive:
                break
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()
