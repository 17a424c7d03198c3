@US1 @failover @docker
Feature: Production deploys fail over to the secondary runner
  As a release engineer
  I want a production deploy to run on the pre-approved secondary runner when the primary is down
  So that a dead primary runner never blocks a release

  Scenario: A healthy primary runner takes the production deploy
    Given a healthy primary and secondary runner
    When a production deploy of version "1.0.1" is triggered
    Then the deploy runs on the primary runner
    And production reports version "1.0.1"
    And the production state file records "1.0.1" deployed from the primary runner

  Scenario: The primary runner is offline when a production deploy is triggered
    Given a healthy primary and secondary runner
    When the primary runner goes offline
    And a production deploy of version "1.1.0" is triggered
    Then the deploy runs on the secondary runner within the failover budget
    And production reports version "1.1.0"

  Scenario: An idle runner that is not authorized for production never takes the deploy
    Given a healthy primary and secondary runner
    And an idle runner with the production labels that is not authorized for production
    When a production deploy of version "1.0.2" is triggered
    Then the deploy runs on the primary runner
    And no job of the deploy ran on a runner not authorized for production
    And production reports version "1.0.2"

  Scenario: With the primary offline, the deploy fails over to the secondary, never to an unauthorized runner
    Given a healthy primary and secondary runner
    And an idle runner with the production labels that is not authorized for production
    When the primary runner goes offline
    And a production deploy of version "1.1.2" is triggered
    Then the deploy runs on the secondary runner within the failover budget
    And no job of the deploy ran on a runner not authorized for production
    And production reports version "1.1.2"

  Scenario: A primary runner cut off from GitHub is reported unhealthy and the deploy fails over
    Given a healthy primary and secondary runner
    When the primary runner is cut off from GitHub
    Then monitoring reports the primary runner unhealthy within the detection budget
    When a production deploy of version "1.1.5" is triggered
    Then the deploy runs on the secondary runner within the failover budget
    And production reports version "1.1.5"

  Scenario: Deploys requested while one is running never overlap, and the newest pending one wins
    Given a healthy primary and secondary runner
    When production stops answering
    And production deploys of versions "2.0.1", "2.0.2" and "2.0.3" are requested in turn
    And production answers again
    Then at most one production deploy ran at any instant
    And the older pending deploy was cancelled in favour of the newest
    And production reports version "2.0.3"

  Scenario: Both runners are offline: the deploy fails fast and names the cause
    Given a healthy primary and secondary runner
    When the primary runner goes offline
    And the secondary runner goes offline
    And a production deploy of version "1.2.0" is triggered
    Then the deploy fails fast without running on any runner
    And the diagnosis names "no healthy authorized production runner"
    And production still reports the version it had before

  Scenario: Prometheus is unreachable: the health gate fails closed
    Given a healthy primary and secondary runner
    When Prometheus becomes unreachable
    And a production deploy of version "1.3.0" is triggered
    Then the deploy fails fast without running on any runner
    And the diagnosis names "Prometheus unreachable"
    And production still reports the version it had before
