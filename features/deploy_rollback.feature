@US3 @rollback @docker
Feature: A release that fails its health check is rolled back automatically
  As a release engineer
  I want a release that turns out unhealthy in production to be rolled back with no human step
  So that a bad release costs seconds of degraded health, not an incident

  Scenario: A broken release is rolled back, production is healthy and the team is told
    Given a healthy primary and secondary runner
    When release "4.0.0" is broken in production
    And a production deploy of version "4.0.0" is triggered
    Then the deploy run fails
    And production still reports the version it had before
    And production is healthy
    And the team channel is told the deploy of "4.0.0" was rolled back
    And the production state file still records the version it had before
