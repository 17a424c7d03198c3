"""Seeded randomness: every toxic on every direction of every connection draws from its own random source.

The source is derived from (server seed, proxy name, connection index, stream, toxic name), where the connection
index counts the connections a proxy has accepted, from 0. A connection's draws (does the toxic apply to it at all,
given its toxicity; its jitter; its slice sizes) are therefore reproducible from the seed and the order in which
connections arrived, whatever other proxies or connections do at the same time. Toxiproxy itself uses one global
`math/rand` source seeded by `-seed`, whose draws interleave across connections.
"""

from __future__ import annotations

import random
import secrets


def fresh_seed() -> int:
    """A new random seed, for a server started without `--seed` (it is logged so a run can be replayed)."""
    return secrets.randbits(63)


def link_random(seed: int, proxy: str, connection: int, stream: str, toxic: str) -> random.Random:
    """The random source of toxic `toxic` on the `stream` direction of connection number `connection` of `proxy`.

    Seeding `random.Random` with a string hashes it with SHA-512, so the result is the same in every process
    (it does not depend on PYTHONHASHSEED).
    """
    return random.Random(f"toxiproxy/{seed}/{proxy}/{connection}/{stream.lower()}/{toxic}")


def toxicity_draw(rng: random.Random, toxicity: float) -> bool:
    """Whether a toxic applies to a link: true with probability `toxicity` (0 never, 1 always)."""
    return rng.random() < toxicity
