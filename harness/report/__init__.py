"""Reporting: Allure attachments during a run, the HTML report afterwards."""
