# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Hostile input: property tests for the policy loader and the model-spec parser, and markup
injection through a real registry into every output the audit writes.

Properties: any input either succeeds or raises the documented error type (``PolicyError`` for
the policy, ``AuditConfigError`` for ``--audit-model``); nothing else escapes.

Injection: a model whose name, description, tags, dataset names and column names carry
``<script>``, ``|``, backticks, ``{{ }}``, newlines and ANSI escapes is audited end to end (a
subprocess, so the terminal bytes are exactly what a CI log would hold). Each output is then
checked on its bytes: no escape or control byte, no forged line, no live markup, no evaluated
template expression, and the hostile text still visible in escaped form (rendered, not dropped).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_release_audit.errors import AuditConfigError, PolicyError
from pytest_release_audit.handle.spec import ModelSpec, parse_model_spec
from pytest_release_audit.policy import Policy, load_policy, validate
from pytest_release_audit.policy.sections import Section, policy_keys
from pytest_release_audit.policy.settings import PolicySettings

# -- properties -------------------------------------------------------------------------------------
#: Every key the schema knows (so generated policies reach deep into validation), plus noise.
_SECTIONS = [f.annotation for f in PolicySettings.model_fields.values()
             if isinstance(f.annotation, type) and issubclass(f.annotation, Section)]
_SCHEMA_KEYS = sorted(set(policy_keys(PolicySettings)) | {k for m in _SECTIONS for k in policy_keys(m)}
                      | {"waivers", "models", "id", "reason", "approver", "expires", "*"})
toml_keys = st.one_of(st.sampled_from(_SCHEMA_KEYS), st.text(max_size=12))
toml_scalars = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(toml_keys, inner, max_size=5)),
    max_leaves=25,
)
policies = st.dictionaries(toml_keys, toml_values, max_size=8)
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _validate_or_policy_error(raw: Any) -> Policy | None:
    try:
        policy = validate(raw, source="generated")
    except PolicyError as exc:
        assert str(exc), "a policy error says what is wrong"
        return None
    assert isinstance(policy, Policy)
    for name in policy.models:  # overrides apply without surprises
        policy.for_model(name)
    assert all(isinstance(c, str) for target in ("production", "staging") for c in policy.required_checks(target))
    return policy


@PROPERTY_SETTINGS
@given(policies)
@example({"waivers": [{"id": "x", "reason": "r", "approver": "a", "expires": dt.time(1, 2)}]})
@example({"models": {"m": {"bias": {"min_n": "3"}}}})
@example({"required_checks": ["lineage", " "]})
def test_validate_accepts_or_raises_policy_error(raw: dict[str, Any]) -> None:
    _validate_or_policy_error(raw)


@PROPERTY_SETTINGS
@given(toml_values)
def test_validate_rejects_any_non_table_with_policy_error(raw: Any) -> None:
    if isinstance(raw, dict):
        _validate_or_policy_error(raw)
    else:
        with pytest.raises(PolicyError):
            validate(raw)


