"""HTTP server of the simulated GitHub: `python3 -m harness.github.server --host 0.0.0.0 --port 8000`.

Timers come from SIM_HEARTBEAT_TIMEOUT_S, SIM_LEASE_TIMEOUT_S, SIM_QUEUE_TIMEOUT_S (seconds)
and can be changed at runtime with PUT /_sim/config.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness.github.api import SimApp
from harness.github.config import SimConfig
from harness.github.errors import ApiError, WorkflowError
from harness.github.routing import Request, Response

MAX_BODY = 512 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SimGitHub/1.0"
    server: _HTTPServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(Response.json({"message": "request body too large"}, 413))
            return
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        request = Request.build(self.command, self.path, dict(self.headers.items()), body, f"http://{host}")
        self._send(self.server.respond(request))

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        if self.server.access_log:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SimApp, access_log: bool) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.access_log = access_log

    def respond(self, request: Request) -> Response:
        try:
            return self.app.handle(request)
        except ApiError as exc:
            return Response.json(exc.body(), exc.status)
        except WorkflowError as exc:
            return Response.json(
                {"message": f"Workflow validation failed: {exc}", "errors": [i.to_dict() for i in exc.issues]}, 422
            )
        except Exception as exc:
            traceback.print_exc()
            return Response.json({"message": f"internal error: {type(exc).__name__}: {exc}"}, 500)


class SimServer:
    """The simulated GitHub: HTTP server + timeout monitor, startable in a thread (tests)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        config: SimConfig | None = None,
        public_url: str | None = None,
        access_log: bool = False,
    ) -> None:
        self.app = SimApp(config or SimConfig.from_env())
        self.httpd = _HTTPServer((host, port), self.app, access_log)
        self.app.engine.public_url = public_url or self.url
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"

    def start(self) -> SimServer:
        """Serve in a background thread."""
        self.app.monitor.start()
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sim-http", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.app.monitor.start()
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.app.monitor.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Simulated GitHub Actions control plane")
    parser.add_argument("--host", default=os.environ.get("SIM_HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SIM_PORT", "8000")))
    parser.add_argument("--public-url", default=os.environ.get("SIM_PUBLIC_URL"))
    parser.add_argument("--access-log", action="store_true", default=os.environ.get("SIM_ACCESS_LOG") == "1")
    args = parser.parse_args(argv)
    server = SimServer(args.host, args.port, SimConfig.from_env(), args.public_url, args.access_log)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.httpd.shutdown, daemon=True).start())
    print(json.dumps({"listening": server.url, "config": server.app.store.config.to_dict()}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.app.monitor.stop()
        server.httpd.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
