# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The model card: seed-000 sections, Hugging Face front matter, inert values, completeness.

Renderer tests build real ``ModelHandle`` / ``AuditResult`` objects (plain dataclasses) with the
evidence shapes the checks record; the end-to-end tests run a real audit on the demo registry.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from pytest_release_audit.errors import AuditConfigError
from pytest_release_audit.handle.model import DatasetRef, ModelHandle, RunRecord
from pytest_release_audit.policy import default_policy
from pytest_release_audit.report.model import AuditResult, CheckResult, ModelRef
from pytest_release_audit.report.model_card import (
    SECTIONS,
    build_context,
    card_sections,
    check_card,
    context_problems,
    escape_md,
    front_matter_yaml,
    missing_sections,
    render_model_card,
    split_front_matter,
)

EVIL = (
    "a|b <script>alert('x')</script> {{ 7*7 }} {% if 1 %}x{% endif %} `code` [link](javascript:x)\nnext line"
)
POLICY = {
    "template": "",
    "task": "Overall Survival Prediction",
    "modality": "Clinical Features Only",
    "architecture": "Transformer Encoder (6L, 512d)",
    "license": "apache-2.0",
    "limitations": [
        "Population: Trained on US patients; may not generalize globally",
        "Temporal: Data ends Q2 2024; treatment landscape may evolve",
    ],
}


def make_handle(
    *,
    description: str = "",
    tags: dict[str, str] | None = None,
    name: str = "cl_unimodal_v2",
    dataset_name: str = "mm_fusion_v1",
    inputs: bool = True,
    metrics: dict[str, float] | None = None,
) -> ModelHandle:
    datasets = (
        (
            DatasetRef(
                name=dataset_name,
                digest="1a2b3c4d",
                source_type="local",
                source="data/train.csv",
                context="training",
                tags={"data_product": "dp://clinical/molecular/v2", "pii_status": "scrubbed"},
            ),
            DatasetRef(
                name="mm_fusion_v1_eval",
                digest="5e6f7a8b",
                source_type="local",
                source="data/eval.csv",
                context="evaluation",
            ),
        )
        if inputs
        else ()
    )
    run = RunRecord(
        run_id="0123456789abcdef",
        experiment_id="1",
        status="FINISHED",
        start_time=0,
        params={},
        metrics={"c_index": 0.71} if metrics is None else metrics,
        tags={"mlflow.runName": "job-fusion-xl-v2-resume"},
        artifacts=(),
        inputs=datasets,
    )
    return ModelHandle(
        name=name,
        version="3",
        tracking_uri="sqlite:///unused.db",
        registry_uri="sqlite:///unused.db",
        requested_alias="candidate",
        tags=dict(tags or {}),
        description=description,
        run=run,
    )


