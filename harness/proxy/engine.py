"""The TCP side: proxies that listen, connections that pair a client with the upstream, and the two links
(upstream: client -> server, downstream: server -> client) that move bytes through the toxics.

Everything runs on one asyncio event loop, so API changes (add a toxic, disable a proxy) apply to live connections
without locks. A link with no active toxic writes each chunk straight to the other socket from the read callback;
otherwise chunks queue, stamped with their read time, for a task that runs them through the toxics.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import socket
import struct
from typing import Any

from harness.proxy import errors
from harness.proxy.seeding import link_random
from harness.proxy.toxics import STREAMS, TOXIC_TYPES, Toxic, ToxicState

LOG = logging.getLogger("harness.proxy")
QUEUE_HIGH = 1 << 20  # bytes queued on a link before reading from its source pauses
QUEUE_LOW = 1 << 18


def split_host_port(address: str) -> tuple[str, int]:
    """Split `host:port` / `[v6]:port` / `:port` like Go's net.SplitHostPort (numeric port; empty address or port
    means port 0, as Go's resolver treats them)."""
    if not address:
        return "", 0
    if address.startswith("["):
        end = address.find("]")
        if end < 0 or not address[end + 1 :].startswith(":"):
            raise ValueError(f"address {address}: missing port in address")
        host, port = address[1:end], address[end + 2 :]
    else:
        host, sep, port = address.rpartition(":")
        if not sep:
            raise ValueError(f"address {address}: missing port in address")
        if ":" in host:
            raise ValueError(f"address {address}: too many colons in address")
    if not port:
        return host, 0
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"address {address}: invalid port")
    return host, int(port)


def join_host_port(host: str, port: int) -> str:
    """`host:port`, bracketing IPv6 hosts, as Go prints a listener address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind_listener(listen: str) -> socket.socket:
    """A listening TCP socket for `listen` (port 0 picks one). An empty host listens on every interface."""
    try:
        host, port = split_host_port(listen)
    except ValueError as exc:
        raise errors.internal(f"listen tcp {listen}: {exc}") from exc
    try:
        if not host and socket.has_dualstack_ipv6():
            try:
                return socket.create_server(("::", port), family=socket.AF_INET6, dualstack_ipv6=True)
            except OSError:
                pass  # IPv6 disabled in this network namespace: fall back to IPv4
        infos = socket.getaddrinfo(host or "0.0.0.0", port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise errors.internal(f"listen tcp {listen}: lookup {host}: {exc.strerror or exc}") from exc
    infos.sort(key=lambda info: info[0] != socket.AF_INET)  # prefer IPv4, as Go does for "localhost"
    family, _, _, _, address = infos[0]
    try:
        return socket.create_server(address[:2], family=family)
    except OSError as exc:
        raise errors.internal(f"listen tcp {listen}: bind: {(exc.strerror or str(exc)).lower()}") from exc


def _sockname(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return join_host_port(host, port)


class Proxy:
    """One named proxy: listens on `listen` while enabled and forwards each connection to `upstream`."""

    def __init__(self, name: str, listen: str, upstream: str, seed: int) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.seed = seed
        self.enabled = False
        self.chains: dict[str, list[Toxic]] = {stream: [] for stream in STREAMS}
        self.connections: set[Connection] = set()
        self.accepted = 0  # connections accepted so far: the next one's index
        self._server: asyncio.AbstractServer | None = None

    def to_json(self) -> dict[str, Any]:
        """The proxy's JSON object with its toxics, in Toxiproxy's field order."""
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "toxics": [toxic.to_json() for toxic in self.toxics()],
        }

    async def start(self) -> None:
        """Listen (no-op when enabled). Raises ApiError (500) when the address cannot be bound."""
        if self.enabled:
            return
        sock = bind_listener(self.listen)
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(lambda: _Peer(self, None), sock=sock)
        except OSError as exc:
            sock.close()
            raise errors.internal(f"listen tcp {self.listen}: {exc}") from exc
        self.listen = _sockname(sock)
        self.enabled = True
        LOG.info("proxy %s listening on %s -> %s", self.name, self.listen, self.upstream)

    def stop(self) -> None:
        """Stop listening and close every connection (no-op when disabled)."""
        if not self.enabled:
            return
        self.enabled = False
        if self._server is not None:
            self._server.close()
            self._server = None
        for connection in list(self.connections):
            connection.close()
        LOG.info("proxy %s stopped", self.name)

    async def update(self, listen: str, upstream: str, enabled: bool) -> None:
        """Apply a proxy update: a new address restarts it (dropping connections); then enable or disable."""
        if listen != self.listen or upstream != self.upstream:
            self.stop()
            self.listen, self.upstream = listen, upstream
        if enabled:
            await self.start()
        else:
            self.stop()

    def toxics(self) -> list[Toxic]:
        """All toxics, upstream chain first, each in the order added."""
        return [toxic for stream in STREAMS for toxic in self.chains[stream]]

    def find_toxic(self, name: str) -> Toxic | None:
        """The toxic called `name`, in either stream."""
        return next((toxic for toxic in self.toxics() if toxic.name == name), None)

    def add_toxic(self, toxic: Toxic) -> None:
        """Append to its stream's chain; it starts on live connections at once."""
        self.chains[toxic.direction].append(toxic)
        for connection in list(self.connections):
            connection.toxic_added(toxic)

    def toxic_updated(self, toxic: Toxic) -> None:
        """Restart the (already changed) toxic on live connections."""
        for connection in list(self.connections):
            connection.toxic_updated(toxic)

    def remove_toxic(self, toxic: Toxic) -> None:
        """Take it out of its chain and off live connections (data it holds passes on)."""
        self.chains[toxic.direction].remove(toxic)
        for connection in list(self.connections):
            connection.toxic_removed(toxic)

    def reset_toxics(self) -> None:
        """Remove every toxic."""
        for toxic in self.toxics():
            self.remove_toxic(toxic)


