# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The second line of defence: is the audit's own code still the code that was installed?

The built-in checks run where no project code runs (``suite``), but the verdict is computed in
the user's pytest session, where a project ``conftest.py`` or plugin runs too. Before the verdict,
``modified_code()`` compiles every loaded module of this package from its installed source file
and compares each function and method that is live in memory (module attributes, class
attributes, the functions other modules imported) with the compiled one: code object, globals,
file. A lambda assigned over ``build.blocking_ids``, a replaced ``__code__``, a method swapped on
``AuditReporter`` or a function imported into a module and replaced there is named; the audit is
then BLOCKED with "audit code was modified during the run (...)".

``fingerprint()`` is what every report and trail record carries about the auditing code: the
plugin version, the sha256 of its installed files (checked against the wheel's RECORD when the
package was installed from one), and the conftest files and third-party plugins of the session.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import inspect
import sys
import types
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_release_audit.files import sha256_file

if TYPE_CHECKING:  # pragma: no cover
    import pytest

PACKAGE = "pytest_release_audit"
PACKAGE_DIR = Path(__file__).resolve().parent
#: Pure-Python standard library functions the reports and the trail are written with.
_STDLIB = (("json", "dumps"), ("json", "loads"), ("json", "dump"), ("json.encoder", "JSONEncoder.encode"),
           ("json.encoder", "JSONEncoder.iterencode"))


#: The pytest config whose assertion rewriting settings the comparison reproduces.
_CONFIG: dict[str, Any] = {}


class _Source:
    """One module's source compiled afresh: its functions by qualified name and its imports.

    pytest rewrites the ``assert`` statements of plugin modules as it imports them; a module that
    was loaded that way is compiled here with the same rewriting, so genuine code compares equal.
    """

    def __init__(self, path: Path, rewritten: bool = False) -> None:
        data = _EARLY.get("bytes", {}).get(str(path)) or path.read_bytes()
        self.tree = ast.parse(data, filename=str(path))
        if rewritten:
            from _pytest.assertion.rewrite import rewrite_asserts

            compiled_tree = ast.parse(data, filename=str(path))
            rewrite_asserts(compiled_tree, data, str(path), _CONFIG.get("config"))
        else:
            compiled_tree = self.tree
        code = compile(compiled_tree, str(path), "exec", dont_inherit=True)
        self.functions: dict[str, types.CodeType] = {}
        self._collect(code)

    def _collect(self, code: types.CodeType) -> None:
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                self.functions.setdefault(const.co_qualname, const)
                self._collect(const)

    @cached_property
    def imported(self) -> dict[str, tuple[str, str]]:
        """Top-level ``from MODULE import NAME [as ALIAS]``: alias -> (module, name)."""
        out: dict[str, tuple[str, str]] = {}
        for node in self.tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    out[alias.asname or alias.name] = (node.module, alias.name)
        return out

    @cached_property
    def classes(self) -> set[str]:
        return {n.name for n in self.tree.body if isinstance(n, ast.ClassDef)}


_SOURCES: dict[tuple[str, bool], _Source | None] = {}


def _is_rewritten(module: types.ModuleType | None) -> bool:
    loader = getattr(getattr(module, "__spec__", None), "loader", None)
    return type(loader).__name__ == "AssertionRewritingHook"


def _source(path: str | None, rewritten: bool = False) -> _Source | None:
    if not path:
        return None
    key = (str(Path(path).resolve()), rewritten)
    if key not in _SOURCES:
        try:
            _SOURCES[key] = _Source(Path(key[0]), rewritten)
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            _SOURCES[key] = None
    return _SOURCES[key]


def _unwrap(value: Any) -> Any:
    if not isinstance(value, type) and hasattr(value, "__wrapped__"):  # functools.lru_cache / wraps
        try:
            value = inspect.unwrap(value)
        except ValueError:  # a cycle of __wrapped__: judged as it is
            return value
    for attr in ("__func__", "fget", "func"):
        inner = getattr(value, attr, None)
        if isinstance(inner, types.FunctionType):
            value = inner
    wrapped = getattr(value, "_get_wrapped_function", None)  # pytest's FixtureFunctionDefinition
    if callable(wrapped) and not isinstance(value, types.FunctionType):
        try:
            value = wrapped()
        except Exception:  # noqa: BLE001 - an object that only looks like a fixture: judged as it is
            return value
    return inspect.unwrap(value) if isinstance(value, types.FunctionType) else value


def _same(fn: types.FunctionType, expected: types.CodeType, module: types.ModuleType) -> bool:
    return fn.__code__ == expected and fn.__globals__ is vars(module)


def _check_function(where: str, fn: types.FunctionType, qualname: str, module: types.ModuleType,
                    src: _Source, problems: list[str]) -> None:
    expected = src.functions.get(qualname)
    if expected is None:
        return
    if not _same(fn, expected, module):
        problems.append(where)


def _check_module(module: types.ModuleType, problems: list[str]) -> None:
    src = _source(getattr(module, "__file__", None), _is_rewritten(module))
    if src is None:
        return
    name = module.__name__
    for attr, value in list(vars(module).items()):
        where = f"{name}.{attr}"
        fn = _unwrap(value)
        if attr in src.imported:
            _check_import(where, value, src.imported[attr], problems)
        elif attr in src.classes:
            if not isinstance(value, type):
                problems.append(where)
                continue
            _check_class(name, value, module, src, problems)
        elif attr in src.functions and isinstance(fn, types.FunctionType):
            _check_function(where, fn, attr, module, src, problems)
        elif attr in src.functions and not isinstance(value, (types.FunctionType, type)) and fn is value:
            if not callable(value) or not hasattr(value, "_get_wrapped_function"):
                problems.append(where)  # a def replaced by some other object


