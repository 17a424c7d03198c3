"""Root conftest: load the harness's fixtures, step definitions and verdict reporting."""

pytest_plugins = [
    "fixtures.verdicts",
    "fixtures.environment",
    "steps.runner_steps",
    "steps.deploy_steps",
    "steps.alert_steps",
    "steps.credential_steps",
    "steps.rollback_steps",
    "steps.trial_steps",
    "steps.concurrency_steps",
    "steps.interruption_steps",
    "steps.lock_steps",
]