class _Peer(asyncio.Protocol):
    """One socket of a proxied connection: the client's (`connection` None until accepted) or the upstream's."""

    def __init__(self, proxy: Proxy, connection: Connection | None) -> None:
        self.proxy = proxy
        self.connection = connection
        self.transport: asyncio.Transport | None = None
        self.outgoing: Link | None = None  # the link this socket feeds
        self.incoming: Link | None = None  # the link that writes to this socket

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Accepted (client) or connected (upstream): hold reading until both links exist."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.pause_reading()
        if self.connection is None:
            self.connection = Connection(self.proxy, self)

    def data_received(self, data: bytes) -> None:
        """Feed the link leaving from this socket."""
        if self.outgoing is not None:
            self.outgoing.feed(data)

    def eof_received(self) -> bool:
        """The peer half-closed: pass the close on through the link (keep our side open for writing)."""
        if self.outgoing is not None:
            self.outgoing.feed_eof()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        """The socket is gone: the whole connection ends."""
        if self.connection is not None:
            self.connection.close()

    def pause_writing(self) -> None:
        """Our send buffer to this socket is full: stop reading from the other side."""
        if self.incoming is not None:
            self.incoming.destination_paused()

    def resume_writing(self) -> None:
        """Our send buffer drained."""
        if self.incoming is not None:
            self.incoming.destination_resumed()


