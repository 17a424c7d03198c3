"""`python3 -m harness.proxy --host 0.0.0.0 --port 8474 [--seed N] [--config proxies.json]` (stdlib only).

Toxiproxy's own single-dash spellings (`-host`, `-port`, `-seed`, `-config`) are accepted too. SIGTERM and SIGINT
stop it cleanly: the API and every proxy stop listening, open connections are closed, the exit status is 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from harness.proxy.server import ToxiproxyServer

LOG = logging.getLogger("harness.proxy")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python3 -m harness.proxy", description=__doc__.splitlines()[0])
    parser.add_argument("--host", "-host", default="localhost", help="API listen host (default localhost)")
    parser.add_argument("--port", "-port", type=int, default=8474, help="API listen port (default 8474)")
    parser.add_argument("--seed", "-seed", type=int, default=None, help="seed for toxics' randomness")
    parser.add_argument("--config", "-config", default=None, help="JSON file of proxies to create at start")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser.parse_args(argv)


async def serve(host: str, port: int, seed: int | None, config: str | None) -> int:
    """Run until SIGTERM or SIGINT; returns the exit status."""
    server = ToxiproxyServer(seed)
    await server.start(host, port)
    if config:
        try:
            await server.populate_file(config)
        except (OSError, ValueError, RuntimeError) as exc:
            LOG.error("config %s: %s", config, exc)  # Toxiproxy logs a bad config and keeps serving
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    LOG.info("shutting down")
    await server.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    try:
        return asyncio.run(serve(args.host, args.port, args.seed, args.config))
    except OSError as exc:
        LOG.error("cannot listen on %s:%s: %s", args.host, args.port, exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
