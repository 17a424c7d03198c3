"""Parse and validate workflow YAML into typed dataclasses, with line numbers in errors.

Anything the simulator does not implement is rejected with the file, the line and a
message naming the construct and what is supported: never silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from harness.github import expressions, yamlnodes
from harness.github.errors import ExpressionError, WorkflowError, WorkflowIssue
from harness.github.shimspecs import shim_for, supported_actions

WORKFLOW_KEYS = ("name", "run-name", "on", "env", "jobs", "concurrency", "defaults")
JOB_KEYS = (
    "name",
    "runs-on",
    "needs",
    "if",
    "env",
    "outputs",
    "steps",
    "timeout-minutes",
    "continue-on-error",
    "concurrency",
    "defaults",
)
STEP_KEYS = (
    "id",
    "name",
    "run",
    "uses",
    "with",
    "env",
    "if",
    "shell",
    "working-directory",
    "continue-on-error",
    "timeout-minutes",
)
TRIGGERS = ("push", "workflow_dispatch")
PUSH_FILTERS = ("branches", "branches-ignore", "tags", "tags-ignore", "paths", "paths-ignore")
INPUT_KEYS = ("description", "required", "default", "type", "options")
INPUT_TYPES = ("string", "boolean", "choice", "number")
SHELLS = ("bash", "sh")
DEFAULT_JOB_TIMEOUT_MINUTES = 360.0
_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

_WHY_UNSUPPORTED = {
    "services": "service containers are not simulated",
    "container": "job containers are not simulated",
    "strategy": "matrix strategies are not simulated",
    "environment": "deployment environments are not simulated yet",
    "permissions": "token permissions are not simulated yet",
    "uses": "reusable workflows are not simulated",
    "secrets": "reusable workflows are not simulated",
    "with": "reusable workflows are not simulated",
}


@dataclass
class InputSpec:
    """A `workflow_dispatch` input."""

    name: str
    type: str = "string"
    required: bool = False
    default: Any = None
    options: list[str] = field(default_factory=list)
    description: str = ""
    line: int = 0


@dataclass
class ConcurrencySpec:
    """`concurrency:` at workflow or job level; values may be expressions."""

    group: str
    cancel_in_progress: bool | str = False
    line: int = 0


@dataclass
class StepSpec:
    """One step; exactly one of `run` / `uses` is set."""

    number: int
    name: str | None = None
    id: str | None = None
    run: str | None = None
    uses: str | None = None
    with_: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    if_: Any = None
    shell: str | None = None
    working_directory: str | None = None
    continue_on_error: bool | str = False
    timeout_minutes: float | str | None = None
    line: int = 0

    def display_name(self) -> str:
        """The name GitHub shows when `name:` is absent."""
        if self.name:
            return self.name
        if self.uses:
            return f"Run {self.uses}"
        first = (self.run or "").strip().splitlines()
        return f"Run {first[0]}" if first else "Run"


@dataclass
class JobSpec:
    """One job of a workflow."""

    key: str
    runs_on: list[str]
    steps: list[StepSpec]
    name: str | None = None
    needs: list[str] = field(default_factory=list)
    if_: Any = None
    env: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    timeout_minutes: float | str = DEFAULT_JOB_TIMEOUT_MINUTES
    continue_on_error: bool | str = False
    concurrency: ConcurrencySpec | None = None
    defaults_run: dict[str, str] = field(default_factory=dict)
    line: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (sent to the runner)."""
        return asdict(self)


@dataclass
class WorkflowSpec:
    """A validated workflow file."""

    path: str
    name: str
    triggers: list[str]
    jobs: dict[str, JobSpec]
    inputs: dict[str, InputSpec] = field(default_factory=dict)
    run_name: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    concurrency: ConcurrencySpec | None = None
    defaults_run: dict[str, str] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        """Base name, as used in the dispatch URL."""
        return self.path.rsplit("/", 1)[-1]


def _supported(keys: tuple[str, ...]) -> str:
    return ", ".join(keys)


