"""Toxics: their JSON form, validation, and what each does to the bytes of one direction of one connection.

A toxic sits on a stream (`upstream`: client -> server, `downstream`: server -> client). On each connection it
applies or not (drawn once per connection from its `toxicity`). Data moves through the active toxics of a stream
in the order they were added, as chunks stamped with the time they were read (so latency does not accumulate
when chunks queue up). Semantics follow Shopify's toxiproxy 2.x `toxics/*.go`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

from harness.proxy import errors
from harness.proxy.seeding import toxicity_draw

Emit = Callable[[bytes, float], Awaitable[None]]
STREAMS = ("upstream", "downstream")  # Toxiproxy's chain order: upstream toxics are listed first


class LinkControl(Protocol):
    """What a toxic may do to the connection it sits on."""

    def close(self, reset: bool = False) -> None:
        """Close both sockets of the connection (with an RST when `reset`)."""


class Toxic:
    """A toxic as the API sees it: name, type, stream, toxicity and integer attributes."""

    def __init__(self, name: str, type_: str, stream: str, toxicity: float, attributes: dict[str, int]) -> None:
        self.name = name
        self.type = type_
        self.stream = stream
        self.toxicity = toxicity
        self.attributes = attributes

    @property
    def direction(self) -> str:
        """`upstream` or `downstream` (the stream field is matched case-insensitively, as Toxiproxy does)."""
        return self.stream.lower()

    def to_json(self) -> dict[str, Any]:
        """The toxic's JSON object, in Toxiproxy's field order."""
        return {
            "attributes": dict(self.attributes),
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": go_number(self.toxicity),
        }


def go_number(value: float) -> float | int:
    """Render a float the way Go's encoding/json does for whole numbers (`1`, not `1.0`)."""
    return int(value) if float(value).is_integer() and abs(value) < 1e21 else value


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"


def _string_field(body: dict[str, Any], key: str, default: str) -> str:
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise errors.bad_request_body(f"json: cannot unmarshal {_json_kind(value)} into Go value of type string")
    return value


