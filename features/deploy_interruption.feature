@US3 @interruption @docker
Feature: A deploy cut off at any step never leaves production mixed
  As an SRE accountable for production
  I want a deploy interrupted at any step, by any disruption, to leave every component at the
  previous version or every component at the new one, with no human step
  So that a dying runner, a network cut or a hung attempt never leaves production half-deployed

  Production (backend and frontend on two web hosts, the database schema) is sampled every
  100 ms for the whole scenario. The table crosses every step the pipeline declares
  (pipeline/ansible/steps.yml, checked by tests/scenarios/test_deploy_interruption.py) with
  every disruption.

  Scenario Outline: A deploy cut off at its <step> step by <disruption> leaves every component at one version
    Given a healthy primary and secondary runner
    And every production component is sampled continuously
    When a production deploy of version "<version>" is triggered
    And the deploy reaches its "<step>" step
    And the deploy is cut off by <disruption>
    Then every component ends at the version it had before or at the new one within the recovery budget

    Examples:
      | step     | disruption      | version |
      | lock     | runner killed   | 7.1.0   |
      | lock     | runner frozen   | 7.2.0   |
      | lock     | network cut     | 7.3.0   |
      | lock     | attempt timeout | 7.4.0   |
      | snapshot | runner killed   | 7.5.0   |
      | snapshot | runner frozen   | 7.6.0   |
      | snapshot | network cut     | 7.7.0   |
      | snapshot | attempt timeout | 7.8.0   |
      | fetch    | runner killed   | 7.9.0   |
      | fetch    | runner frozen   | 7.10.0  |
      | fetch    | network cut     | 7.11.0  |
      | fetch    | attempt timeout | 7.12.0  |
      | migrate  | runner killed   | 7.13.0  |
      | migrate  | runner frozen   | 7.14.0  |
      | migrate  | network cut     | 7.15.0  |
      | migrate  | attempt timeout | 7.16.0  |
      | backend  | runner killed   | 7.17.0  |
      | backend  | runner frozen   | 7.18.0  |
      | backend  | network cut     | 7.19.0  |
      | backend  | attempt timeout | 7.20.0  |
      | frontend | runner killed   | 7.21.0  |
      | frontend | runner frozen   | 7.22.0  |
      | frontend | network cut     | 7.23.0  |
      | frontend | attempt timeout | 7.24.0  |
      | health   | runner killed   | 7.25.0  |
      | health   | runner frozen   | 7.26.0  |
      | health   | network cut     | 7.27.0  |
      | health   | attempt timeout | 7.28.0  |
      | commit   | runner killed   | 7.29.0  |
      | commit   | runner frozen   | 7.30.0  |
      | commit   | network cut     | 7.31.0  |
      | commit   | attempt timeout | 7.32.0  |
