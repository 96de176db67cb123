# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Judge a dataset's licence / usage tag for a release target (fails closed).

* Terms that restrict use (research-only, non-commercial, no clinical use, academic or evaluation
  only, CC ``-NC`` licences) never pass for ``production``, whatever the policy allows: only a
  waiver releases such data.
* With an allow-list for the target (policy ``data_license.allowed.<target>``) a tag passes when
  it is on the list.
* Without one, a tag passes only when the built-in list calls it permissive for internal use
  (``PERMISSIVE``); an SPDX expression (``CC-BY-4.0 OR MIT``) is read with ``license-expression``:
  ``OR`` needs one permissive choice, ``AND`` needs every part permissive.
"""

from __future__ import annotations

import re

#: Licences and usage terms that allow internal use of data for a model that is put in production.
PERMISSIVE = frozenset(s.casefold() for s in (
    "Internal-Only", "Internal", "Internal use", "Proprietary", "Company-Confidential",
    "LicenseRef-Internal", "LicenseRef-Internal-Only", "LicenseRef-Proprietary",
    "CC0-1.0", "CC-BY-4.0", "CC-BY-3.0", "PDDL-1.0", "ODC-By-1.0", "CDLA-Permissive-1.0",
    "CDLA-Permissive-2.0", "MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Unlicense",
    "Public-Domain", "Public Domain",
))
#: Terms that restrict use: never released to production without a waiver.
RESTRICTED = re.compile(
    r"research[\s_-]*(use[\s_-]*)?only|non[\s_-]*commercial|no[\s_-]*commercial|\bnc\b|-nc-|-nc$|"
    r"no[\s_-]*clinical|not[\s_-]*for[\s_-]*clinical|clinical[\s_-]*use[\s_-]*prohibited|"
    r"academic[\s_-]*(use|only)|evaluation[\s_-]*only|personal[\s_-]*use|non[\s_-]*production",
    re.IGNORECASE,
)


def restricted_terms(value: str) -> list[str]:
    """The restricting terms in a licence tag (``[]`` when there are none)."""
    found = {m.group(0).strip(" -_").lower() for m in RESTRICTED.finditer(value)}
    return sorted("non-commercial (NC)" if t == "nc" else t for t in found)


def _spdx_permissive(value: str) -> bool:
    from license_expression import ExpressionError, get_spdx_licensing

    licensing = get_spdx_licensing()
    try:
        expression = licensing.parse(value, validate=False)
    except ExpressionError:
        return False
    if expression is None:
        return False
    choices = licensing.dedup(expression)
    # Disjunctive normal form: one AND-clause whose every licence is permissive is enough.
    text = str(licensing.parse(str(choices)))
    return any(
        all(part.strip("() ").casefold() in PERMISSIVE for part in re.split(r"\s+AND\s+", clause))
        for clause in re.split(r"\s+OR\s+", text)
    )


def judge(value: str, target: str, allowed: list[str]) -> tuple[str, str]:
    """(status, reason) for one tag: ``allowed``, ``permissive``, ``restricted`` or ``not_allowed``."""
    terms = restricted_terms(value)
    if terms and target == "production":
        return "restricted", f"restricts use ({', '.join(terms)}): never released to production without a waiver"
    if allowed:
        if value.casefold() in {a.casefold() for a in allowed}:
            return "allowed", f"allowed for {target} by the policy"
        return "not_allowed", f"not on the policy's list for {target} ({', '.join(allowed)})"
    if terms:
        return "restricted", f"restricts use ({', '.join(terms)}) and the policy allows nothing for {target}"
    if value.casefold() in PERMISSIVE or _spdx_permissive(value):
        return "permissive", "permissive for internal use (built-in list)"
    return "not_allowed", (f"not on the built-in list of permissive licences and the policy lists none for {target}: "
                           f"add it to [tool.release_audit.data_license.allowed] {target} if your counsel approves it")
