# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Release approvals recorded in the model registry, and the risk tier that sets who must approve.

Storage
-------
A decision is a **signed statement** (``approvals.signed``): the canonical JSON of the model name
and version, its version digest and artifact digest, the role, the decision (approved or
rejected), the signer's principal, the UTC time and a comment, signed with the approver's SSH key
(``ssh-keygen -Y sign -n release-audit``, as git signs commits). Each statement is one model
version tag ``release_audit.signed_approval.<role>.<signer>.<time>.<hash>``, so a later decision never
erases an earlier one; the latest decision of each signer wins. The audit accepts a statement only
when ``ssh-keygen -Y verify`` says it is good for its signer against the ``allowed_signers`` file
of its role (``RELEASE_AUDIT_SIGNERS_DIR/<role>.allowed_signers`` from the CI, else the policy's
``[approvals.signers]``), it is about this version, and both digests match.

The version digest is sha256 over the canonical JSON of the model name, version number and
creation time, the source run id, the version's storage URI, the run's logged datasets (name,
digest, context) and the listing (path, size) of the model's artifacts, leaving out what merely
loading the model writes there (``LOAD_DROPPINGS``, ``__pycache__``). The artifact digest covers
the content of every model file. A statement copied to another version, or kept after the
artifacts changed, does not match and is listed as rejected with the reason.

Unsigned decisions (``release-audit approve`` without ``--key``; tag
``release_audit.approval.<role>``, the 0.1 format) count only for ``development`` and are labelled
"unsigned" wherever they appear.

Risk tiering (seed 002)
-----------------------
Six factors scored 0..10 with weights model_complexity 0.2, data_sensitivity 0.25,
deployment_scope 0.15, change_magnitude 0.2, testing_coverage 0.1, rollback_capability 0.1.
Each value comes from, in order: policy ``[approvals.risk]``; a version / run / registered-model
tag ``risk.<factor>``; a derivation from facts with seed 002's tables; else 5 (the midpoint: an
unknown risk is not a low one). Derivations (tags are read version, then run, then model):

* deployment_scope: the target (development 2, staging 4, production 6);
* data_sensitivity: tag ``data_classification`` (public 2, internal 4, confidential 7,
  restricted 9, anything else 5);
* change_magnitude: tag ``is_new_model=true`` 9, else tag ``deployment_strategy`` (blue_green 3,
  canary 4, rolling 6);
* testing_coverage: tag ``test_coverage`` (fraction; >= 0.9 2, >= 0.8 4, >= 0.7 6, else 8);
* rollback_capability: tag ``rollback_enabled`` (false 9; true with ``rollback_time_minutes``
  <= 5 2, <= 15 4, else 6);
* model_complexity: no derivation (set ``risk.model_complexity``).

With nothing recorded a production release scores 5.15 (high): record the facts or the scores.
Score = weighted sum; tier low (<= 3), medium (<= 5), high (<= 7), critical. Required roles =
``policy.approvals_required(target)`` plus ``policy.tier_roles(tier)`` (default: critical adds
``executive``; configure ``[approvals.tier_roles]`` to add roles for high).
Modules: ``records`` (the unsigned tag format, role names, listing), ``digest`` (the version
digest), ``risk`` (factors, score, tier), ``signed`` (SSH-signed statements), ``recording``
(``record_approval``), ``evaluate`` (``evaluate_approvals``).
"""

from pytest_release_audit.approvals import signed
from pytest_release_audit.approvals.digest import (
    LOAD_DROPPINGS,
    digest_of,
    is_load_dropping,
    version_digest,
    version_facts,
)
from pytest_release_audit.approvals.evaluate import ApprovalStatus, approve_hint, evaluate_approvals, policy_dir
from pytest_release_audit.approvals.recording import record_approval
from pytest_release_audit.approvals.records import (
    MAX_COMMENT,
    STATUSES,
    TAG_PREFIX,
    Approval,
    approvals_from_tags,
    list_approvals,
    normalize_role,
    parse_approval,
    version_tags,
)
from pytest_release_audit.approvals.risk import (
    RISK_WEIGHTS,
    TIERS,
    UNKNOWN_FACTOR,
    RiskAssessment,
    assess_risk,
    tier_for,
)

__all__ = [
    "LOAD_DROPPINGS",
    "MAX_COMMENT",
    "RISK_WEIGHTS",
    "STATUSES",
    "TAG_PREFIX",
    "TIERS",
    "UNKNOWN_FACTOR",
    "Approval",
    "ApprovalStatus",
    "RiskAssessment",
    "approvals_from_tags",
    "approve_hint",
    "assess_risk",
    "digest_of",
    "evaluate_approvals",
    "is_load_dropping",
    "list_approvals",
    "normalize_role",
    "parse_approval",
    "policy_dir",
    "record_approval",
    "signed",
    "tier_for",
    "version_digest",
    "version_facts",
    "version_tags",
]
