"""API errors with Toxiproxy 2.x's messages and status codes (body `{"error": ..., "status": ...}`)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the HTTP API reports as `{"error": message, "status": status}` with that HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def body(self) -> dict[str, Any]:
        """The JSON error object, in Toxiproxy's field order."""
        return {"error": self.message, "status": self.status}


def bad_request_body(detail: str) -> ApiError:
    """The request body could not be decoded (400)."""
    return ApiError(f"bad request body: {detail}", 400)


def missing_field(field: str) -> ApiError:
    """A required proxy field is missing or empty (400)."""
    return ApiError(f"missing required field: {field}", 400)


def proxy_not_found() -> ApiError:
    """No proxy of that name (404)."""
    return ApiError("proxy not found", 404)


def proxy_already_exists() -> ApiError:
    """A proxy of that name exists (409)."""
    return ApiError("proxy already exists", 409)


def invalid_stream() -> ApiError:
    """`stream` is neither upstream nor downstream (400)."""
    return ApiError("stream was invalid, can be either upstream or downstream", 400)


def invalid_toxic_type() -> ApiError:
    """Unknown toxic `type` (400)."""
    return ApiError("invalid toxic type", 400)


def toxic_already_exists() -> ApiError:
    """A toxic of that name exists on the proxy, in either stream (409)."""
    return ApiError("toxic already exists", 409)


def toxic_not_found() -> ApiError:
    """No toxic of that name on the proxy (404)."""
    return ApiError("toxic not found", 404)


def internal(message: str) -> ApiError:
    """Any other failure, e.g. the listen address cannot be bound (500)."""
    return ApiError(message, 500)
