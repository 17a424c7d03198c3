"""Workflow parsing and validation: typed specs, unsupported constructs with line numbers."""

from __future__ import annotations

import textwrap

import pytest

from harness.github.errors import ApiError, WorkflowError, WorkflowIssue
from harness.github.inputs import resolve_inputs
from harness.github.workflow import find_cycle, parse_workflow

PATH = ".github/workflows/deploy.yml"

VALID = textwrap.dedent("""\
    name: Deploy
    run-name: Deploy ${{ inputs.version }}
    on:
      push:
        branches: [main]
      workflow_dispatch:
        inputs:
          version:
            description: release
            required: true
          dry_run:
            type: boolean
            default: false
          target:
            type: choice
            options: [production, staging]
            default: production
          attempts:
            type: number
            default: 3
    env:
      APP: demo
      DEBUG: true
    concurrency:
      group: deploy-${{ inputs.target }}
      cancel-in-progress: false
    defaults:
      run:
        shell: bash
    jobs:
      select:
        runs-on: [self-hosted, linux]
        outputs:
          labels: ${{ steps.pick.outputs.labels }}
        steps:
          - id: pick
            run: echo 'labels=["self-hosted"]' >> "$GITHUB_OUTPUT"
      deploy:
        name: Deploy ${{ inputs.version }}
        needs: select
        runs-on: ${{ fromJSON(needs.select.outputs.labels) }}
        timeout-minutes: 30
        continue-on-error: false
        concurrency:
          group: production
          cancel-in-progress: ${{ inputs.dry_run }}
        if: ${{ !inputs.dry_run }}
        env:
          TARGET: ${{ inputs.target }}
        steps:
          - uses: actions/checkout@v4
            with:
              fetch-depth: 0
          - name: Deploy with retry
            uses: nick-fields/retry@v3
            with:
              timeout_minutes: 10
              max_attempts: 3
              command: ./deploy.sh
          - run: ./notify.sh
            if: always()
            shell: sh
            working-directory: scripts
            timeout-minutes: 2
            continue-on-error: true
    """)


def issues_of(text: str) -> list[WorkflowIssue]:
    with pytest.raises(WorkflowError) as info:
        parse_workflow(textwrap.dedent(text), PATH)
    return info.value.issues


def only_issue(text: str) -> WorkflowIssue:
    issues = issues_of(text)
    assert len(issues) == 1, issues
    return issues[0]


def test_valid_workflow_is_parsed_into_typed_specs() -> None:
    spec = parse_workflow(VALID, PATH)
    assert spec.name == "Deploy" and spec.file_name == "deploy.yml"
    assert spec.triggers == ["push", "workflow_dispatch"]
    assert spec.inputs["version"].required is True
    assert spec.inputs["dry_run"].type == "boolean" and spec.inputs["dry_run"].default is False
    assert spec.inputs["target"].options == ["production", "staging"]
    assert spec.inputs["attempts"].default == 3
    assert spec.env == {"APP": "demo", "DEBUG": "true"}
    assert spec.concurrency is not None and spec.concurrency.group == "deploy-${{ inputs.target }}"
    assert spec.defaults_run == {"shell": "bash"}
    deploy = spec.jobs["deploy"]
    assert deploy.needs == ["select"]
    assert deploy.runs_on == ["${{ fromJSON(needs.select.outputs.labels) }}"]
    assert deploy.timeout_minutes == 30.0
    assert deploy.concurrency is not None and deploy.concurrency.cancel_in_progress == "${{ inputs.dry_run }}"
    assert [s.number for s in deploy.steps] == [1, 2, 3]
    assert deploy.steps[0].uses == "actions/checkout@v4"
    assert deploy.steps[1].with_["max_attempts"] == 3
    notify = deploy.steps[2]
    assert (notify.shell, notify.working_directory, notify.timeout_minutes, notify.continue_on_error) == (
        "sh",
        "scripts",
        2.0,
        True,
    )
    assert notify.display_name() == "Run ./notify.sh"
    assert spec.jobs["select"].outputs == {"labels": "${{ steps.pick.outputs.labels }}"}
    assert deploy.line == 38  # 1-based line of "  deploy:" in VALID


@pytest.mark.parametrize(
    ("snippet", "line", "words"),
    [
        ("    services:\n      db: {image: postgres}\n", 5, ["services", "service containers"]),
        ("    container: debian\n", 5, ["container"]),
        ("    strategy:\n      matrix: {v: [1, 2]}\n", 5, ["strategy", "matrix"]),
        ("    environment: production\n", 5, ["environment"]),
        ("    permissions: {issues: write}\n", 5, ["permissions"]),
        ("    uses: ./.github/workflows/other.yml\n", 5, ["reusable workflows"]),
    ],
)
def test_unsupported_job_keys_are_rejected_with_their_line(snippet: str, line: int, words: list[str]) -> None:
    text = (
        "on: workflow_dispatch\njobs:\n  build:\n    runs-on: self-hosted\n"
        + snippet
        + "    steps:\n      - run: true\n"
    )
    issue = only_issue(text)
    assert issue.path == PATH and issue.line == line
    for word in words:
        assert word in issue.message
    assert "supported keys here" in issue.message


def test_unknown_step_key_names_the_step_and_the_supported_keys() -> None:
    issue = only_issue("""\
        on: workflow_dispatch
        jobs:
          build:
            runs-on: self-hosted
            steps:
              - run: echo hi
              - run: echo there
                retries: 3
        """)
    assert issue.line == 8
    assert "jobs.build.steps[1].retries" in issue.message and "working-directory" in issue.message