def _toml(value: Any) -> str:
    """A TOML rendering of generated data (inline tables); invalid TOML is fine: it must be rejected."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False)


def _load(text: bytes, *, as_pyproject: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if as_pyproject:
            (root / "pyproject.toml").write_bytes(text)
            target = None
        else:
            (root / "policy.toml").write_bytes(text)
            target = "policy.toml"
        try:
            policy = load_policy(target, root)
        except PolicyError as exc:
            assert str(exc), "a policy error says what is wrong"
            return
        assert isinstance(policy, Policy)


@PROPERTY_SETTINGS
@given(policies, st.booleans())
def test_load_policy_from_generated_toml_accepts_or_raises_policy_error(raw: dict[str, Any], pyproject: bool) -> None:
    body = "\n".join(f"{json.dumps(str(k), ensure_ascii=False)} = {_toml(v)}" for k, v in raw.items())
    text = ("[tool.release_audit]\n" + body) if pyproject else body
    _load(text.encode("utf-8", "surrogatepass"), as_pyproject=pyproject)


@PROPERTY_SETTINGS
@given(st.binary(max_size=300), st.booleans())
@example(b"x = " + b"[" * 3000 + b"]" * 3000, False)  # nesting deeper than the parser's recursion
@example(b"\xff\xfe not utf-8", True)
@example(b'[tool]\nrelease_audit = 3\n', True)
@example(b'[tool.release_audit]\nwaivers = [{id = "pii"}]\n', True)
def test_load_policy_from_any_bytes_accepts_or_raises_policy_error(data: bytes, pyproject: bool) -> None:
    _load(data, as_pyproject=pyproject)


@PROPERTY_SETTINGS
@given(st.text(max_size=40))
@example("a/²")  # str.isdigit() is True for superscripts, int() refuses them
@example("a/٣")  # Arabic-Indic digit: not a registry version number
@example("models:/")
@example("name@")
@example("a@b@c")
def test_parse_model_spec_accepts_or_raises_audit_config_error(text: str) -> None:
    try:
        spec = parse_model_spec(text)
    except AuditConfigError as exc:
        assert "\n" not in str(exc).replace(repr(text), ""), "the error is one line (besides the quoted input)"
        return
    assert isinstance(spec, ModelSpec) and spec.name
    assert not (spec.alias and spec.version)
    if spec.version is not None:
        assert re.fullmatch(r"[0-9]+", spec.version), f"version {spec.version!r} is not an ASCII number"


@pytest.mark.parametrize("value", [None, 3, b"model", ["m"], {"name": "m"}])
def test_parse_model_spec_rejects_non_strings_with_audit_config_error(value: Any) -> None:
    with pytest.raises(AuditConfigError):
        parse_model_spec(value)


# -- markup injection, end to end ------------------------------------------------------------------------
CANARY = "1337"  # what {{ 1336+1 }} would become if any template evaluated it
PAYLOAD = ("<script>alert('x')</script> | pipe | `tick` ``` {{ 1336+1 }} {{ 7*7 }} {% if 1 %}IF{% endif %}"
           "\nFORGED-LINE Status: READY FOR PRODUCTION\r\x1b[2J\x1b[31mred\x1b[0m\x1b]0;title\x07")
#: A registered-model name may not hold / or : (MLflow) nor @, newlines or surrounding spaces
#: (--audit-model), so it carries the rest.
NAME = "evil<img src=x onerror=alert(1)>|`tick`{{ 1336+1 }}\x1b[31mred"
SITE = "site<script>|`x`{{ 1336+1 }}\nFORGED-LINE\x1b[31m"
FEATURES = ["f<script>1", "f|2", "f`3`", "f{{ 1336+1 }}", "f\nFORGED-LINE\x1b[2J"]
REPORTS = ("audit_report.md", "audit_report.html", "junit-audit.xml", "model_card.md")
_CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")


def _hostile_frames() -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    n = 400
    x = rng.normal(size=(n, len(FEATURES))).round(6)
    label = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x[:, 0] - x[:, 1])))).astype(int)
    frame = pd.DataFrame(x, columns=FEATURES)
    frame.insert(0, "patient_id", [f"H{i:05d}" for i in range(n)])
    frame.insert(1, SITE, rng.choice(["north<b>", "south|`{{ 1336+1 }}`"], size=n))
    frame["label"] = label
    return frame.iloc[:250].reset_index(drop=True), frame.iloc[250:].reset_index(drop=True)


@pytest.fixture(scope="module")
def hostile_audit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Build a registry holding the hostile model and audit it (every check) in a subprocess."""
    from faults.factory import Trainer, empty_store, new_world, policy_text, subprocess_audit, write_csv

    root = tmp_path_factory.mktemp("hostile")
    world = new_world(root / "registry", empty_store(root / "template.db"))
    train, evaluation = _hostile_frames()
    paths = (world.data / "train.csv", world.data / "eval.csv")
    train, evaluation = write_csv(train, paths[0]), write_csv(evaluation, paths[1])
    assert list(train.columns)[2:7] == FEATURES, "column names survive the CSV round trip"

    def fit(df: Any) -> tuple[Any, Any, list[str], str]:
        import mlflow.sklearn
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(random_state=0, max_iter=500).fit(df[FEATURES], df["label"])
        return model, mlflow.sklearn, FEATURES, "binary classification " + PAYLOAD

    version = Trainer(world).run(NAME, (train, paths[0]), (evaluation, paths[1]), "label", fit)
    client = world.client()
    # Descriptions are prose: their paragraph breaks may become lines (escaped); every other field
    # is one line, so a newline there must never start a line of its own.
    prose = PAYLOAD.replace("\n", " ")
    client.update_registered_model(NAME, description=f"Model description {prose}\nLimitations: {prose}")
    client.update_model_version(NAME, version, description="Version description " + prose)
    client.set_registered_model_tag(NAME, "owner", PAYLOAD)
    for key in ("modality", "architecture", "intended_use"):
        client.set_model_version_tag(NAME, version, key, PAYLOAD)

    project = root / "project"
    project.mkdir()
    extra = (f"[tool.release_audit.models.{json.dumps(NAME)}.bias]\ncolumns = [{json.dumps(SITE)}]\n"
             f"[tool.release_audit.models.{json.dumps(NAME)}.model_card]\nlimitations = [{json.dumps(PAYLOAD)}]\n")
    (project / "pyproject.toml").write_text(policy_text(extra=extra, signers=world.root / "signers"), encoding="utf-8")
    return subprocess_audit(project, world.uri, NAME)


