"""Validation of `workflow_dispatch` inputs (the 422s GitHub returns) and their contexts."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from harness.github.errors import ApiError
from harness.github.expressions import format_number, to_number, to_string
from harness.github.workflow import InputSpec, WorkflowSpec


def _as_bool(spec: InputSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ApiError(
        422, f"Provided value {to_string(value)!r} for input {spec.name!r} is not a boolean (expected true or false)"
    )


def _as_number(spec: InputSpec, value: Any) -> int | float:
    number = to_number(value) if not isinstance(value, bool) else float("nan")
    if math.isnan(number) or math.isinf(number) or value == "" or value is None:
        raise ApiError(422, f"Provided value {to_string(value)!r} for input {spec.name!r} is not a number")
    return int(number) if number == int(number) else number


def _typed(spec: InputSpec, value: Any) -> Any:
    if spec.type == "boolean":
        return _as_bool(spec, value)
    if spec.type == "number":
        return _as_number(spec, value)
    if isinstance(value, (dict, list)):
        raise ApiError(422, f"Provided value for input {spec.name!r} must be a string")
    text = to_string(value)
    if spec.type == "choice" and text not in spec.options:
        raise ApiError(
            422,
            f"Provided value {text!r} for input {spec.name!r} not in the list of allowed "
            f"values: {json.dumps(spec.options)}",
        )
    return text


def _event_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    return to_string(value)


def resolve_inputs(workflow: WorkflowSpec, given: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate dispatch inputs; returns (`inputs` context, typed) and (`github.event.inputs`, strings).

    Raises ApiError(422) for undeclared, missing required, or ill-typed values.
    """
    given = dict(given or {})
    if "workflow_dispatch" not in workflow.triggers:
        raise ApiError(422, "Workflow does not have 'workflow_dispatch' trigger")
    unexpected = sorted(name for name in given if name not in workflow.inputs)
    if unexpected:
        raise ApiError(422, f"Unexpected inputs provided: {json.dumps(unexpected)}")
    typed: dict[str, Any] = {}
    for name, spec in workflow.inputs.items():
        provided = name in given and given[name] is not None and given[name] != ""
        if provided:
            typed[name] = _typed(spec, given[name])
        elif spec.default is not None:
            typed[name] = _typed(spec, spec.default)
        elif spec.required:
            raise ApiError(422, f"Required input {name!r} not provided")
        else:
            typed[name] = False if spec.type == "boolean" else ""
    return typed, {name: _event_string(value) for name, value in typed.items()}
