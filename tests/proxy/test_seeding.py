"""Seeded randomness: the same seed gives every connection the same draws (unit level and end to end)."""

from __future__ import annotations

import itertools
import random

from harness.proxy import ServerThread
from harness.proxy.seeding import link_random, toxicity_draw
from harness.proxy.toxics import Latency, Slicer
from tests.proxy.support import connect, round_trip_ms, use_server


def draws(rng: random.Random, count: int = 5) -> list[float]:
    return [rng.random() for _ in range(count)]


def test_same_inputs_give_the_same_source_and_each_input_matters() -> None:
    base = draws(link_random(7, "github", 3, "downstream", "latency_downstream"))
    assert base == draws(link_random(7, "github", 3, "downstream", "latency_downstream"))
    variants = [
        link_random(8, "github", 3, "downstream", "latency_downstream"),
        link_random(7, "prometheus", 3, "downstream", "latency_downstream"),
        link_random(7, "github", 4, "downstream", "latency_downstream"),
        link_random(7, "github", 3, "upstream", "latency_downstream"),
        link_random(7, "github", 3, "downstream", "jitter"),
    ]
    assert all(draws(rng) != base for rng in variants)


def test_toxicity_zero_never_and_one_always() -> None:
    rng = random.Random(1)
    assert not any(toxicity_draw(rng, 0.0) for _ in range(1000))
    assert all(toxicity_draw(rng, 1.0) for _ in range(1000))
    share = sum(toxicity_draw(rng, 0.3) for _ in range(10_000)) / 10_000
    assert 0.27 < share < 0.33


def test_latency_jitter_draws_are_reproducible_and_in_range() -> None:
    def delays(seed: int) -> list[int]:
        rng = link_random(seed, "p", 0, "downstream", "latency_downstream")
        return [Latency.delay_ms(100, 30, rng) for _ in range(200)]

    assert delays(1) == delays(1)
    assert delays(1) != delays(2)
    assert all(70 <= d < 130 for d in delays(1))
    assert len(set(delays(1))) > 20
    assert Latency.delay_ms(100, 0, random.Random(0)) == 100


def _reference_pieces(start: int, end: int, average: int, variation: int, rng: random.Random) -> list[int]:
    """Toxiproxy's recursive slicer (offset pairs), for comparison."""
    if (end - start) - average <= variation:
        return [start, end]
    middle = start + (end - start) // 2 + (rng.randrange(2 * variation) - variation if variation else 0)
    return _reference_pieces(start, middle, average, variation, rng) + _reference_pieces(
        middle, end, average, variation, rng
    )


def test_slicer_pieces_cover_the_chunk_reproducibly_like_toxiproxys_recursion() -> None:
    for size, average, variation in ((1000, 100, 20), (4096, 64, 0), (777, 10, 5), (5, 10, 2)):
        pieces = Slicer.pieces(size, average, variation, random.Random(size))
        assert pieces[0][0] == 0 and pieces[-1][1] == size
        assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))
        assert all(end - start <= average + variation for start, end in pieces)
        flat = [offset for piece in pieces for offset in piece]
        assert flat == _reference_pieces(0, size, average, variation, random.Random(size))
        assert pieces == Slicer.pieces(size, average, variation, random.Random(size))


def test_degenerate_slicer_settings_still_terminate() -> None:
    pieces = Slicer.pieces(300, 0, 0, random.Random(0))
    assert len(pieces) == 300
    assert Slicer.pieces(0, 10, 2, random.Random(0)) == [(0, 0)]


def _affected_connections(seed: int, upstream: str, connections: int) -> list[bool]:
    """Start a server with `seed`; through a proxy with a 50 %-toxicity latency toxic, which connections are slow?"""
    with ServerThread(seed=seed) as server:
        client = use_server(server.url)
        proxy = client.create(upstream=upstream, name="seeded")
        proxy.add_toxic(type="latency", toxicity=0.5, attributes={"latency": 60})
        slow = []
        for _ in range(connections):
            with connect(proxy) as sock:
                slow.append(round_trip_ms(sock) >= 55)
        return slow


def test_a_seed_replays_which_connections_a_toxic_hits(tcp_upstream: str) -> None:
    predicted = [link_random(11, "seeded", i, "downstream", "latency_downstream").random() < 0.5 for i in range(10)]
    assert True in predicted and False in predicted
    first = _affected_connections(11, tcp_upstream, 10)
    assert first == predicted
    assert _affected_connections(11, tcp_upstream, 10) == first
    other = [link_random(12, "seeded", i, "downstream", "latency_downstream").random() < 0.5 for i in range(10)]
    assert other != predicted
    assert _affected_connections(12, tcp_upstream, 10) == other
