"""The harness's exception hierarchy: one root, flat and explicit.

`HarnessError` and its subclasses mean *the harness* could not do its job (no
engine, an image did not build, a fault did not take effect): such a scenario is
inconclusive, never a finding against the pipeline. A finding against the
pipeline is a `PipelineFinding`, an `AssertionError`, so pytest and Allure report
it as a failure rather than as a broken test.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Root of every error raised by the harness itself."""


class ConfigError(HarnessError):
    """Bad input: a malformed profile, feature, manifest or setting."""


class EngineUnavailable(HarnessError):
    """No usable container engine, and none could be installed or started."""


class EnginePermissionDenied(HarnessError):
    """A container engine socket exists but this user may not use it."""


class ImageBuildFailed(HarnessError):
    """Building one of the harness's images failed."""


class TopologyError(HarnessError):
    """A component of the test topology did not start or did not become ready."""


class Inconclusive(HarnessError):
    """The harness cannot decide: e.g. a fault did not take effect in time."""


class FaultRevertFailed(HarnessError):
    """A fault could not be reverted, or left something behind."""


class PipelineFinding(AssertionError):
    """The pipeline under test violated a claim; carries the evidence."""

    def __init__(self, message: str, evidence: dict | None = None) -> None:
        super().__init__(message)
        self.evidence = evidence or {}
