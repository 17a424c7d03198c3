@US2 @alerts @docker
Feature: Runner problems page the on-call with the right alert, in time, and only when real
  As an SRE on call
  I want an offline production runner to page me within the alert's budget, and to be told when it recovers
  So that I learn of runner problems from monitoring, not from a failed release, and am not paged for blips

  Scenario: An offline primary runner pages RunnerOffline within its budget and it clears on recovery
    Given a healthy primary and secondary runner
    When the primary runner goes offline
    Then the on-call receives "RunnerOffline" for the primary runner within its alert budget
    When the primary runner comes back
    Then the on-call is told "RunnerOffline" for the primary runner is resolved

  Scenario: A blip shorter than the alert's for does not page
    Given a healthy primary and secondary runner
    When the primary runner is offline for half of RunnerOffline's for
    Then no "RunnerOffline" alert reaches the on-call for the primary runner