def full_checks(dataset_name: str = "mm_fusion_v1") -> list[CheckResult]:
    return [
        CheckResult(
            id="lineage",
            title="Lineage complete",
            outcome="passed",
            required=True,
            summary="raw -> split -> run -> model",
            evidence={
                "chain": [
                    {"kind": "dataset", "name": "mm_curated_q225", "role": "Raw"},
                    {"kind": "dataset", "name": dataset_name, "role": "Pinned Split", "context": "training"},
                    {"kind": "run", "name": "job-fusion-xl-v2-resume", "role": "Training Run"},
                    {"kind": "model", "name": "cl_unimodal_v2 v3", "role": "Final Artifact"},
                ],
                "datasets": [
                    {
                        "name": dataset_name,
                        "context": "training",
                        "rows": 1200,
                        "patients": 1120,
                        "date_range": ["2018-01-03", "2024-06-30"],
                        "data_product": None,
                    }
                ],
            },
        ),
        CheckResult(
            id="pii",
            title="Training data contains no PII/PHI",
            outcome="passed",
            required=True,
            summary="0 findings",
            evidence={
                "engine": "pattern",
                "detectable": [],
                "undetectable": [],
                "findings": [],
                "status": "clean",
                "datasets": [
                    {
                        "name": dataset_name,
                        "context": "training",
                        "rows": 1200,
                        "columns_scanned": 12,
                        "findings": 0,
                    }
                ],
                "claims": {dataset_name: "scrubbed"},
            },
        ),
        CheckResult(
            id="performance_gate",
            title="Beats the production model",
            outcome="passed",
            required=True,
            summary="C-Index +0.022",
            evidence={
                "task": "survival",
                "metric": "c_index",
                "n": 500,
                "events": 210,
                "baseline": {"name": "cl_unimodal_v2", "version": "2", "alias": "production"},
                "metrics": [
                    {
                        "name": "c_index",
                        "label": "C-Index",
                        "candidate": 0.7123,
                        "candidate_ci": [0.68, 0.74],
                        "baseline": 0.69,
                        "baseline_ci": [0.66, 0.72],
                        "delta": 0.0223,
                        "delta_ci": [0.004, 0.04],
                        "logged": 0.71,
                        "gate": True,
                    }
                ],
                "hazard_ratio": {"value": 1.52, "ci": [1.21, 1.89], "p": 0.0004, "significant": True},
            },
        ),
        CheckResult(
            id="bias",
            title="Subgroup performance checked",
            outcome="passed",
            required=True,
            summary="3 subgroups",
            evidence={
                "metric": "c_index",
                "gap": None,
                "subgroups": [
                    {
                        "column": "sex",
                        "value": "F",
                        "n": 250,
                        "events": 100,
                        "metric_value": 0.70,
                        "ci": [0.65, 0.75],
                        "status": "ok",
                    }
                ],
                "findings": ["Missing Data: 18% of cohort excluded due to incomplete regimen data"],
            },
        ),
        CheckResult(
            id="approvals",
            title="Approvals recorded",
            outcome="failed",
            required=True,
            summary="missing security",
            evidence={
                "score": 6.5,
                "tier": "high",
                "required": ["technical", "security"],
                "present": [
                    {
                        "role": "technical",
                        "by": "J. Smith",
                        "at": "2024-12-01T10:00:00Z",
                        "status": "approved",
                        "signed": True,
                    }
                ],
                "missing": ["security"],
                "rejected": [],
            },
        ),
    ]


def make_result(
    checks: list[CheckResult],
    status: str = "BLOCKED",
    blocking: tuple[str, ...] = ("approvals",),
    name: str = "cl_unimodal_v2",
) -> AuditResult:
    return AuditResult(
        status=status,
        model=ModelRef(
            name=name, version="3", alias="candidate", run_id="0123456789abcdef", uri=f"models:/{name}/3"
        ),
        baseline=None,
        target="production",
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:01:00Z",
        tool_version="0.1.0",
        checks=tuple(checks),
        blocking=blocking,
        audit_id="audit-1",
    )


def final_card(checks: list[CheckResult] | None = None, policy: dict | None = None, **handle_kwargs) -> str:
    checks = full_checks() if checks is None else checks
    context = build_context(
        make_result(checks), make_handle(**handle_kwargs), POLICY if policy is None else policy
    )
    return render_model_card(context)


