@US1 @failover @docker
Feature: Production deploys fail over to the secondary runner
  As a release engineer
  I want a production deploy to run on the pre-approved secondary runner when the primary is down
  So that a dead primary runner never blocks a release

  Scenario: The primary runner is offline when a production deploy is triggered
    Given a healthy primary and secondary runner
    When the primary runner goes offline
    And a production deploy of version "1.1.0" is triggered
    Then the deploy runs on the secondary runner within the failover budget
    And production reports version "1.1.0"
