"""Credential faults: the pipeline's deploy certificate is swapped for an expired one, then restored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action


class ExpiredCertificate(Fault):
    """Replace a certificate secret with one whose validity has ended; restore the valid one after."""

    name = "expired_certificate"

    def __init__(
        self,
        journal: Journal,
        set_secret: Callable[[str, str], None],
        secret: str,
        valid_cert: str,
        expired_cert: str,
        valid_before: Callable[[str], str],
    ) -> None:
        super().__init__(journal)
        self.set_secret, self.secret = set_secret, secret
        self.valid_cert, self.expired_cert, self.valid_before = valid_cert, expired_cert, valid_before
        self._current = valid_cert

    def describe(self) -> dict[str, Any]:
        """Which secret, and until when the planted certificate was valid (no secret material)."""
        return {"secret": self.secret, "planted_valid_before": self.valid_before(self.expired_cert)}

    def undo_actions(self) -> list[Action]:
        """None: restoring the secret would mean writing the valid certificate to disk, and secret material never
        is; the secret lives in the run's simulated GitHub, which the dead-run sweep removes."""
        return []

    def inject(self) -> None:
        """Set the secret to the expired certificate."""
        self.set_secret(self.secret, self.expired_cert)
        self._current = self.expired_cert

    def took_effect(self) -> bool:
        """The planted certificate's validity ended before now."""
        end = dt.datetime.fromisoformat(self.valid_before(self._current)).replace(tzinfo=dt.UTC)
        return self._current == self.expired_cert and end < dt.datetime.now(dt.UTC)

    def revert(self) -> None:
        """Restore the valid certificate."""
        self.set_secret(self.secret, self.valid_cert)
        self._current = self.valid_cert

    def leftovers(self) -> list[str]:
        """The expired certificate still in the secret."""
        return [f"secret {self.secret} still holds the expired certificate"] if self._current != self.valid_cert else []