def html_of(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(split_front_matter(markdown)[1])


def test_sections_follow_the_seed_structure_in_order():
    card = final_card()
    _, body = split_front_matter(card)
    assert body.lstrip().startswith("# Model Card: cl_unimodal_v2\n")
    assert list(card_sections(card)) == list(SECTIONS)
    positions = [body.index(f"\n## {name}\n") for name in SECTIONS]
    assert positions == sorted(positions)
    assert "| Field | Value |" in body
    assert "| Dataset | Patients | Date Range | PII Status |" in body
    assert "| Metric | Value | 95% CI | vs. Baseline |" in body
    assert "| Role | Name | Date | Status |" in body
    assert missing_sections(card) == []


def test_card_carries_the_evidence_of_each_check():
    sections = card_sections(final_card())
    text = {name: "\n".join(lines) for name, lines in sections.items()}
    assert "| Task | Overall Survival Prediction |" in text["Overview"]
    assert (
        "| mm_fusion_v1 | 1,120 | 2018-01-03 – 2024-06-30 | ✅ No PII found (claimed: scrubbed) |"
        in text["Training Data"]
    )
    assert "dp://clinical/molecular/v2 (used by mm_fusion_v1)" in text["Training Data"]
    assert "| C-Index | 0.712 | [0.680, 0.740] | ✅ +0.022" in text["Performance Metrics"]
    assert (
        "| Hazard Ratio | 1.52 | [1.21, 1.89] | Significant (p &lt; 0.001) |" in text["Performance Metrics"]
    )
    assert "- **Population:** Trained on US patients" in text["Limitations & Bias"]
    assert "- **Bias:** Missing Data: 18% of cohort excluded" in text["Limitations & Bias"]
    assert (
        "mm_curated_q225 (Raw)\n↓\nmm_fusion_v1 (Pinned Split)\n↓\njob-fusion-xl-v2-resume (Training Run)"
        in text["Lineage"]
    )
    assert "| technical | J. Smith | 2024-12-01 | ✅ Approved (signed) |" in text["Approval Chain"]
    assert "| security | — | Pending | ⏳ Awaiting |" in text["Approval Chain"]
    assert "| approvals | Approvals recorded | ❌ Failed | missing security |" in text["Compliance Checklist"]
    # The lineage chain renders as one seed-style line (a browser shows soft breaks as spaces).
    shown = " ".join(html_of(final_card()).split())
    assert (
        "mm_curated_q225 (Raw) ↓ mm_fusion_v1 (Pinned Split) ↓ job-fusion-xl-v2-resume (Training Run)"
        in shown
    )


def test_status_line_shows_the_verdict_and_blocking_checks():
    blocked = final_card()
    assert "**Status:** 🔴 BLOCKED for production: approvals" in blocked
    ready_context = build_context(
        make_result(full_checks(), status="READY", blocking=()), make_handle(), POLICY
    )
    assert "**Status:** 🟢 READY FOR PRODUCTION" in render_model_card(ready_context)
    missing_check = build_context(make_result([], blocking=("pii",)), make_handle(), POLICY)
    assert "| pii | required check | ⛔ Did not run | did not run |" in render_model_card(missing_check)


def test_overview_falls_back_from_policy_to_tags_to_not_recorded():
    policy = {**POLICY, "task": "", "modality": "", "architecture": ""}
    card = final_card(
        policy=policy, tags={"task": "Tagged task", "estimator_class": "sklearn.linear_model.Lasso"}
    )
    overview = "\n".join(card_sections(card)["Overview"])
    assert "| Task | Tagged task |" in overview
    assert "| Modality | not recorded |" in overview
    assert "| Architecture | sklearn.linear_model.Lasso |" in overview


def test_front_matter_is_hugging_face_metadata():
    meta = yaml.safe_load(split_front_matter(final_card())[0])
    assert meta["license"] == "apache-2.0"
    assert "pytest-release-audit" in meta["tags"] and "audit-blocked" in meta["tags"]
    [entry] = meta["model-index"]
    assert entry["name"] == "cl_unimodal_v2"
    [result] = entry["results"]
    # Required by the Hub's model-index spec: task.type, dataset.type + name, metrics[].type + value.
    assert result["task"]["type"] == "survival-analysis"
    assert result["dataset"]["type"] and result["dataset"]["name"] == "mm_fusion_v1_eval"
    assert result["metrics"] == [
        {"type": "c_index", "value": 0.7123, "name": "C-Index"},
        {"type": "hazard_ratio", "value": 1.52, "name": "Hazard Ratio"},
    ]


def test_front_matter_names_a_licence_the_hub_does_not_know():
    meta = yaml.safe_load(
        split_front_matter(final_card(policy={**POLICY, "license": "LicenseRef-Internal-Only"}))[0]
    )
    assert meta["license"] == "other"
    assert meta["license_name"] == "internal-only"
    unknown = yaml.safe_load(split_front_matter(final_card(policy={**POLICY, "license": ""}))[0])
    assert unknown["license"] == "unknown"


def test_front_matter_has_no_model_index_without_verified_metrics():
    checks = [c for c in full_checks() if c.id != "performance_gate"]
    meta = yaml.safe_load(split_front_matter(final_card(checks))[0])
    assert "model-index" not in meta


def hostile_card() -> str:
    checks = full_checks(dataset_name=EVIL)
    checks = [dataclasses.replace(c, summary=EVIL, title=EVIL) if c.id == "pii" else c for c in checks]
    bias = next(c for c in checks if c.id == "bias")
    checks[checks.index(bias)] = dataclasses.replace(bias, evidence={**bias.evidence, "findings": [EVIL]})
    policy = {**POLICY, "task": EVIL, "limitations": [EVIL], "license": EVIL}
    return final_card(
        checks,
        policy=policy,
        name=EVIL,
        dataset_name=EVIL,
        description=f"## Limitations\n- {EVIL}\n",
        tags={"modality": EVIL},
    )


def test_hostile_values_are_inert_in_the_bytes():
    data = hostile_card().encode("utf-8")
    assert b"<script" not in data
    assert b"49" not in data  # {{ 7*7 }} never evaluated
    assert b"{{" not in data and b"{%" not in data
    assert b"`" not in data
    assert not re.search(rb"(?<!\\)\]\(", data)  # no unescaped "](" that would make a link
    assert b"&lt;script&gt;" in data and b"&#123;&#123; 7\\*7 &#125;&#125;" in data


def test_hostile_values_do_not_break_tables_or_inject_markup():
    card = hostile_card()
    html = html_of(card)
    assert "<script" not in html and "<a " not in html and "<code>" not in html
    # Every table row has exactly as many cells as its header: no value added a column.
    for table in re.findall(r"<table>.*?</table>", html, flags=re.S):
        header = len(re.findall(r"<th[ >]", table))
        for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
            assert len(re.findall(r"<td[ >]", row)) == header
    # The value survives, as text, on one line.
    assert "a|b &lt;script&gt;alert('x')&lt;/script&gt; {{ 7*7 }}" in html
    assert "next line" in html and "\nnext line" not in html
    meta = yaml.safe_load(split_front_matter(card)[0])
    assert meta["model-index"][0]["name"] == EVIL  # the YAML holds the exact value, escaped
    assert meta["license"] == "other"


def test_template_syntax_in_a_value_is_never_evaluated_even_by_a_custom_template(tmp_path):
    template = tmp_path / "card.md.j2"
    template.write_text("{{ model.name }}|{{ overview[2].value }}\n", encoding="utf-8")
    context = build_context(
        make_result(full_checks()), make_handle(name="{{ 7*7 }}"), {**POLICY, "task": "{% raw %}"}
    )
    out = render_model_card(context, template_path=template)
    assert out == "&#123;&#123; 7\\*7 &#125;&#125;|&#123;% raw %&#125;\n"


def test_custom_template_runs_sandboxed(tmp_path):
    template = tmp_path / "evil.md.j2"
    template.write_text("{{ model.__class__.__mro__[1].__subclasses__() }}\n", encoding="utf-8")
    context = build_context(make_result(full_checks()), make_handle(), POLICY)
    with pytest.raises(AuditConfigError, match="does not render"):
        render_model_card(context, template_path=template)


def test_custom_template_extends_the_builtin_and_overrides_one_block(tmp_path):
    template = tmp_path / "ours.md.j2"
    template.write_text(
        '{% extends "model_card.md.j2" %}\n'
        "{% block performance %}## Performance Metrics\n\nSee {{ model.uri }}.\n{% endblock %}\n",
        encoding="utf-8",
    )
    context = build_context(make_result(full_checks()), make_handle(), POLICY)
    out = render_model_card(context, template_path="ours.md.j2", base_dir=tmp_path)
    assert list(card_sections(out)) == list(SECTIONS)
    assert "See models:/cl_unimodal_v2/3." in out  # intraword underscores stay readable
    assert "| C-Index |" not in out


def test_missing_custom_template_is_a_config_error(tmp_path):
    context = build_context(None, make_handle(), POLICY)
    with pytest.raises(AuditConfigError, match="model_card.template"):
        render_model_card(context, template_path=tmp_path / "nope.md.j2")


def test_extra_sections_from_the_hook_are_rendered_escaped():
    context = build_context(make_result(full_checks()), make_handle(), POLICY)
    context["extra_sections"].append({"title": "Intended Use", "body": f"Research only.\n\n{EVIL}"})
    context["extra_sections"].append({"title": "Out of Scope", "body": ["Clinical decisions", EVIL]})
    card = render_model_card(context)
    sections = card_sections(card)
    assert list(sections)[: len(SECTIONS)] == list(SECTIONS)
    assert "Research only." in sections["Intended Use"]
    assert "- Clinical decisions" in sections["Out of Scope"]
    assert "<script" not in card and "{{" not in card


def test_missing_sections_flags_placeholders_and_empty_sections():
    assert missing_sections(final_card()) == []
    todo = final_card(policy={**POLICY, "limitations": ["TODO: write limitations"]})
    assert any("placeholder 'TODO'" in p for p in missing_sections(todo))
    no_task = final_card(policy={**POLICY, "task": ""})
    assert missing_sections(no_task) == [], "the task the performance gate inferred fills the Overview"
    assert "| Task | Survival prediction (inferred from the data) |" in no_task
    no_gate = [c for c in full_checks() if c.id != "performance_gate"]
    from_metrics = final_card(checks=no_gate, policy={**POLICY, "task": ""})
    assert "| Task | Survival prediction (inferred from logged metric c_index) |" in from_metrics
    no_task_no_gate = final_card(checks=no_gate, policy={**POLICY, "task": ""}, metrics={})
    assert "Overview: Task is not recorded" in missing_sections(no_task_no_gate)
    no_data = final_card(checks=[], inputs=False)
    problems = missing_sections(no_data)
    assert "Training Data: section is empty" in problems
    assert "Approval Chain: section is empty" in problems
    handwritten = (
        "# Model Card: m\n\n## Overview\n\n| Field | Value |\n| :--- | :--- |\n| Model Name | {{ name }} |\n"
    )
    problems = missing_sections(handwritten)
    assert any("'{{'" in p for p in problems) and "Training Data: section missing" in problems


@pytest.mark.parametrize(
    "evidence",
    [
        {},
        {"ran": False},
        {
            "metrics": "not a list",
            "hazard_ratio": [1, 2],
            "chain": {"x": 1},
            "datasets": None,
            "subgroups": 3,
        },
        {
            "metrics": [None, 3, {"name": None}, {"name": "auc", "candidate": "nan?", "candidate_ci": [1]}],
            "present": [{"role": None}],
            "missing": [None],
            "findings": [None, {"x": 1}],
            "claims": [],
        },
        {
            "metrics": [{"name": "auc", "candidate": float("nan"), "delta": float("inf")}],
            "hazard_ratio": {"value": "1.5", "ci": ["a", "b"], "significant": "maybe"},
            "datasets": [
                {"name": "mm_fusion_v1", "patients": "many", "date_range": ["2018"], "findings": "x"}
            ],
        },
    ],
)
@pytest.mark.parametrize("outcome", ["passed", "failed", "error", "skipped"])
def test_missing_or_malformed_evidence_is_tolerated(evidence, outcome):
    checks = [
        CheckResult(id=cid, title=cid, outcome=outcome, required=True, evidence=evidence)
        for cid in ("lineage", "pii", "performance_gate", "bias", "approvals", "data_integrity")
    ]
    card = final_card(checks)
    assert list(card_sections(card)) == list(SECTIONS)
    yaml.safe_load(split_front_matter(card)[0])


def test_nothing_known_still_renders_and_says_not_run():
    context = build_context(None, None, None)
    card = render_model_card(context)
    assert list(card_sections(card)) == list(SECTIONS)
    assert "*Not run: the performance_gate check has not run*" in card
    assert "*Not run: the approvals check has not run*" in card
    assert "🟡 PROVISIONAL" in card
    result = dataclasses.replace(make_result([]), model=None)
    assert "# Model Card: not recorded" in render_model_card(build_context(result, None, {}))


def test_check_results_in_dict_form_are_accepted():
    as_dicts = [c.to_dict() for c in full_checks()]
    context = build_context(None, make_handle(), POLICY, checks=as_dicts)
    assert context["performance"]["verified"] is True
    assert [row["id"] for row in context["checklist"]] == [c.id for c in full_checks()]


def test_limitations_are_read_from_the_version_description():
    description = (
        "Cox model on clinical features.\n\n### Known limitations\n"
        "- Missing Data: 18% of cohort excluded\n* Site imbalance\n\n## Usage\n- not a limitation\n"
    )
    card = final_card(policy={**POLICY, "limitations": []}, description=description, checks=[])
    section = "\n".join(card_sections(card)["Limitations & Bias"])
    assert "- **Missing Data:** 18% of cohort excluded" in section
    assert "- Site imbalance" in section
    assert "not a limitation" not in section


def test_check_card_fails_without_task_and_warns_without_limitations_whatever_ran_before():
    bare = {**POLICY, "task": "", "limitations": []}
    alone = check_card(make_handle(metrics={}), bare, [])
    after_others = check_card(make_handle(metrics={}), bare, full_checks())
    assert alone.missing == after_others.missing
    assert alone.missing == ("Overview: Task is not recorded",)
    assert "no limitation stated" in alone.evidence["warnings"][0]
    message = alone.failure_message
    assert "\n" not in message and "model_card.task" in message
    assert "MlflowClient().set_model_version_tag(NAME, VERSION, 'task', 'binary')" in message


def test_completeness_is_judged_on_the_context():
    context = build_context(make_result(full_checks()), make_handle(), POLICY)
    assert context_problems(context) == []
    todo = build_context(None, make_handle(description="Limitations: TBD"), {**POLICY, "limitations": []})
    assert any(p.startswith("placeholder 'TBD' remains") for p in context_problems(todo))
    # Another check's summary never makes the card incomplete: only owner-supplied values count.
    noisy = [dataclasses.replace(c, summary="TODO later") for c in full_checks()]
    assert context_problems(build_context(make_result(noisy), make_handle(), POLICY)) == []
    empty = build_context(None, make_handle(inputs=False), POLICY)
    assert "Training Data: section is empty" in context_problems(empty)


def test_check_card_catches_a_placeholder_in_a_registry_value():
    card = check_card(make_handle(tags={"modality": "TODO fill in"}), {**POLICY, "modality": ""}, [])
    assert any("placeholder 'TODO' remains" in p for p in card.missing)
    assert "remove the placeholder" in card.failure_message


def test_check_card_fails_without_training_data():
    card = check_card(make_handle(inputs=False), POLICY, [])
    assert "Training Data: section is empty" in card.missing
    assert "mlflow.log_input" in card.failure_message


def test_check_card_passes_from_handle_and_policy_alone():
    card = check_card(make_handle(), POLICY, [])
    assert card.missing == ()
    assert card.evidence["provisional"] is True
    assert card.evidence["training_datasets"] == 1 and card.evidence["limitations"] == 2
    assert "🟡 PROVISIONAL" in card.markdown
    assert "1 training dataset," in card.summary


def test_check_card_uses_the_policy_template_relative_to_base_dir(tmp_path):
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "short.md.j2").write_text("# Model Card: {{ model.name }}\n", encoding="utf-8")
    card = check_card(make_handle(), {**POLICY, "template": "cards/short.md.j2"}, [], base_dir=tmp_path)
    assert "Overview: section missing" in card.missing
    assert card.evidence["template"] == "cards/short.md.j2"


