# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The card's YAML front matter (Hugging Face model card metadata) and how it is read back.

Written by ``yaml.safe_dump`` (a dumper that double-quotes every string). PyYAML escapes only what
YAML cannot hold; a registry value must also keep no markup or template syntax in the card's bytes
while the Hub reads it back exactly, so inside each quoted string ``< > & { } ` | [ ]`` become
``\\xNN`` escapes, which every YAML reader decodes to the same characters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import yaml

from pytest_release_audit.report.model_card.common import NOT_RECORDED, text_of

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle

_PLAIN_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
# Plain words YAML 1.1 reads as booleans or null: such keys stay quoted.
_YAML_WORDS = frozenset("y n yes no true false on off null".split())
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_MARKUP = re.compile(r"[<>&{}`|\[\]]")


class _CardDumper(yaml.SafeDumper):
    """``yaml.SafeDumper`` writing every string double-quoted, except keys that are plain names."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')

    def represent_mapping(self, tag: str, mapping: Any, flow_style: Any = None) -> yaml.MappingNode:
        node = super().represent_mapping(tag, mapping, flow_style)
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and _PLAIN_KEY.fullmatch(key.value) \
                    and key.value.lower() not in _YAML_WORDS:  # fmt: skip
                key.style = None
        return node

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Lists indented under their key, as Hugging Face model cards write them."""
        super().increase_indent(flow, False)


_CardDumper.add_representer(str, _CardDumper.represent_str)


def _inert(quoted: re.Match[str]) -> str:
    """One double-quoted YAML string with markup and template characters as ``\\xNN`` escapes."""
    return _MARKUP.sub(lambda m: f"\\x{ord(m.group()):02x}", quoted.group())


def front_matter_yaml(metadata: Mapping[str, Any]) -> str:
    """The YAML between the card's ``---`` lines (no delimiters), safe for any string values."""
    if not metadata:
        return "{}"
    text = yaml.dump(dict(metadata), Dumper=_CardDumper, sort_keys=False, allow_unicode=True,
                     width=float("inf"), default_flow_style=False)  # fmt: skip
    return _QUOTED.sub(_inert, text).rstrip("\n")


def split_front_matter(markdown: str) -> tuple[str, str]:
    """(front matter YAML without delimiters, body); ("", markdown) when there is none."""
    if markdown.startswith("---\n"):
        end = markdown.find("\n---\n", 3)
        if end != -1:
            return markdown[4:end], markdown[end + 5 :]
    return "", markdown



_HF_LICENSES = frozenset(
    "apache-2.0 mit bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear isc cc0-1.0 cc-by-2.0 cc-by-2.5 "
    "cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 "
    "cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 agpl-3.0 gpl gpl-2.0 "
    "gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 mpl-2.0 epl-1.0 epl-2.0 eupl-1.1 eupl-1.2 bsl-1.0 afl-3.0 "
    "artistic-2.0 unlicense zlib odbl odc-by pddl openrail unknown other".split()
)
_TASK_TYPES = {
    "binary": "tabular-classification",
    "regression": "tabular-regression",
    "survival": "survival-analysis",
}


def _license_metadata(policy: Mapping[str, Any], handle: ModelHandle | None) -> dict[str, str]:
    """Hugging Face ``license`` (a Hub id, else ``other`` with a ``license_name``)."""
    raw = text_of(policy.get("license")) or (text_of(handle.tag("license")) if handle is not None else "")
    if not raw:
        return {"license": "unknown"}
    lowered = raw.lower()
    if lowered in _HF_LICENSES:
        return {"license": lowered}
    slug = re.sub(r"[^a-z0-9.]+", "-", lowered.removeprefix("licenseref-")).strip("-") or "custom"
    return {"license": "other", "license_name": slug}


def metadata(
    model_name: str,
    overview: list[dict],
    performance: dict[str, Any],
    training: dict[str, Any],
    verdict: str,
    policy: Mapping[str, Any],
    handle: ModelHandle | None,
) -> dict[str, Any]:
    meta: dict[str, Any] = dict(_license_metadata(policy, handle))
    tags = ["pytest-release-audit", "model-card", f"audit-{verdict.lower()}"]
    meta["tags"] = tags
    if performance["metrics"]:
        task_display = next((r["value"] for r in overview if r["field"] == "Task"), NOT_RECORDED)
        task_kind = performance["task"]
        eval_name = NOT_RECORDED
        if handle is not None and handle.run is not None and handle.run.evaluation_inputs:
            eval_name = handle.run.evaluation_inputs[0].name
        task: dict[str, Any] = {"type": _TASK_TYPES.get(task_kind, task_kind or "other")}
        if task_display != NOT_RECORDED:
            task["name"] = task_display
        meta["model-index"] = [
            {
                "name": model_name,
                "results": [
                    {
                        "task": task,
                        "dataset": {"type": eval_name, "name": eval_name, "split": "evaluation"},
                        "metrics": [dict(m) for m in performance["metrics"]],
                    }
                ],
            }
        ]
    return meta