def parse_toxicity(value: Any, default: float) -> float:
    """`toxicity` from JSON (a number; absent or null keeps `default`)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.bad_request_body(
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field ToxicWrapper.toxicity of type float32"
        )
    return float(value)


def parse_attributes(type_: str, raw: Any, base: dict[str, int] | None = None) -> dict[str, int]:
    """Attributes of a `type_` toxic from JSON, over `base` (all zero when creating). Unknown keys are ignored."""
    names = TOXIC_TYPES[type_].attributes
    result = dict(base) if base is not None else dict.fromkeys(names, 0)
    if raw is None:
        return result
    if not isinstance(raw, dict):
        raise errors.bad_request_body(f"json: cannot unmarshal {_json_kind(raw)} into Go value of type toxics.Toxic")
    for name in names:
        if name not in raw or raw[name] is None:
            continue
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise errors.bad_request_body(
                f"json: cannot unmarshal {_json_kind(value)} into Go struct field .attributes.{name} of type int64"
            )
        result[name] = value
    return result


def parse_new_toxic(body: Any, exists: Callable[[str], bool]) -> Toxic:
    """A new toxic from a POST /proxies/{proxy}/toxics body, checked in Toxiproxy's order.

    Defaults: stream `downstream`, toxicity 1, name `<type>_<stream>`. Errors: bad body (400), invalid stream
    (400), invalid type (400), name taken (409), bad attributes (400).
    """
    if not isinstance(body, dict):
        raise errors.bad_request_body(f"json: cannot unmarshal {_json_kind(body)} into Go value of type toxics.Wrapper")
    stream = _string_field(body, "stream", "downstream")
    type_ = _string_field(body, "type", "")
    name = _string_field(body, "name", "")
    toxicity = parse_toxicity(body.get("toxicity"), 1.0)
    if stream.lower() not in STREAMS:
        raise errors.invalid_stream()
    if not name:
        name = f"{type_}_{stream}"
    if type_ not in TOXIC_TYPES:
        raise errors.invalid_toxic_type()
    if exists(name):
        raise errors.toxic_already_exists()
    return Toxic(name, type_, stream, toxicity, parse_attributes(type_, body.get("attributes")))


def apply_update(toxic: Toxic, body: Any) -> None:
    """Update a toxic in place from a POST/PATCH body: only `attributes` (merged) and `toxicity` change."""
    if not isinstance(body, dict):
        raise errors.bad_request_body(f"json: cannot unmarshal {_json_kind(body)} into Go value of type struct")
    attributes = parse_attributes(toxic.type, body.get("attributes"), toxic.attributes)
    toxicity = parse_toxicity(body.get("toxicity"), toxic.toxicity)
    toxic.attributes, toxic.toxicity = attributes, toxicity


class ToxicState:
    """One toxic on one direction of one connection: its random source, toxicity draw, timers and counters."""

    def __init__(self, toxic: Toxic, rng: random.Random, loop: asyncio.AbstractEventLoop) -> None:
        self.toxic = toxic
        self.rng = rng
        self.loop = loop
        self.active = False
        self.generation = 0
        self.transmitted = 0  # limit_data: survives updates, as Toxiproxy's stub state does
        self.debt = 0.0  # bandwidth: seconds of sending still owed
        self.triggered = False  # reset_peer: first data seen
        self._pipe_generation = 0
        self._waiters: set[asyncio.Future[bool]] = set()
        self._timers: list[asyncio.TimerHandle] = []

    def start(self) -> bool:
        """(Re)start on a link: draw whether it applies, from the toxicity. Returns that draw."""
        self.debt, self.triggered = 0.0, False
        self.active = toxicity_draw(self.rng, self.toxic.toxicity)
        return self.active

    def interrupt(self) -> None:
        """The toxic was updated or removed: cut short any wait (data in flight passes on) and cancel timers."""
        self.generation += 1
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(False)
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def begin(self) -> None:
        """Mark the start of one pass of data through this toxic (waits after an interrupt end at once)."""
        self._pipe_generation = self.generation

    def call_later(self, seconds: float, callback: Callable[[], None]) -> None:
        """Run `callback` after `seconds` unless the toxic is interrupted first."""
        self._timers.append(self.loop.call_later(seconds, callback))

    async def sleep(self, seconds: float) -> bool:
        """Wait `seconds`. False when the toxic was updated or removed meanwhile (the caller passes data on)."""
        if self.generation != self._pipe_generation:
            return False
        if seconds <= 0:
            return True
        waiter: asyncio.Future[bool] = self.loop.create_future()
        timer = self.loop.call_later(seconds, _resolve, waiter, True)
        self._waiters.add(waiter)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiters.discard(waiter)


def _resolve(waiter: asyncio.Future[bool], value: bool) -> None:
    if not waiter.done():
        waiter.set_result(value)


class Behaviour:
    """What a toxic type does. The default passes data through unchanged (Toxiproxy's `noop`)."""

    attributes: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def attach(cls, state: ToxicState, link: LinkControl) -> None:
        """The toxic starts applying to a link (connection opened, toxic added or updated)."""

    @classmethod
    async def pipe(cls, state: ToxicState, link: LinkControl, data: bytes, stamp: float, emit: Emit) -> None:
        """Pass one chunk (read at loop time `stamp`) on to `emit`, changed, delayed or not at all."""
        await emit(data, stamp)

    @classmethod
    async def eof(cls, state: ToxicState, link: LinkControl) -> None:
        """The source closed its side; return when the close may pass on."""


class Noop(Behaviour):
    """Passes data through."""


class Latency(Behaviour):
    """Delays each chunk by `latency` ± `jitter` ms after it was read (jitter uniform in [-jitter, jitter))."""

    attributes = ("latency", "jitter")

    @staticmethod
    def delay_ms(latency: int, jitter: int, rng: random.Random) -> int:
        """One chunk's delay, as Toxiproxy draws it: latency + randint in [-jitter, jitter)."""
        return latency + (rng.randrange(2 * jitter) - jitter if jitter > 0 else 0)

    @classmethod
    async def pipe(cls, state: ToxicState, link: LinkControl, data: bytes, stamp: float, emit: Emit) -> None:
        """Wait until `stamp` + delay, then pass the chunk on."""
        attributes = state.toxic.attributes
        due = stamp + cls.delay_ms(attributes["latency"], attributes["jitter"], state.rng) / 1000
        if not await state.sleep(due - state.loop.time()):
            due = state.loop.time()
        await emit(data, max(due, stamp))


class Timeout(Behaviour):
    """Drops all data; closes the connection `timeout` ms after the toxic started (0: never, until removed)."""

    attributes = ("timeout",)

    @classmethod
    def attach(cls, state: ToxicState, link: LinkControl) -> None:
        """Arm the close timer."""
        timeout = state.toxic.attributes["timeout"]
        if timeout > 0:
            state.call_later(timeout / 1000, link.close)

    @classmethod
    async def pipe(cls, state: ToxicState, link: LinkControl, data: bytes, stamp: float, emit: Emit) -> None:
        """Drop the chunk."""


class Bandwidth(Behaviour):
    """Limits the stream to `rate` KB/s (1 KB = 1000 bytes); large chunks leave in 100 ms slices."""

    attributes = ("rate",)

    @classmethod
    async def pipe(cls, state: ToxicState, link: LinkControl, data: bytes, stamp: float, emit: Emit) -> None:
        """Owe len/rate seconds; pay the debt by waiting before passing the chunk on."""
        rate = state.toxic.attributes["rate"]
        if rate <= 0:
            await emit(data, stamp)
            return
        state.debt += len(data) / (rate * 1000)
        piece = rate * 100
        while len(data) > piece:
            if not await state.sleep(0.1):
                await emit(data, stamp)
                return
            await emit(data[:piece], stamp)
            data = data[piece:]
            state.debt -= 0.1
        started = state.loop.time()
        if not await state.sleep(state.debt):
            await emit(data, stamp)
            return
        state.debt -= state.loop.time() - started
        await emit(data, stamp)


class SlowClose(Behaviour):
    """Delays passing on the close of the stream by `delay` ms."""

    attributes = ("delay",)

    @classmethod
    async def eof(cls, state: ToxicState, link: LinkControl) -> None:
        """Wait `delay` ms."""
        await state.sleep(state.toxic.attributes["delay"] / 1000)


class ResetPeer(Behaviour):
    """On the first data, waits `timeout` ms (0: none) then resets the connection (RST, via SO_LINGER 0)."""

    attributes = ("timeout",)

    @classmethod
    async def pipe(cls, state: ToxicState, link: LinkControl, data: bytes, stamp: float, emit: Emit) -> None:
        """Drop the chunk; the first one arms the reset (like Toxiproxy, the wait is not cut short by removal)."""
        if state.triggered:
            return
        state.triggered = True
        timeout = state.toxic.attributes["timeout"]
        if timeout > 0:
            await asyncio.sleep(timeout / 1000)
        link.close(reset=True)


class Slicer(Behaviour):
    """Cuts each chunk into pieces of about `average_size` ± `size_variation` bytes, `delay` µs apart."""

    attributes = ("average_size", "size_variation", "delay")

    @staticmethod
    def pieces(size: int, average: int, variation: int, rng: random.Random) -> list[tuple[int, int]]:
        """(start, end) offsets of the pieces of a `size`-byte chunk: halve around the middle ± variation until a
        piece is within `variation` of `average` (Toxiproxy's recursion and draw order, made iterative)."""
        variation = max(variation, 0)
        result: list[tuple[int, int]] = []
        pending = [(0, size)]
        while pending:
            start, end = pending.pop()
            if (end - start) - average <= variation or end - start < 2:
                result.append((start, end))
                continue
            middle = start + (end - start) // 2
            if variation > 0:
                middle += rng.randrange(2 * variation) - variation
            middle = min(max(middle, start + 1), end - 1)
            pending.append((middle, end))
            pending.append((start, middle))
        return result

    @classmethod
    async def pipe(cls, state: ToxicState, link: LinkControl, data: bytes, stamp: float, emit: Emit) -> None:
        """Pass the pieces on one by one, waiting `delay` µs after each."""
        attributes = state.toxic.attributes
        delay = attributes["delay"] / 1_000_000
        for start, end in cls.pieces(len(data), attributes["average_size"], attributes["size_variation"], state.rng):
            await emit(data[start:end], stamp)
            if delay > 0 and not await state.sleep(delay):
                if end < len(data):
                    await emit(data[end:], stamp)
                return


class LimitData(Behaviour):
    """Passes on at most `bytes` bytes of the stream, then closes the connection."""

    attributes = ("bytes",)

    @classmethod
    async def pipe(cls, state: ToxicState, link: LinkControl, data: bytes, stamp: float, emit: Emit) -> None:
        """Truncate to what is left of the budget; close once it is spent."""
        limit = state.toxic.attributes["bytes"]
        remaining = max(limit - state.transmitted, 0)
        data = data[:remaining]
        if data:
            await emit(data, stamp)
            state.transmitted += len(data)
        if limit - state.transmitted <= 0:
            link.close()


TOXIC_TYPES: MappingProxyType[str, type[Behaviour]] = MappingProxyType(
    {
        "noop": Noop,
        "latency": Latency,
        "timeout": Timeout,
        "bandwidth": Bandwidth,
        "slow_close": SlowClose,
        "reset_peer": ResetPeer,
        "slicer": Slicer,
        "limit_data": LimitData,
    }
)
