# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""Rendering the card: the sandboxed jinja2 environment whose ``finalize`` escapes every value.

Everything in the context is *data*: ``finalize`` escapes every ``{{ value }}`` for Markdown tables
and HTML (``|``, ``<``, ``>``, ``&``, backticks, braces, emphasis characters, newlines), so a model
description containing ``|``, ``<script>`` or ``{{ 7*7 }}`` can neither break a table, inject
markup nor be evaluated by this or any later template engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_release_audit.errors import AuditConfigError
from pytest_release_audit.files import write_atomic
from pytest_release_audit.report.model_card.common import DEFAULT_TEMPLATE, TEMPLATES_DIR
from pytest_release_audit.report.model_card.front_matter import front_matter_yaml
from pytest_release_audit.report.text import escape_md


class Raw(str):
    """Text this module built as markup (the YAML front matter): passed through unescaped.

    Never wrap user or registry data in ``Raw``; it is only for output of this module.
    """


def _finalize(value: Any) -> Any:
    """jinja2 ``finalize``: every ``{{ expression }}`` passes through here before output."""
    if isinstance(value, Raw):
        return value
    if hasattr(value, "__html__"):  # markupsafe.Markup from a custom template's ``|safe``
        return value
    return escape_md(value)



def _paragraphs(value: Any) -> list[str]:
    """Split free text into paragraphs on blank lines (each is escaped when output)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [p for p in re.split(r"\n\s*\n", str(value)) if p.strip()]


def _environment(template_dir: Path | None) -> Any:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    loaders: list[Any] = []
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    # The built-in template stays reachable, so a custom one can {% extends "model_card.md.j2" %}.
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATES_DIR)))
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # HTML autoescaping is the wrong escaping for Markdown: _finalize does it
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["paragraphs"] = _paragraphs
    env.tests["itemlist"] = lambda v: isinstance(v, list | tuple)
    return env


def _mapping(item: Any) -> Mapping[str, Any]:
    return item if isinstance(item, Mapping) else {}


def render_model_card(
    context: Mapping[str, Any],
    template_path: str | Path | None = None,
    *,
    base_dir: str | Path | None = None,
) -> str:
    """Render the card's Markdown (with YAML front matter) from ``build_context``'s context.

    ``template_path`` (policy ``model_card.template``) replaces the built-in template; a relative
    path is resolved against ``base_dir`` (the rootdir; default the working directory). Raises
    ``AuditConfigError`` when the template is missing or does not render.
    """
    import jinja2

    template_dir: Path | None = None
    template_name = DEFAULT_TEMPLATE
    if template_path:
        path = Path(template_path)
        if not path.is_absolute():
            path = Path(base_dir or Path.cwd()) / path
        if not path.is_file():
            raise AuditConfigError(
                f"model card template {path} does not exist: fix model_card.template in the policy"
            )
        template_dir, template_name = path.parent, path.name
    env = _environment(template_dir)
    variables = dict(context)
    variables.setdefault("extra_sections", [])
    variables["front_matter"] = Raw(front_matter_yaml(_mapping(context.get("metadata"))))
    try:
        text = env.get_template(template_name).render(variables)
    except jinja2.TemplateError as exc:
        where = template_path or DEFAULT_TEMPLATE
        message = " ".join(str(exc).split()) or exc.__class__.__name__
        raise AuditConfigError(
            f"model card template {where} does not render ({exc.__class__.__name__}: {message}): "
            "fix the template"
        ) from None
    # Collapse the blank-line runs optional blocks leave behind (Markdown ignores them anyway).
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text if text.endswith("\n") else text + "\n"


def write_card(markdown: str, path: str | Path) -> Path:
    """Write the card as UTF-8 (creating parent directories, in one rename) and return its path."""
    write_atomic(path, markdown)
    return Path(path)
