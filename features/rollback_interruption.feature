@US3 @interruption @rollback @docker
Feature: A rollback cut off at any step never leaves production mixed
  As an SRE accountable for production
  I want a rollback interrupted half-way, by any disruption, to leave every component at the
  release it was leaving or every component at the one it returns to, with no human step
  So that the way back from a bad release is as safe as the way there

  A rollback (workflows/rollback.yml) is the same transactional deploy with the schema going
  down. Production is sampled every 100 ms from the moment the release to leave is live. The
  table crosses the two steps where a rollback differs from a deploy (migrate runs the down.sql of
  the release left; backend switches every host back) with every disruption; the deploy matrix
  (deploy_interruption.feature) covers every step.

  Scenario Outline: A rollback cut off at its <step> step by <disruption> leaves every component at one version
    Given a healthy primary and secondary runner
    When a production deploy of version "<version>" is triggered
    Then production reports version "<version>"
    When every production component is sampled continuously
    And production is rolled back
    And the deploy reaches its "<step>" step
    And the deploy is cut off by <disruption>
    Then every component ends at the version it had before or at the new one within the recovery budget

    Examples:
      | step    | disruption      | version |
      | migrate | runner killed   | 7.41.0  |
      | migrate | runner frozen   | 7.42.0  |
      | migrate | network cut     | 7.43.0  |
      | migrate | attempt timeout | 7.44.0  |
      | backend | runner killed   | 7.45.0  |
      | backend | runner frozen   | 7.46.0  |
      | backend | network cut     | 7.47.0  |
      | backend | attempt timeout | 7.48.0  |
