# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The card's section builders: each reads the handle, the policy and checks' typed evidence.

Missing evidence is normal (a check errored, was deselected, or has not run yet when the
``model_card`` check renders its provisional card): every builder says "not run" / "not recorded"
instead of raising.
"""