def test_default_policy_section_has_every_key_the_card_reads():
    section = default_policy().section("model_card")
    assert {"template", "limitations", "task", "modality", "architecture", "license"} <= set(section)
    build_context(None, make_handle(), section)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escaped_values_stay_one_inert_line(text):
    out = escape_md(text)
    assert "\n" not in out and "\r" not in out
    assert not re.search(r"[<>`{}]", out)
    # Every pipe is escaped by an odd number of backslashes (GFM would otherwise end the cell).
    for match in re.finditer(r"(\\*)\|", out):
        assert len(match.group(1)) % 2 == 1


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda children: (
            st.lists(children, max_size=3) | st.dictionaries(st.text(min_size=1), children, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_front_matter_round_trips_any_value(value):
    text = front_matter_yaml({"model-index": value, "license": "apache-2.0"})
    assert "{{" not in text and "<" not in text
    assert not any(line.strip() in ("---", "...") for line in text.splitlines())
    text.encode("utf-8")  # lone surrogates are escaped, so the card can always be written
    loaded = yaml.safe_load(text)
    assert loaded == {"model-index": value, "license": "apache-2.0"}


# ---------------------------------------------------------------------------------------------
# End to end: a real audit on the demo registry


@pytest.mark.slow
def test_audit_writes_the_final_card_with_every_check_and_the_verdict(audit):
    audit.run("cl_unimodal_v2")
    report = audit.report()
    card = (audit.out_dir / "model_card.md").read_text(encoding="utf-8")
    assert list(card_sections(card))[: len(SECTIONS)] == list(SECTIONS)
    checklist = "\n".join(card_sections(card)["Compliance Checklist"])
    for check in report["checks"]:
        assert f"| {escape_md(check['id'])} |" in checklist
    verdict = "🟢 READY" if report["status"] == "READY" else "🔴 BLOCKED"
    assert f"**Status:** {verdict}" in card
    yaml.safe_load(split_front_matter(card)[0])
    model_card = next(c for c in report["checks"] if c["id"] == "model_card")
    assert model_card["outcome"] == "passed", model_card["summary"]
    assert model_card["evidence"]["provisional"] is True
    assert "model_card.md" in model_card["artifacts"]


@pytest.mark.slow
def test_model_card_check_blocks_when_a_placeholder_remains(audit):
    pyproject = audit.pytester.path / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    section = '[tool.release_audit.models."cl_unimodal_*".model_card]\n'
    assert section in text
    pyproject.write_text(text.replace(section, section + 'task = "TODO"\n'), encoding="utf-8")
    audit.run("cl_unimodal_v2")
    report = audit.report()
    model_card = next(c for c in report["checks"] if c["id"] == "model_card")
    assert model_card["outcome"] == "failed"
    assert "placeholder 'TODO' remains" in model_card["summary"]
    assert "model_card" in report["blocking"]


@pytest.mark.slow
def test_context_hook_adds_a_section_to_the_final_card(audit):
    audit.pytester.makeconftest(
        """
        def pytest_release_audit_model_card_context(result, context):
            context["extra_sections"].append(
                {"title": "Intended Use", "body": "Research only <script>x</script> {{ 7*7 }}"})
        """
    )
    audit.run("cl_unimodal_v2")
    card = (audit.out_dir / "model_card.md").read_text(encoding="utf-8")
    assert "## Intended Use" in card
    assert "Research only &lt;script&gt;x&lt;/script&gt; &#123;&#123; 7\\*7 &#125;&#125;" in card
