@US3 @alerts @docker
Feature: A deploy lock held longer than lock_stale_s pages the on-call; it is never a silent deadlock
  As an SRE on call
  I want a production deploy lock held past lock_stale_s to page me, and deploys that merely follow each other not to
  So that a hung deploy never blocks every release without anyone knowing

  Scenario: A hung deploy holding the lock past lock_stale_s pages DeployLockStale; the deploy it blocks fails naming it, and goes ahead once it is released
    Given a healthy primary and secondary runner
    When a stuck deploy holds the production deploy lock
    And a production deploy of version "8.1.0" is triggered
    Then the deploy run fails
    And the diagnosis names "deploy lock held by deploy-chaos-fault"
    And production still reports the version it had before
    And the on-call receives "DeployLockStale" for the held lock within its alert budget
    When the stuck deploy lets go
    Then the on-call is told "DeployLockStale" for the held lock is resolved
    When a production deploy of version "8.1.0" is triggered
    Then production reports version "8.1.0"

  Scenario: Deploys that each hold the lock shorter than lock_stale_s do not page, even back to back
    Given a healthy primary and secondary runner
    When two deploys in a row each hold the deploy lock for two thirds of DeployLockStale's for
    Then no "DeployLockStale" alert reaches the on-call for those holds