def test_unsupported_action_shell_and_trigger() -> None:
    issues = issues_of("""\
        on:
          schedule:
            - cron: '0 0 * * *'
          workflow_dispatch:
        jobs:
          build:
            runs-on: self-hosted
            steps:
              - uses: actions/cache@v4
              - run: Write-Host hi
                shell: pwsh
        """)
    by_line = {i.line: i.message for i in issues}
    assert "trigger 'schedule' is not supported" in by_line[2]
    assert "actions/cache@v4" in by_line[9] and "actions/checkout@<ref>" in by_line[9]
    assert "shell 'pwsh' is not supported" in by_line[11] and "bash, sh" in by_line[11]


def test_shim_inputs_are_checked() -> None:
    issues = issues_of("""\
        on: workflow_dispatch
        jobs:
          build:
            runs-on: self-hosted
            steps:
              - uses: nick-fields/retry@v3
                with:
                  command: make
                  bogus: 1
        """)
    messages = " | ".join(f"{i.line}:{i.message}" for i in issues)
    assert "9:" in messages and "'bogus' is not supported" in messages
    assert "'max_attempts' is required" in messages


def test_expression_syntax_errors_point_at_the_line() -> None:
    issue = only_issue("""\
        on: workflow_dispatch
        jobs:
          build:
            runs-on: self-hosted
            steps:
              - run: echo ${{ github.ref
        """)
    assert issue.line == 6 and "Unterminated" in issue.message


def test_bad_if_expression() -> None:
    issue = only_issue("""\
        on: workflow_dispatch
        jobs:
          build:
            runs-on: self-hosted
            if: github.ref ==
            steps:
              - run: true
        """)
    assert issue.line == 5 and "jobs.build.if" in issue.message


def test_unknown_needs_and_cycles() -> None:
    issues = issues_of("""\
        on: workflow_dispatch
        jobs:
          a:
            needs: [c]
            runs-on: x
            steps: [{run: 'true'}]
          b:
            needs: ghost
            runs-on: x
            steps: [{run: 'true'}]
          c:
            needs: a
            runs-on: x
            steps: [{run: 'true'}]
        """)
    messages = [i.message for i in issues]
    assert any("'ghost' does not exist" in m for m in messages)
    assert any("dependency cycle" in m and "a -> c -> a" in m for m in messages)


def test_structural_errors() -> None:
    issues = issues_of("""\
        on: workflow_dispatch
        jobs:
          build:
            steps:
              - run: a
                uses: actions/checkout@v4
              - id: same
                run: b
              - id: same
                run: c
        """)
    messages = [i.message for i in issues]
    assert any("'runs-on' is required" in m for m in messages)
    assert any("exactly one of 'run' or 'uses'" in m for m in messages)
    assert any("duplicate step id 'same'" in m for m in messages)


def test_yaml_syntax_error_has_a_line() -> None:
    issue = only_issue("on: workflow_dispatch\njobs:\n  a: [unclosed\n")
    assert issue.line >= 3 and "YAML syntax error" in issue.message


def test_duplicate_keys_are_rejected() -> None:
    issue = only_issue("""\
        on: workflow_dispatch
        jobs:
          a:
            runs-on: x
            runs-on: y
            steps: [{run: 'true'}]
        """)
    assert issue.line == 5 and "duplicate key 'runs-on'" in issue.message


def test_input_definitions_are_validated() -> None:
    issues = issues_of("""\
        on:
          workflow_dispatch:
            inputs:
              env:
                type: choice
              flag:
                type: boolean
                default: maybe
              kind:
                type: environment
        jobs:
          a:
            runs-on: x
            steps: [{run: 'true'}]
        """)
    messages = " | ".join(i.message for i in issues)
    assert "choice input needs a non-empty 'options'" in messages
    assert "must be true or false for a boolean input" in messages
    assert "input type 'environment' is not supported" in messages


def test_find_cycle() -> None:
    assert find_cycle({"a": ["b"], "b": []}) == []
    assert find_cycle({"a": ["b"], "b": ["a"]}) == ["a", "b", "a"]


# ---------------------------------------------------------------- dispatch inputs


def test_dispatch_inputs_typed_and_stringified() -> None:
    spec = parse_workflow(VALID, PATH)
    typed, strings = resolve_inputs(spec, {"version": "2.0", "dry_run": "true", "attempts": "5"})
    assert typed == {"version": "2.0", "dry_run": True, "target": "production", "attempts": 5}
    assert strings == {"version": "2.0", "dry_run": "true", "target": "production", "attempts": "5"}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"version": "1", "colour": "red", "size": 1}, 'Unexpected inputs provided: ["colour", "size"]'),
        ({}, "Required input 'version' not provided"),
        ({"version": "1", "dry_run": "yes"}, "not a boolean"),
        ({"version": "1", "target": "moon"}, "not in the list of allowed values"),
        ({"version": "1", "attempts": "many"}, "not a number"),
    ],
)
def test_dispatch_input_errors_are_422(given: dict[str, object], message: str) -> None:
    spec = parse_workflow(VALID, PATH)
    with pytest.raises(ApiError) as info:
        resolve_inputs(spec, given)
    assert info.value.status == 422 and message in info.value.message


def test_dispatch_requires_the_trigger() -> None:
    spec = parse_workflow("on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: 'true'}]\n", PATH)
    with pytest.raises(ApiError, match="workflow_dispatch"):
        resolve_inputs(spec, {})
