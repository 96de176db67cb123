# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The performance gate as pure functions: metrics in, a pass/fail decision with the numbers out.

Rule (policy ``[tool.release_audit.performance]``):

* the gate metric (``metric``; default C-index / ROC AUC / macro one-vs-rest ROC AUC / RMSE for
  survival / binary / multiclass / regression) must improve on the
  baseline by more than ``min_delta`` (default 0: strictly better). Improvement is
  ``candidate - baseline`` for higher-is-better metrics and ``baseline - candidate`` for error
  metrics;
* with ``require_significant``, the paired-bootstrap CI of that improvement must lie above
  ``min_delta`` too (for the default 0: the CI of the difference excludes 0);
* every metric named in ``min_value`` must reach its floor (point estimate; for error metrics the
  value is a ceiling);
* without a baseline the gate fails unless ``first_release = true`` (floors still apply); a
  baseline that exists but cannot be scored always fails (fail closed);
* a logged metric that was clearly computed on the evaluation split (see ``match_logged``) must
  agree with the recomputed value within ``metric_tolerance``; metrics logged on the training
  data (sklearn autolog's ``training_*``) are shown, never compared;
* a model that returns class labels instead of probabilities cannot be judged on a rank metric
  (ROC AUC, log loss, C-index): such a gate or floor fails (``label_only_problems``).

Modules: ``rules`` (the policy's rule, logged-metric matching), ``decision`` (the rule applied
to estimates, with its text), ``assess`` (scoring, decision and evidence for one audit).
"""

from pytest_release_audit.metrics.gate.assess import (
    RANK_METRICS,
    OutputFacts,
    PerformanceAssessment,
    assess_performance,
    label_only_problems,
    scorer_for,
)
from pytest_release_audit.metrics.gate.decision import (
    GateDecision,
    comparison_text,
    evaluate_gate,
    improvement,
    requirement_text,
)
from pytest_release_audit.metrics.gate.rules import (
    ALIASES,
    DEFAULT_METRIC,
    EVAL_MARKERS,
    TASK_ALIASES,
    TASK_METRICS,
    TRAINING_PREFIXES,
    VALIDATION_MARKERS,
    GateRule,
    LoggedMetric,
    aliases_for,
    canonical_metric,
    match_logged,
    match_training,
    normalise,
    rule_from_policy,
)

__all__ = [
    "ALIASES",
    "DEFAULT_METRIC",
    "EVAL_MARKERS",
    "RANK_METRICS",
    "TASK_ALIASES",
    "TASK_METRICS",
    "TRAINING_PREFIXES",
    "VALIDATION_MARKERS",
    "GateDecision",
    "GateRule",
    "LoggedMetric",
    "OutputFacts",
    "PerformanceAssessment",
    "aliases_for",
    "assess_performance",
    "canonical_metric",
    "label_only_problems",
    "match_training",
    "comparison_text",
    "evaluate_gate",
    "improvement",
    "match_logged",
    "normalise",
    "requirement_text",
    "rule_from_policy",
    "scorer_for",
]
