"""Root conftest: load the harness's fixtures, step definitions and verdict reporting."""

pytest_plugins = [
    "fixtures.environment",
    "fixtures.verdicts",
    "steps.runner_steps",
    "steps.deploy_steps",
    "steps.alert_steps",
]
