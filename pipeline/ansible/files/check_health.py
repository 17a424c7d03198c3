#!/usr/bin/env python3
"""The deploy's health step, run on the runner: every component of every web host is at VERSION
and healthy, and so is production end to end through the load balancer.

    check_health.py --version V --hosts "prod-web-1 prod-web-2" --lb http://prod-lb [--timeout S]

Per web host: backend GET :8080/health is 200 "ok" with version V and schema V (the backend checks
PostgreSQL and Redis itself); frontend GET :80/version.json has version V. Through the load
balancer: /api/health (200 "ok", V), /api/version and /version.json (V), asked twice each so both
web hosts behind it are likely seen. Polled until everything passes in one round, or until
--timeout: a release that is still starting gets a moment, a broken one fails with what it said.
Python 3 stdlib. Exit 0 healthy, 1 not (and what is wrong, on stdout).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def get(url: str) -> tuple[int | None, Any]:
    """(HTTP status, JSON body or text); (None, error text) when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except OSError as exc:
        return None, f"no answer ({getattr(exc, 'reason', exc)})"
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, raw[:200].decode(errors="replace")


def check_backend(url: str, version: str) -> str | None:
    """None if the backend at `url` is healthy at `version`, else what is wrong."""
    status, body = get(f"{url}/health")
    if not isinstance(body, dict):
        return f"{url}/health: {status or ''} {body}".strip()
    healthy = status == 200 and body.get("status") == "ok"
    if healthy and body.get("version") == version and body.get("schema") == version:
        return None
    reasons = "; ".join(body.get("reasons") or [])
    return (
        f"{url}/health answered {status} {body.get('status')}: version {body.get('version')}, "
        f"schema {body.get('schema')}, redis {body.get('redis')}" + (f" ({reasons})" if reasons else "")
    )


def check_version(url: str, version: str) -> str | None:
    status, body = get(url)
    got = body.get("version") if isinstance(body, dict) else None
    return None if status == 200 and got == version else f"{url} answered {status} version {got or body}"


def round_of_checks(version: str, hosts: list[str], lb: str) -> list[str]:
    """Every check once, concurrently; the problems found."""
    checks = []
    for host in hosts:
        checks.append((check_backend, f"http://{host}:8080"))
        checks.append((check_version, f"http://{host}:80/version.json"))
    if lb:
        for _ in range(2):
            checks += [
                (check_backend, f"{lb}/api"),
                (check_version, f"{lb}/api/version"),
                (check_version, f"{lb}/version.json"),
            ]
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        results = list(pool.map(lambda c: c[0](c[1], version), checks))
    return sorted({r for r in results if r})


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--version", required=True)
    p.add_argument("--hosts", required=True, help="space-separated web hosts")
    p.add_argument("--lb", default="", help="the load balancer's base URL")
    p.add_argument("--timeout", type=float, default=5.0)
    args = p.parse_args(argv)
    hosts = args.hosts.split()
    started = time.monotonic()
    while True:
        problems = round_of_checks(args.version, hosts, args.lb.rstrip("/"))
        took = time.monotonic() - started
        if not problems:
            where = f"{len(hosts)} web hosts" + (" and the load balancer" if args.lb else "")
            print(f"healthy: every component at {args.version} on {where} ({took:.2f} s)")
            return 0
        if took >= args.timeout:
            # on stdout, as the remote steps' output is: the rescue quotes its last line
            print(f"health check of {args.version} failed after {took:.1f} s:")
            for problem in problems:
                print(f"  {problem}")
            return 1
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
