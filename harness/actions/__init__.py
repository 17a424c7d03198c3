"""Actions: what steps do to an environment (deploy, wait, run trials), recording every observation."""
