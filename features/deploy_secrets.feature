@US2 @secrets @docker
Feature: Expired or missing deploy credentials stop the deploy early and point to the rotation runbook
  As a release engineer
  I want an expired deploy credential to fail the deploy before any runner contacts production
  So that a routine certificate expiry is a clear, classified failure with a fix, not a half-done deploy

  Scenario: An expired deploy certificate fails the deploy at preflight, classified as authentication
    Given a healthy primary and secondary runner
    When the deploy certificate has expired
    And a production deploy of version "3.0.0" is triggered
    Then the deploy fails fast without running on any runner
    And the failure is classified "authentication" with severity "critical" and the runbook "secrets-expired-rotation"
    And production still reports the version it had before
