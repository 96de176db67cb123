# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The framework clauses each built-in check evidences, spelled ``FRAMEWORK CLAUSE``.

SR 11-7 clauses are the guidance's section headings; the others are article, section or control
numbers (EU AI Act, GDPR, HIPAA, 21 CFR Part 11, ISO/IEC 42001 Annex A, ISO/IEC 27001 Annex A,
NIST SSDF, OpenChain ISO/IEC 5230, the REUSE specification, FDA GMLP principles, OWASP ML Top 10).
"""

from __future__ import annotations

CONTROLS: dict[str, tuple[str, ...]] = {
    "lineage": ("SR 11-7 Model Inventory", "EU AI Act Art. 12", "GDPR Art. 30"),
    "data_integrity": ("SR 11-7 Data Quality", "21 CFR 11.10(a)", "ISO/IEC 42001 A.7.5"),
    "data_validation": ("EU AI Act Art. 10(2)", "SR 11-7 Data Quality", "ISO/IEC 42001 A.7.4"),
    "operational_readiness": ("SR 11-7 Ongoing Monitoring", "EU AI Act Art. 72", "ISO/IEC 42001 A.6.2.6"),
    "evaluation_artifacts": ("SR 11-7 Outcomes Analysis", "ISO/IEC 42001 A.6.2.4"),
    "signature": ("ISO/IEC 42001 A.6.2.2", "ISO/IEC 42001 A.6.2.7"),
    "pii": ("GDPR Art. 5(1)(c)", "GDPR Art. 25", "HIPAA 164.514(b)"),
    "leakage": ("SR 11-7 Data Quality", "SR 11-7 Outcomes Analysis", "EU AI Act Art. 10(3)"),
    "data_license": ("GDPR Art. 5(1)(b)", "GDPR Art. 6", "SR 11-7 Data Quality"),
    "ip_headers": ("REUSE 3.3", "ISO/IEC 5230 3.3"),
    "security": ("NIST SSDF PW.7.2", "ISO/IEC 27001 A.8.28"),
    "dependencies": ("NIST SSDF PS.3.2", "ISO/IEC 42001 A.4.4"),
    "reproducibility": ("SR 11-7 Model Development", "EU AI Act Art. 12", "ISO/IEC 42001 A.6.2.3"),
    "performance_gate": ("SR 11-7 Outcomes Analysis", "EU AI Act Art. 15(1)", "FDA GMLP 8"),
    "bias": ("EU AI Act Art. 10(2)(f)", "EU AI Act Art. 15", "FDA GMLP 3"),
    "serving_contract": ("ISO/IEC 42001 A.6.2.5", "EU AI Act Art. 12", "SR 11-7 Ongoing Monitoring"),
    "latency": ("ISO/IEC 42001 A.6.2.6", "EU AI Act Art. 15(1)"),
    "drift": ("SR 11-7 Ongoing Monitoring", "EU AI Act Art. 72", "ISO/IEC 42001 A.6.2.6"),
    "model_artifact": ("EU AI Act Art. 15(5)", "OWASP ML06", "NIST SSDF PS.2"),
    "model_card": ("EU AI Act Art. 11", "EU AI Act Annex IV", "SR 11-7 Documentation"),
    "approvals": ("SR 11-7 Governance", "EU AI Act Art. 14"),
}
