"""deploy-chaos's command line: the public entry point is `main`."""

from harness.cli.main import main

__all__ = ["main"]
