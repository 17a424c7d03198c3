"""Shared signals of one running job: cancellation requested, lease lost, agent stopping."""

from __future__ import annotations

import threading


class JobControl:
    """Set from the heartbeat / lease / log threads, read by the step loop."""

    def __init__(self) -> None:
        self.cancel_event = threading.Event()
        self.lost_event = threading.Event()

    def request_cancel(self) -> None:
        """The server asked to cancel the job."""
        self.cancel_event.set()

    def lose(self) -> None:
        """The job is no longer ours (lease gone, agent killed): stop everything, report nothing."""
        self.lost_event.set()
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    @property
    def lost(self) -> bool:
        return self.lost_event.is_set()
