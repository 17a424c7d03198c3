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
    And every component still reports the version it had before
    And production is healthy
    And the team channel is told the deploy of "4.0.0" was rolled back
    And the production state file still records the version it had before

  Scenario: A release whose migration fails is rolled back: schema and every component unchanged
    Given a healthy primary and secondary runner
    When the migration of release "8.0.0" fails
    And a production deploy of version "8.0.0" is triggered
    Then the deploy run fails
    And every component still reports the version it had before
    And production is healthy
    And the team channel is told the deploy of "8.0.0" was rolled back
    And the production state file still records the version it had before

  Scenario: After a release was rolled back, the next deploy succeeds with no manual cleanup
    Given a healthy primary and secondary runner
    When release "4.1.0" is broken in production
    And a production deploy of version "4.1.0" is triggered
    Then the deploy run fails
    When a production deploy of version "4.2.0" is triggered
    Then production reports version "4.2.0"
    And every component reports version "4.2.0"
    And no deploy lock, marker or temporary file is left on any production host

  Scenario: Deploying the version that is live changes nothing and restarts nothing
    Given a healthy primary and secondary runner
    When a production deploy of version "9.0.0" is triggered
    Then production reports version "9.0.0"
    When the version that is live, "9.0.0", is deployed again
    Then production reports version "9.0.0"
    And the redeploy changed nothing on any host
    And every component reports version "9.0.0"

  Scenario: Deploy X, roll back to the release before, deploy X again: production converges on X each time
    Given a healthy primary and secondary runner
    When a production deploy of version "10.0.0" is triggered
    Then production reports version "10.0.0"
    And every component reports version "10.0.0"
    When production is rolled back
    Then production is back at the version it had before
    And every component reports the version it had before
    And production is healthy
    And the production state file records the version it had before as current and "10.0.0" as previous
    And the team channel is told the deploy of "10.0.0" was rolled back
    When a production deploy of version "10.0.0" is triggered
    Then production reports version "10.0.0"
    And every component reports version "10.0.0"
    And the production state file records "10.0.0" as current and the version it had before as previous
    And no deploy lock, marker or temporary file is left on any production host
