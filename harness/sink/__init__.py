"""A webhook sink standing in for Slack and PagerDuty: records every POST with its arrival time."""
