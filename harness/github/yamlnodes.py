"""Helpers over PyYAML node trees that keep line numbers for error messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from harness.github.errors import WorkflowError, WorkflowIssue


def line_of(node: Node) -> int:
    """1-based line number where `node` starts."""
    return node.start_mark.line + 1


def compose(text: str, path: str) -> Node | None:
    """Parse YAML into a node tree; syntax errors become a WorkflowError with the line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = f"YAML syntax error: {exc.problem or exc}"
        raise WorkflowError([WorkflowIssue(path, line, message)]) from exc
    except yaml.YAMLError as exc:
        raise WorkflowError([WorkflowIssue(path, 1, f"YAML error: {exc}")]) from exc


def to_python(node: Node) -> Any:
    """Construct the plain Python value of a node (YAML 1.1 safe types)."""
    constructor = yaml.constructor.SafeConstructor()
    return constructor.construct_object(node, deep=True)


def is_mapping(node: Node | None) -> bool:
    return isinstance(node, MappingNode)


def is_sequence(node: Node | None) -> bool:
    return isinstance(node, SequenceNode)


def is_scalar(node: Node | None) -> bool:
    return isinstance(node, ScalarNode)


def is_null(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null")


def items(node: MappingNode) -> Iterator[tuple[str, Node, Node]]:
    """(raw key text, key node, value node) of a mapping, keys as written (`on` stays 'on')."""
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, ScalarNode) else str(to_python(key_node))
        yield str(key), key_node, value_node


def duplicate_keys(node: MappingNode) -> list[tuple[str, Node]]:
    """Keys that appear more than once in a mapping (second and later occurrences)."""
    seen: set[str] = set()
    dups: list[tuple[str, Node]] = []
    for key, key_node, _ in items(node):
        if key in seen:
            dups.append((key, key_node))
        seen.add(key)
    return dups


def walk_scalars(node: Node | None) -> Iterator[ScalarNode]:
    """Every scalar node (keys excluded) in document order."""
    if isinstance(node, ScalarNode):
        yield node
    elif isinstance(node, SequenceNode):
        for child in node.value:
            yield from walk_scalars(child)
    elif isinstance(node, MappingNode):
        for _, value_node in node.value:
            yield from walk_scalars(value_node)