def _set_linger_zero(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass


class Connection:
    """A client connection and its upstream connection, joined by an upstream and a downstream link."""

    def __init__(self, proxy: Proxy, client: _Peer) -> None:
        self.proxy = proxy
        self.index = proxy.accepted
        proxy.accepted += 1
        self.client = client
        self.upstream: _Peer | None = None
        self.links: dict[str, Link] = {}
        self.closed = False
        proxy.connections.add(self)
        self._dial = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            host, port = split_host_port(self.proxy.upstream)
            _, upstream = await loop.create_connection(lambda: _Peer(self.proxy, self), host or "localhost", port)
        except (OSError, ValueError) as exc:
            LOG.warning("proxy %s: cannot reach upstream %s: %s", self.proxy.name, self.proxy.upstream, exc)
            self.close()
            return
        if self.closed:
            assert upstream.transport is not None
            upstream.transport.close()
            return
        self.upstream = upstream
        for stream, source, destination in (("upstream", self.client, upstream), ("downstream", upstream, self.client)):
            link = Link(self, stream, source, destination)
            source.outgoing, destination.incoming = link, link
            self.links[stream] = link
            for toxic in self.proxy.chains[stream]:
                link.attach(toxic)
        for peer in (self.client, upstream):
            if peer.transport is not None:
                peer.transport.resume_reading()

    def toxic_added(self, toxic: Toxic) -> None:
        """Start a new toxic on the matching link."""
        if toxic.direction in self.links:
            self.links[toxic.direction].attach(toxic)

    def toxic_updated(self, toxic: Toxic) -> None:
        """Restart a changed toxic on the matching link."""
        if toxic.direction in self.links:
            self.links[toxic.direction].restart(toxic)

    def toxic_removed(self, toxic: Toxic) -> None:
        """Take a toxic off the matching link."""
        if toxic.direction in self.links:
            self.links[toxic.direction].detach(toxic)

    def link_finished(self) -> None:
        """A link passed its close on; when both have, close the sockets."""
        if self.links and all(link.finished for link in self.links.values()):
            self.close()

    def close(self, reset: bool = False) -> None:
        """Close both sockets (idempotent). With `reset`, abort them with SO_LINGER 0 so the peers get an RST."""
        if self.closed:
            return
        self.closed = True
        self.proxy.connections.discard(self)
        if not self._dial.done() and self._dial is not asyncio.current_task():
            self._dial.cancel()
        for link in self.links.values():
            link.shutdown()
        for peer in (self.client, self.upstream):
            if peer is None or peer.transport is None:
                continue
            if reset:
                _set_linger_zero(peer.transport)
                peer.transport.abort()
            else:
                peer.transport.close()


class Link:
    """One direction of a connection: reads from `source`, runs chunks through the active toxics, writes to
    `destination`."""

    def __init__(self, connection: Connection, stream: str, source: _Peer, destination: _Peer) -> None:
        self.connection = connection
        self.stream = stream
        self.source = source
        self.destination = destination
        self.loop = asyncio.get_running_loop()
        self.states: dict[str, ToxicState] = {}
        self.finished = False
        self._active = 0
        self._queue: collections.deque[tuple[bytes | None, float]] = collections.deque()
        self._queued = 0
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        self._paused: set[str] = set()
        self._writable = True
        self._write_waiters: list[asyncio.Future[None]] = []

    # -- toxics ---------------------------------------------------------------------------------------------------

    def attach(self, toxic: Toxic) -> None:
        """Start a toxic on this link with its own seeded random source."""
        rng = link_random(
            self.connection.proxy.seed, self.connection.proxy.name, self.connection.index, self.stream, toxic.name
        )
        state = ToxicState(toxic, rng, self.loop)
        self.states[toxic.name] = state
        self._start(state)

    def restart(self, toxic: Toxic) -> None:
        """The toxic changed: interrupt it and start it again (new toxicity draw; limit_data's count is kept)."""
        state = self.states.get(toxic.name)
        if state is None:
            return
        self._stop(state)
        self._start(state)

    def detach(self, toxic: Toxic) -> None:
        """Remove the toxic; data it holds passes on."""
        state = self.states.pop(toxic.name, None)
        if state is not None:
            self._stop(state)

    def _start(self, state: ToxicState) -> None:
        if state.start():
            self._active += 1
            TOXIC_TYPES[state.toxic.type].attach(state, self)

    def _stop(self, state: ToxicState) -> None:
        if state.active:
            self._active -= 1
            state.active = False
        state.interrupt()

    def close(self, reset: bool = False) -> None:
        """Close the whole connection (what toxics call)."""
        self.connection.close(reset)

    # -- data -----------------------------------------------------------------------------------------------------

    def _direct(self) -> bool:
        return self._active == 0 and not self._queue and not self._busy

    def feed(self, data: bytes) -> None:
        """A chunk arrived from the source."""
        if self.connection.closed:
            return
        if self._direct():
            assert self.destination.transport is not None
            self.destination.transport.write(data)
            return
        self._queue.append((data, self.loop.time()))
        self._queued += len(data)
        if self._queued > QUEUE_HIGH:
            self._pause_source("queue")
        self._kick()

    def feed_eof(self) -> None:
        """The source half-closed."""
        if self.connection.closed:
            return
        if self._direct():
            self._pass_eof()
            return
        self._queue.append((None, self.loop.time()))
        self._kick()

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._busy = True
            self._task = self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._queue and not self.connection.closed:
                data, stamp = self._queue.popleft()
                chain = [
                    (toxic, self.states[toxic.name])
                    for toxic in self.connection.proxy.chains[self.stream]
                    if toxic.name in self.states and self.states[toxic.name].active
                ]
                if data is None:
                    for toxic, state in chain:
                        state.begin()
                        await TOXIC_TYPES[toxic.type].eof(state, self)
                    if not self.connection.closed:
                        self._pass_eof()
                    return
                self._queued -= len(data)
                if self._queued < QUEUE_LOW:
                    self._resume_source("queue")
                await self._run(chain, 0, data, stamp)
        except (ConnectionError, OSError) as exc:
            LOG.debug("proxy %s: link %s failed: %s", self.connection.proxy.name, self.stream, exc)
            self.connection.close()
        finally:
            self._busy = False

    async def _run(self, chain: list[tuple[Toxic, ToxicState]], position: int, data: bytes, stamp: float) -> None:
        if position == len(chain):
            await self._write(data)
            return
        toxic, state = chain[position]
        state.begin()

        async def onward(chunk: bytes, chunk_stamp: float) -> None:
            await self._run(chain, position + 1, chunk, chunk_stamp)

        await TOXIC_TYPES[toxic.type].pipe(state, self, data, stamp, onward)

    async def _write(self, data: bytes) -> None:
        while not self._writable and not self.connection.closed:
            waiter: asyncio.Future[None] = self.loop.create_future()
            self._write_waiters.append(waiter)
            await waiter
        if not self.connection.closed and self.destination.transport is not None:
            self.destination.transport.write(data)

    def _pass_eof(self) -> None:
        transport = self.destination.transport
        if transport is not None and transport.can_write_eof() and not transport.is_closing():
            transport.write_eof()
        self.finished = True
        self.connection.link_finished()

    # -- flow control ---------------------------------------------------------------------------------------------

    def _pause_source(self, reason: str) -> None:
        if not self._paused and self.source.transport is not None and not self.source.transport.is_closing():
            self.source.transport.pause_reading()
        self._paused.add(reason)

    def _resume_source(self, reason: str) -> None:
        if reason not in self._paused:
            return
        self._paused.discard(reason)
        if not self._paused and self.source.transport is not None and not self.source.transport.is_closing():
            self.source.transport.resume_reading()

    def destination_paused(self) -> None:
        """The destination's send buffer is full."""
        self._writable = False
        self._pause_source("destination")

    def destination_resumed(self) -> None:
        """The destination's send buffer drained."""
        self._writable = True
        self._wake_writers()
        self._resume_source("destination")

    def _wake_writers(self) -> None:
        for waiter in self._write_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._write_waiters.clear()

    def shutdown(self) -> None:
        """The connection closed: stop toxics, drop queued data, release waiting writers."""
        for state in self.states.values():
            state.interrupt()
        self._queue.clear()
        self._wake_writers()
        if self._task is not None and not self._task.done() and self._task is not asyncio.current_task():
            self._task.cancel()
