"""deploy-chaos's command line: the public entry point is `main`."""

from harness.cli.commands import main

__all__ = ["main"]
