@US1 @success-rate @docker
Feature: Production deploys succeed at least 95 % of the time, measured over repeated trials
  As an SRE in a readiness review
  I want the deploy success rate backed by enough trials to bound it, not by one lucky run
  So that "at least 95 %" is a measured claim with a confidence bound

  Scenario: Deploys succeed at least 95 % of the time when SSH connections to production drop
    Given a healthy primary and secondary runner
    When one SSH connection in 2 from the runners to production is reset, at random
    And production deploys run back to back until the success rate is decided
    Then at least 95 % of the deploys succeed, judged on the lower confidence bound
    And the deploy durations are within the p50 and p95 budgets

  Scenario: A deploy attempt that hangs is timed out and retried, and the deploy succeeds
    Given a healthy primary and secondary runner
    When a production deploy of version "6.0.0" is triggered
    And the deploy reaches its "fetch" step
    And the deploy is cut off by attempt timeout
    Then production reports version "6.0.0"