class _Builder:
    """Walks the node tree, collecting every issue instead of stopping at the first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.issues: list[WorkflowIssue] = []

    # -- reporting helpers

    def issue(self, node: Node, message: str) -> None:
        self.issues.append(WorkflowIssue(self.path, yamlnodes.line_of(node), message))

    def mapping(self, node: Node, where: str) -> MappingNode | None:
        if not isinstance(node, MappingNode):
            self.issue(node, f"{where} must be a mapping")
            return None
        for key, key_node in yamlnodes.duplicate_keys(node):
            self.issue(key_node, f"{where}: duplicate key {key!r}")
        return node

    def check_keys(self, node: MappingNode, allowed: tuple[str, ...], where: str) -> None:
        for key, key_node, _ in yamlnodes.items(node):
            if key in allowed:
                continue
            why = _WHY_UNSUPPORTED.get(key)
            reason = f"{why}; " if why else ""
            self.issue(
                key_node,
                f"{where}.{key}: {key!r} is not supported by the simulated GitHub Actions "
                f"({reason}supported keys here: {_supported(allowed)})",
            )

    def string(self, node: Node, where: str) -> str | None:
        if not isinstance(node, ScalarNode) or yamlnodes.is_null(node):
            self.issue(node, f"{where} must be a string")
            return None
        return expressions.to_string(yamlnodes.to_python(node))

    def string_map(self, node: Node, where: str) -> dict[str, str]:
        mapping = self.mapping(node, where)
        out: dict[str, str] = {}
        if mapping is None:
            return out
        for key, _, value_node in yamlnodes.items(mapping):
            if not isinstance(value_node, ScalarNode):
                self.issue(value_node, f"{where}.{key} must be a scalar value")
                continue
            out[key] = expressions.to_string(yamlnodes.to_python(value_node))
        return out

    def string_list(self, node: Node, where: str) -> list[str]:
        if isinstance(node, ScalarNode):
            value = self.string(node, where)
            return [] if value is None else [value]
        if not yamlnodes.is_sequence(node):
            self.issue(node, f"{where} must be a string or a list of strings")
            return []
        out: list[str] = []
        for child in node.value:
            value = self.string(child, f"{where}[]")
            if value is not None:
                out.append(value)
        return out

    def bool_or_expr(self, node: Node, where: str) -> bool | str:
        value = yamlnodes.to_python(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, bool):
            return value
        if expressions.has_expression(value):
            return value
        self.issue(node, f"{where} must be true, false or a ${{{{ }}}} expression")
        return False

    def minutes(self, node: Node, where: str) -> float | str | None:
        value = yamlnodes.to_python(node) if isinstance(node, ScalarNode) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            return float(value)
        if expressions.has_expression(value):
            return value
        self.issue(node, f"{where} must be a positive number of minutes or a ${{{{ }}}} expression")
        return None

    def shell(self, node: Node, where: str) -> str | None:
        value = self.string(node, where)
        if value is not None and value not in SHELLS:
            self.issue(node, f"{where}: shell {value!r} is not supported (supported shells: {_supported(SHELLS)})")
            return None
        return value

    def condition(self, node: Node, where: str) -> Any:
        if not isinstance(node, ScalarNode):
            self.issue(node, f"{where} must be a scalar expression")
            return None
        value = yamlnodes.to_python(node)
        try:
            expressions.condition_ast(value)
        except ExpressionError as exc:
            self.issue(node, f"{where}: {exc}")
        return value

    # -- structure

    def workflow(self, root: Node | None) -> WorkflowSpec | None:
        if root is None:
            self.issues.append(WorkflowIssue(self.path, 1, "workflow file is empty"))
            return None
        top = self.mapping(root, "workflow")
        if top is None:
            return None
        self.check_keys(top, WORKFLOW_KEYS, "workflow")
        values = {key: value for key, _, value in yamlnodes.items(top)}
        self.check_expressions(top)
        name = self.path
        if "name" in values:
            name = self.string(values["name"], "name") or self.path
        triggers, inputs = self.on(values.get("on"), top)
        jobs = self.jobs(values.get("jobs"), top)
        spec = WorkflowSpec(path=self.path, name=name, triggers=triggers, jobs=jobs, inputs=inputs)
        if "run-name" in values:
            spec.run_name = self.string(values["run-name"], "run-name")
        if "env" in values:
            spec.env = self.string_map(values["env"], "env")
        if "concurrency" in values:
            spec.concurrency = self.concurrency(values["concurrency"], "concurrency")
        if "defaults" in values:
            spec.defaults_run = self.defaults(values["defaults"], "defaults")
        return spec

    def check_expressions(self, root: Node) -> None:
        for scalar in yamlnodes.walk_scalars(root):
            if "${{" in str(scalar.value):
                try:
                    expressions.check_template(str(scalar.value))
                except ExpressionError as exc:
                    self.issue(scalar, str(exc))

    def on(self, node: Node | None, top: MappingNode) -> tuple[list[str], dict[str, InputSpec]]:
        if node is None:
            self.issue(top, f"workflow has no 'on:' trigger (supported triggers: {_supported(TRIGGERS)})")
            return [], {}
        triggers: list[str] = []
        inputs: dict[str, InputSpec] = {}
        if isinstance(node, ScalarNode) or yamlnodes.is_sequence(node):
            entries = [(name, node) for name in self.string_list(node, "on")]
            bodies: dict[str, Node | None] = {}
        else:
            mapping = self.mapping(node, "on")
            if mapping is None:
                return [], {}
            entries = [(key, key_node) for key, key_node, _ in yamlnodes.items(mapping)]
            bodies = {key: value for key, _, value in yamlnodes.items(mapping)}
        for name, name_node in entries:
            if name not in TRIGGERS:
                self.issue(
                    name_node,
                    f"on.{name}: trigger {name!r} is not supported (supported triggers: {_supported(TRIGGERS)})",
                )
                continue
            triggers.append(name)
            body = bodies.get(name)
            if body is None or yamlnodes.is_null(body):
                continue
            if name == "push":
                push = self.mapping(body, "on.push")
                if push is not None:
                    self.check_keys(push, PUSH_FILTERS, "on.push")
            else:
                inputs = self.dispatch(body)
        return triggers, inputs

    def dispatch(self, node: Node) -> dict[str, InputSpec]:
        mapping = self.mapping(node, "on.workflow_dispatch")
        if mapping is None:
            return {}
        self.check_keys(mapping, ("inputs",), "on.workflow_dispatch")
        inputs: dict[str, InputSpec] = {}
        for key, _, value in yamlnodes.items(mapping):
            if key != "inputs" or yamlnodes.is_null(value):
                continue
            input_map = self.mapping(value, "on.workflow_dispatch.inputs")
            for name, name_node, body in yamlnodes.items(input_map) if input_map else []:
                inputs[name] = self.input_spec(name, name_node, body)
        return inputs

    def input_spec(self, name: str, name_node: Node, body: Node) -> InputSpec:
        where = f"on.workflow_dispatch.inputs.{name}"
        spec = InputSpec(name=name, line=yamlnodes.line_of(name_node))
        if yamlnodes.is_null(body):
            return spec
        mapping = self.mapping(body, where)
        if mapping is None:
            return spec
        self.check_keys(mapping, INPUT_KEYS, where)
        values = {key: value for key, _, value in yamlnodes.items(mapping)}
        if "type" in values:
            kind = self.string(values["type"], f"{where}.type")
            if kind not in INPUT_TYPES:
                self.issue(
                    values["type"],
                    f"{where}.type: input type {kind!r} is not supported (supported: {_supported(INPUT_TYPES)})",
                )
            else:
                spec.type = kind
        if "description" in values:
            spec.description = self.string(values["description"], f"{where}.description") or ""
        if "required" in values:
            required = yamlnodes.to_python(values["required"])
            if not isinstance(required, bool):
                self.issue(values["required"], f"{where}.required must be true or false")
            spec.required = bool(required)
        if "options" in values:
            spec.options = self.string_list(values["options"], f"{where}.options")
        if spec.type == "choice" and not spec.options:
            self.issue(name_node, f"{where}: a choice input needs a non-empty 'options' list")
        if "default" in values:
            spec.default = self.input_default(spec, values["default"], where)
        return spec

    def input_default(self, spec: InputSpec, node: Node, where: str) -> Any:
        value = yamlnodes.to_python(node)
        if spec.type == "boolean":
            if not isinstance(value, bool):
                self.issue(node, f"{where}.default must be true or false for a boolean input")
            return bool(value)
        if spec.type == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.issue(node, f"{where}.default must be a number for a number input")
            return value
        text = expressions.to_string(value)
        if spec.type == "choice" and spec.options and text not in spec.options:
            self.issue(node, f"{where}.default {text!r} is not one of the options {spec.options}")
        return text

    def concurrency(self, node: Node, where: str) -> ConcurrencySpec | None:
        if isinstance(node, ScalarNode):
            group = self.string(node, where)
            return ConcurrencySpec(group=group, line=yamlnodes.line_of(node)) if group else None
        mapping = self.mapping(node, where)
        if mapping is None:
            return None
        self.check_keys(mapping, ("group", "cancel-in-progress"), where)
        values = {key: value for key, _, value in yamlnodes.items(mapping)}
        if "group" not in values:
            self.issue(node, f"{where}: 'group' is required")
            return None
        group = self.string(values["group"], f"{where}.group")
        if not group:
            return None
        spec = ConcurrencySpec(group=group, line=yamlnodes.line_of(node))
        if "cancel-in-progress" in values:
            spec.cancel_in_progress = self.bool_or_expr(values["cancel-in-progress"], f"{where}.cancel-in-progress")
        return spec

    def defaults(self, node: Node, where: str) -> dict[str, str]:
        mapping = self.mapping(node, where)
        if mapping is None:
            return {}
        self.check_keys(mapping, ("run",), where)
        out: dict[str, str] = {}
        for key, _, value in yamlnodes.items(mapping):
            if key != "run":
                continue
            run = self.mapping(value, f"{where}.run")
            if run is None:
                continue
            self.check_keys(run, ("shell", "working-directory"), f"{where}.run")
            for run_key, _, run_value in yamlnodes.items(run):
                if run_key == "shell":
                    shell = self.shell(run_value, f"{where}.run.shell")
                    if shell:
                        out["shell"] = shell
                elif run_key == "working-directory":
                    directory = self.string(run_value, f"{where}.run.working-directory")
                    if directory:
                        out["working-directory"] = directory
        return out

    def jobs(self, node: Node | None, top: MappingNode) -> dict[str, JobSpec]:
        if node is None:
            self.issue(top, "workflow has no 'jobs:'")
            return {}
        mapping = self.mapping(node, "jobs")
        if mapping is None:
            return {}
        jobs: dict[str, JobSpec] = {}
        need_nodes: dict[str, Node] = {}
        for key, key_node, body in yamlnodes.items(mapping):
            if not _ID_RE.match(key):
                self.issue(
                    key_node,
                    f"jobs.{key}: job id must start with a letter or '_' and contain only alphanumerics, '-' or '_'",
                )
            job = self.job(key, key_node, body)
            if job is not None:
                jobs[key] = job
                need_nodes[key] = body
        if not jobs and not self.issues:
            self.issue(node, "jobs: at least one job is required")
        self.check_needs(jobs, need_nodes)
        return jobs

    def job(self, key: str, key_node: Node, node: Node) -> JobSpec | None:
        where = f"jobs.{key}"
        mapping = self.mapping(node, where)
        if mapping is None:
            return None
        self.check_keys(mapping, JOB_KEYS, where)
        values = {k: v for k, _, v in yamlnodes.items(mapping)}
        if "runs-on" not in values:
            self.issue(key_node, f"{where}: 'runs-on' is required")
        if "steps" not in values:
            self.issue(key_node, f"{where}: 'steps' is required")
        job = JobSpec(key=key, runs_on=[], steps=[], line=yamlnodes.line_of(key_node))
        if "runs-on" in values:
            job.runs_on = self.runs_on(values["runs-on"], f"{where}.runs-on")
        if "steps" in values:
            job.steps = self.steps(values["steps"], where)
        if "name" in values:
            job.name = self.string(values["name"], f"{where}.name")
        if "needs" in values:
            job.needs = self.string_list(values["needs"], f"{where}.needs")
        if "if" in values:
            job.if_ = self.condition(values["if"], f"{where}.if")
        if "env" in values:
            job.env = self.string_map(values["env"], f"{where}.env")
        if "outputs" in values:
            job.outputs = self.string_map(values["outputs"], f"{where}.outputs")
        if "timeout-minutes" in values:
            minutes = self.minutes(values["timeout-minutes"], f"{where}.timeout-minutes")
            job.timeout_minutes = DEFAULT_JOB_TIMEOUT_MINUTES if minutes is None else minutes
        if "continue-on-error" in values:
            job.continue_on_error = self.bool_or_expr(values["continue-on-error"], f"{where}.continue-on-error")
        if "concurrency" in values:
            job.concurrency = self.concurrency(values["concurrency"], f"{where}.concurrency")
        if "defaults" in values:
            job.defaults_run = self.defaults(values["defaults"], f"{where}.defaults")
        return job

    def runs_on(self, node: Node, where: str) -> list[str]:
        if isinstance(node, MappingNode):
            values = {k: v for k, _, v in yamlnodes.items(node)}
            self.check_keys(node, ("labels",), where)
            if "labels" not in values:
                self.issue(node, f"{where}: runner groups are not simulated; use a label list")
                return []
            node = values["labels"]
        labels = self.string_list(node, where)
        if not labels or any(not label.strip() for label in labels):
            self.issue(node, f"{where}: needs at least one non-empty label")
        return labels

    def steps(self, node: Node, where: str) -> list[StepSpec]:
        if not yamlnodes.is_sequence(node) or not node.value:
            self.issue(node, f"{where}.steps must be a non-empty list")
            return []
        steps: list[StepSpec] = []
        ids: set[str] = set()
        for index, child in enumerate(node.value):
            step = self.step(index + 1, child, f"{where}.steps[{index}]")
            if step is None:
                continue
            if step.id:
                if step.id in ids:
                    self.issue(child, f"{where}.steps[{index}]: duplicate step id {step.id!r}")
                ids.add(step.id)
            steps.append(step)
        return steps

    def step(self, number: int, node: Node, where: str) -> StepSpec | None:
        mapping = self.mapping(node, where)
        if mapping is None:
            return None
        self.check_keys(mapping, STEP_KEYS, where)
        values = {k: v for k, _, v in yamlnodes.items(mapping)}
        step = StepSpec(number=number, line=yamlnodes.line_of(node))
        if ("run" in values) == ("uses" in values):
            self.issue(node, f"{where}: a step needs exactly one of 'run' or 'uses'")
        if "run" in values:
            step.run = self.string(values["run"], f"{where}.run")
        if "uses" in values:
            step.uses = self.uses(values["uses"], values.get("with"), where)
        elif "with" in values:
            self.issue(values["with"], f"{where}.with is only valid with 'uses'")
        if "with" in values and step.uses:
            with_map = self.mapping(values["with"], f"{where}.with")
            step.with_ = {k: yamlnodes.to_python(v) for k, _, v in yamlnodes.items(with_map)} if with_map else {}
        if "id" in values:
            step.id = self.string(values["id"], f"{where}.id")
            if step.id and not _ID_RE.match(step.id):
                self.issue(
                    values["id"],
                    f"{where}.id {step.id!r} must start with a letter or '_' and "
                    "contain only alphanumerics, '-' or '_'",
                )
        if "name" in values:
            step.name = self.string(values["name"], f"{where}.name")
        if "env" in values:
            step.env = self.string_map(values["env"], f"{where}.env")
        if "if" in values:
            step.if_ = self.condition(values["if"], f"{where}.if")
        if "shell" in values:
            if step.uses:
                self.issue(values["shell"], f"{where}.shell is only valid with 'run'")
            step.shell = self.shell(values["shell"], f"{where}.shell")
        if "working-directory" in values:
            if step.uses:
                self.issue(values["working-directory"], f"{where}.working-directory is only valid with 'run'")
            step.working_directory = self.string(values["working-directory"], f"{where}.working-directory")
        if "continue-on-error" in values:
            step.continue_on_error = self.bool_or_expr(values["continue-on-error"], f"{where}.continue-on-error")
        if "timeout-minutes" in values:
            step.timeout_minutes = self.minutes(values["timeout-minutes"], f"{where}.timeout-minutes")
        return step

    def uses(self, node: Node, with_node: Node | None, where: str) -> str | None:
        uses = self.string(node, f"{where}.uses")
        if uses is None:
            return None
        spec = shim_for(uses)
        if spec is None or "@" not in uses:
            self.issue(
                node,
                f"{where}.uses: action {uses!r} is not supported by the simulated runner "
                f"(supported actions: {', '.join(supported_actions())})",
            )
            return None
        given: dict[str, Node] = {}
        if isinstance(with_node, MappingNode):
            given = {k: kn for k, kn, _ in yamlnodes.items(with_node)}
        allowed = spec.inputs | spec.no_op_inputs
        for key, key_node in given.items():
            if key not in allowed:
                self.issue(
                    key_node,
                    f"{where}.with.{key}: input {key!r} is not supported by the "
                    f"{spec.action} shim (supported: {', '.join(sorted(allowed))})",
                )
        for key in sorted(spec.required - set(given)):
            self.issue(node, f"{where}.with: input {key!r} is required by {spec.action}")
        return uses

    def check_needs(self, jobs: dict[str, JobSpec], nodes: dict[str, Node]) -> None:
        for key, job in jobs.items():
            for need in job.needs:
                if need not in jobs:
                    self.issue(nodes[key], f"jobs.{key}.needs: job {need!r} does not exist (jobs: {', '.join(jobs)})")
        cycle = find_cycle({k: [n for n in j.needs if n in jobs] for k, j in jobs.items()})
        if cycle:
            self.issue(nodes[cycle[0]], f"jobs: dependency cycle in needs: {' -> '.join(cycle)}")


def find_cycle(graph: dict[str, list[str]]) -> list[str]:
    """A cycle in a `needs` graph as [a, b, ..., a], or [] when it is a DAG."""
    state: dict[str, int] = {}  # 1 = on stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for start in graph:
        if start not in state:
            found = visit(start)
            if found:
                return found
    return []


def parse_workflow(text: str, path: str) -> WorkflowSpec:
    """Parse and validate one workflow file; raises WorkflowError listing every issue."""
    builder = _Builder(path)
    spec = builder.workflow(yamlnodes.compose(text, path))
    if builder.issues or spec is None:
        issues = sorted(builder.issues, key=lambda issue: issue.line)
        raise WorkflowError(issues or [WorkflowIssue(path, 1, "invalid workflow")])
    return spec


def parse_workflows(files: dict[str, str]) -> tuple[dict[str, WorkflowSpec], list[WorkflowIssue]]:
    """Parse several workflow files: (valid specs by path, all issues)."""
    specs: dict[str, WorkflowSpec] = {}
    issues: list[WorkflowIssue] = []
    for path in sorted(files):
        try:
            specs[path] = parse_workflow(files[path], path)
        except WorkflowError as exc:
            issues.extend(exc.issues)
    return specs, issues