def _check_class(module_name: str, cls: type, module: types.ModuleType, src: _Source, problems: list[str]) -> None:
    prefix = f"{cls.__name__}."
    seen = set()
    for attr, value in list(vars(cls).items()):
        fn = _unwrap(value)
        qualname = prefix + attr
        if isinstance(fn, types.FunctionType) and qualname in src.functions:
            seen.add(qualname)
            if not _same(fn, src.functions[qualname], module):
                problems.append(f"{module_name}.{qualname}")
        elif qualname in src.functions and not isinstance(fn, types.FunctionType):
            problems.append(f"{module_name}.{qualname}")
    for qualname in src.functions:
        if qualname.startswith(prefix) and "." not in qualname[len(prefix):] and qualname not in seen:
            if qualname[len(prefix):] not in vars(cls) and not qualname.endswith(">"):
                problems.append(f"{module_name}.{qualname} (removed)")


def _check_import(where: str, value: Any, origin: tuple[str, str], problems: list[str]) -> None:
    module_name, attr = origin
    source_module = sys.modules.get(module_name)
    if source_module is None:
        return
    if module_name.startswith(PACKAGE) or module_name == "json":
        expected = getattr(source_module, attr, None)
        if expected is not None and expected is not value:
            problems.append(where)


_EARLY: dict[str, Any] = {}


def take_baseline(config: pytest.Config) -> None:
    """Compile every module of the package and digest its files now, before conftest files load.

    Called from ``pytest_load_initial_conftests`` when an audit is requested: a conftest that then
    rewrites the installed files cannot make the comparison use its own source.
    """
    _CONFIG["config"] = config
    if _EARLY:
        return
    _EARLY["installed"] = installed_files()
    # The source as installed now; compiled only when the verdict is computed.
    _EARLY["bytes"] = {str(p.resolve()): p.read_bytes() for p in PACKAGE_DIR.rglob("*.py")}
    for module_name, _qualname in _STDLIB:
        module = sys.modules.get(module_name)
        if module is not None:
            _source(getattr(module, "__file__", None))


def modified_code() -> list[str]:
    """Every live function or method of this package that differs from its installed source."""
    problems: list[str] = []
    if _EARLY and installed_files()["sha256"] != _EARLY["installed"]["sha256"]:
        problems.append("the plugin's installed files (changed on disk during the run)")
    for name, module in sorted(sys.modules.items()):
        if module is None or not (name == PACKAGE or name.startswith(PACKAGE + ".")):
            continue
        _check_module(module, problems)
    for module_name, qualname in _STDLIB:
        stdlib = sys.modules.get(module_name)
        if stdlib is None:
            continue
        obj: Any = stdlib
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        src = _source(getattr(stdlib, "__file__", None))
        fn = _unwrap(obj)
        if src is not None and isinstance(fn, types.FunctionType):
            _check_function(f"{module_name}.{qualname}", fn, qualname, stdlib, src, problems)
        elif src is not None:
            problems.append(f"{module_name}.{qualname}")
    return sorted(set(problems))


def _record_hashes() -> dict[str, str] | None:
    """sha256 of each file of this package as pip recorded it (None for an editable install)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("pytest-release-audit")
    except PackageNotFoundError:
        return None
    out: dict[str, str] = {}
    for file in dist.files or ():
        if not str(file).startswith(PACKAGE + "/") or not file.hash or file.hash.mode != "sha256":
            continue
        raw = base64.urlsafe_b64decode(file.hash.value + "=" * (-len(file.hash.value) % 4))
        out[str(file)[len(PACKAGE) + 1:]] = raw.hex()
    return out or None


def installed_files() -> dict[str, Any]:
    """The sha256 over every installed file of the plugin, and any file that differs from RECORD."""
    combined = hashlib.sha256()
    count = 0
    sums: dict[str, str] = {}
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(PACKAGE_DIR).as_posix()
        digest = sha256_file(path)
        sums[rel] = digest
        combined.update(f"{rel}\0{digest}\n".encode())
        count += 1
    recorded = _record_hashes()
    changed = None if recorded is None else sorted(r for r, d in sums.items() if r in recorded and recorded[r] != d)
    return {"files": count, "sha256": combined.hexdigest(), "changed_since_install": changed,
            "install": "wheel RECORD" if recorded is not None else "editable or source tree (no RECORD to compare)"}


def session_plugins(config: pytest.Config) -> dict[str, list[str]]:
    """The conftest files and third-party plugins the user's session loaded."""
    conftests: list[str] = []
    plugins: list[str] = []
    root = Path(config.rootpath)
    for _name, plugin in config.pluginmanager.list_name_plugin():
        file = getattr(plugin, "__file__", None)
        if not file:
            continue
        path = Path(file)
        if path.name == "conftest.py":
            try:
                conftests.append(path.resolve().relative_to(root.resolve()).as_posix())
            except ValueError:
                conftests.append(str(path))
    for _plugin, dist in config.pluginmanager.list_plugin_distinfo():
        label = f"{dist.project_name} {dist.version}"
        if label not in plugins and dist.project_name != "pytest-release-audit":
            plugins.append(label)
    return {"conftest_files": sorted(conftests), "plugins": sorted(plugins)}


def fingerprint(config: pytest.Config | None, tool_version: str) -> dict[str, Any]:
    """What a report and a trail record say about the code that produced them."""
    out: dict[str, Any] = {"plugin_version": tool_version, "installed_files": installed_files()}
    if config is not None:
        out.update(session_plugins(config))
    return out