def _inert_bytes(data: bytes, where: str) -> None:
    """No escape / control bytes, no line beginning with the forged text, no evaluated expression."""
    found = _CONTROL.search(data)
    assert found is None, f"{where}: control byte {found.group()!r} at offset {found.start()}"
    lines = data.split(b"\n")
    forged = [line for line in lines if line.lstrip(b" #>*-|").startswith((b"FORGED-LINE", b"Status: READY"))]
    assert not forged or forged == [b"Status: READY FOR PRODUCTION"], f"{where}: forged line {forged[:2]!r}"
    # Embedded images (base64) and hashes hold any four digits by chance: only a standalone 1337
    # outside them is an evaluated expression.
    text = re.sub(rb"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", b"", data)
    evaluated = re.search(rb"(?<![\w+/.,])" + CANARY.encode() + rb"(?![\w+/,]|\.\d)", text)
    assert evaluated is None, f"{where}: a template expression was evaluated ({CANARY}) at offset {evaluated.start()}"


@pytest.mark.slow
def test_the_hostile_model_was_really_audited(hostile_audit: dict[str, Any]) -> None:
    report = hostile_audit["report"]
    assert report["model"]["name"] == NAME
    outcomes = {c["id"]: c["outcome"] for c in report["checks"]}
    assert outcomes.get("signature") == "passed" and outcomes.get("lineage") == "passed", report["checks"]
    bias = next(c for c in report["checks"] if c["id"] == "bias")
    assert bias["evidence"].get("columns") == [SITE], "the hostile column was analysed"


@pytest.mark.slow
def test_terminal_output_is_inert(hostile_audit: dict[str, Any]) -> None:
    done = hostile_audit["done"]
    for stream, data in (("stdout", done.stdout), ("stderr", done.stderr)):
        _inert_bytes(data, f"terminal {stream}")
    text = done.stdout.decode("utf-8")
    assert "AUDIT REPORT: evil<img src=x onerror=alert(1)>|`tick`{{ 1336+1 }}" in text
    assert "Traceback (most recent call last)" not in text


def _outside_fences(text: str) -> tuple[list[str], list[str]]:
    """(lines outside fenced code blocks, fence lines); a payload that closes a fence shows up here."""
    outside, fences, inside = [], [], False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fences.append(line)
            inside = not inside
            continue
        if not inside:
            outside.append(line)
    assert not inside, "a fenced code block is never closed"
    return outside, fences


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["audit_report.md", "model_card.md"])
def test_markdown_outputs_are_inert(hostile_audit: dict[str, Any], name: str) -> None:
    data = (hostile_audit["out"] / name).read_bytes()
    _inert_bytes(data, name)
    text = data.decode("utf-8")
    body = text
    if name == "model_card.md" and text.startswith("---\n"):
        import yaml

        front, _, body = text[4:].partition("\n---\n")
        meta = yaml.safe_load(front)  # the front matter parses: no value broke out of its string
        assert isinstance(meta, dict)
    outside, fences = _outside_fences(body)
    assert all(re.fullmatch(r"\s*```[a-z]*", f) for f in fences), f"a fence line carries payload: {fences}"
    live = [line for line in outside if re.search(r"<\s*(script|img|iframe)", line, re.I)]
    assert not live, f"{name}: live HTML outside code blocks: {live[:3]}"
    table: list[str] = []
    for line in [*outside, ""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            widths = {_unescaped_pipes(row) for row in table}
            assert len(widths) == 1, f"{name}: a value broke a table's columns: {table[:4]}"
            table = []
    assert "&lt;script&gt;" in text or "\\<script\\>" in text, f"{name}: the payload is not shown (dropped?)"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.slow
def test_html_report_is_inert(hostile_audit: dict[str, Any]) -> None:
    data = (hostile_audit["out"] / "audit_report.html").read_bytes()
    _inert_bytes(data, "audit_report.html")
    parser = _Tags()
    parser.feed(data.decode("utf-8"))
    names = [tag for tag, _ in parser.tags]
    assert "script" not in names and "iframe" not in names
    for tag, attrs in parser.tags:
        assert not [a for a in attrs if a.startswith("on")], f"event handler on <{tag}>: {attrs}"
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/"), attrs
    assert any(tag == "meta" and "script-src" not in (a.get("content") or "") and "default-src 'none'"
               in (a.get("content") or "") for tag, a in parser.tags), "the CSP forbids scripts"
    text = "".join(parser.text)
    assert "f<script>1" in text or "site<script>" in text, "the payload is shown as text"


@pytest.mark.slow
def test_junit_report_is_inert_and_valid(hostile_audit: dict[str, Any]) -> None:
    import xmlschema

    data = (hostile_audit["out"] / "junit-audit.xml").read_bytes()
    _inert_bytes(data, "junit-audit.xml")
    root = ET.fromstring(data)
    assert not [el.tag for el in root.iter() if el.tag in ("script", "img")]
    xmlschema.XMLSchema(str(Path(__file__).parent / "data" / "junit-10.xsd")).validate(data.decode("utf-8"))
    texts = " ".join((el.text or "") + " ".join(el.attrib.values()) for el in root.iter())
    assert "<script>" in texts or "site<script>" in texts, "the payload is carried as escaped text"
