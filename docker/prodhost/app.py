"""The production app stand-in: serves the deployed release's version and health."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CURRENT = Path("/opt/app/current")
# A release listed here is broken *in this environment* (the harness's "bad release" fault):
# the app serves it but reports unhealthy, as a release with a bad config or migration would.
POISON = Path("/opt/app-faults/broken-releases")


def release() -> dict:
    """Version and health of the release the `current` symlink points at."""
    try:
        version = (CURRENT / "VERSION").read_text().strip()
    except OSError:
        return {"version": None, "healthy": False}
    broken = (POISON / version).exists() or (CURRENT / "BROKEN").exists()
    return {"version": version, "healthy": not broken}


class Handler(BaseHTTPRequestHandler):
    """GET /version and GET /health."""

    def do_GET(self) -> None:
        info = release()
        if self.path == "/version":
            status, body = 200, {"version": info["version"]}
        elif self.path == "/health":
            status = 200 if info["healthy"] else 503
            body = {"status": "ok" if info["healthy"] else "failing", "version": info["version"]}
        else:
            status, body = 404, {"error": "not found"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        """Keep request logs out of the container log."""


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
