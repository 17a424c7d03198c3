"""Lint of the pipeline under test: actionlint, shellcheck, promtool and ansible-playbook, one finding a line."""
