"""pytest-bdd step definitions: thin, they call harness/."""
