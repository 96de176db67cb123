# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The card's YAML front matter (Hugging Face model card metadata) and how it is read back.

PyYAML cannot be told to escape ``<``, ``{`` or backticks inside a string, and the card must carry
a registry value exactly (the Hub reads it back) while no markup or template syntax ever appears in
its bytes; so the emitter here double-quotes every string and writes those characters, and
everything outside printable text, as ``\\x`` / ``\\u`` escapes PyYAML reads back unchanged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_release_audit.report.model_card.common import NOT_RECORDED, text_of

if TYPE_CHECKING:  # pragma: no cover
    from pytest_release_audit.handle.model import ModelHandle

# YAML: every string double-quoted; anything outside printable text, plus characters that are
# markup or template syntax elsewhere, as \x / \u escapes (PyYAML and the Hub read them back).
_YAML_ESCAPE_ASCII = set('"\\<>&{}`|[]')
_YAML_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def _yaml_printable(cp: int) -> bool:
    if cp in (0x2028, 0x2029, 0xFEFF):  # YAML 1.1 line/paragraph separators; BOM
        return False
    return 0x20 <= cp <= 0x7E or 0xA0 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF


def yaml_scalar(value: Any) -> str:
    """One YAML 1.1 scalar (PyYAML-compatible): null, bool, int, float or a double-quoted string."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        # YAML 1.1 floats need a dot and a signed exponent: 1e-05 would load as a string.
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    out = ['"']
    for ch in str(value):
        cp = ord(ch)
        if ch in _YAML_ESCAPE_ASCII or not _yaml_printable(cp):
            if cp <= 0xFF:
                out.append(f"\\x{cp:02x}")
            elif cp <= 0xFFFF:
                out.append(f"\\u{cp:04x}")
            else:
                out.append(f"\\U{cp:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


# Plain words YAML 1.1 reads as booleans or null: such keys are quoted.
_YAML_WORDS = frozenset("y n yes no true false on off null".split())


def _yaml_key(key: Any) -> str:
    key = str(key)
    if _YAML_KEY.fullmatch(key) and key.lower() not in _YAML_WORDS:
        return key
    return yaml_scalar(key)


def _yaml_block(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            head = f"{pad}{_yaml_key(key)}:"
            if isinstance(item, Mapping | list | tuple) and item:
                lines.append(head)
                lines.extend(_yaml_block(item, indent + 2))
            elif isinstance(item, Mapping):
                lines.append(f"{head} {{}}")
            elif isinstance(item, list | tuple):
                lines.append(f"{head} []")
            else:
                lines.append(f"{head} {yaml_scalar(item)}")
        return lines
    if isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, Mapping | list | tuple) and item:
                nested = _yaml_block(item, indent + 2)
                # "- " takes the place of the first nested line's indentation.
                lines.append(f"{pad}- {nested[0][indent + 2 :]}")
                lines.extend(nested[1:])
            elif isinstance(item, Mapping):
                lines.append(f"{pad}- {{}}")
            elif isinstance(item, list | tuple):
                lines.append(f"{pad}- []")
            else:
                lines.append(f"{pad}- {yaml_scalar(item)}")
        return lines
    return [f"{pad}{yaml_scalar(value)}"]


def front_matter_yaml(metadata: Mapping[str, Any]) -> str:
    """The YAML between the card's ``---`` lines (no delimiters), safe for any string values."""
    if not metadata:
        return "{}"
    return "\n".join(_yaml_block(dict(metadata), 0))



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

