# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The model's files: scanned before anything loads them, and signatures verified when required."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

# Imported before pytester snapshots sys.modules: re-imported per test, cryptography's Rust
# bindings no longer recognise their own curve classes ("curve must be an EllipticCurve instance").
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from model_signing import hashing, signing

from .conftest import Attack

pytestmark = pytest.mark.slow


class _Pwn:
    """Unpickling this runs ``os.system`` (what a hostile model.pkl does)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: D105
        import os

        return (os.system, (f"touch {self.marker}",))


def _register_local_model(registry: Path, name: str, model_dir: Path) -> None:
    """Register the saved MLflow model directory ``model_dir`` as a new version of ``name``."""
    import mlflow
    from mlflow import MlflowClient

    from pytest_release_audit.handle.resolve import using_store

    uri = f"sqlite:///{registry / 'mlflow.db'}"
    with using_store(uri):
        client = MlflowClient(uri, uri)
        source = client.get_model_version_by_alias("cl_unimodal_v2_dirty", "candidate")
        client.log_artifacts(source.run_id, str(model_dir), artifact_path=name)
        version = mlflow.register_model(f"runs:/{source.run_id}/{name}", name).version
        client.set_registered_model_alias(name, "candidate", version)


def _sklearn_dir(tmp: Path) -> Path:
    import mlflow.sklearn
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0, 0, 1, 1]))
    path = tmp / "model"
    mlflow.sklearn.save_model(model, str(path), serialization_format="pickle")
    return path


def test_a_model_pickle_that_runs_a_command_is_never_loaded(evil: Attack, evil_registry: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    model_dir = _sklearn_dir(tmp_path)
    (model_dir / "model.pkl").write_bytes(pickle.dumps(_Pwn(marker)))
    _register_local_model(evil_registry, "cl_unimodal_pickle_bomb", model_dir)
    result = evil.run("cl_unimodal_pickle_bomb", "--audit-checks=model_artifact,performance_gate")
    assert result.ret != 0
    checks = {c["id"]: c for c in evil.report()["checks"]}
    assert checks["model_artifact"]["outcome"] == "failed"
    assert "CRITICAL posix.system in model.pkl" in checks["model_artifact"]["summary"]
    assert "was not loaded" in checks["performance_gate"]["summary"]
    assert not marker.exists(), "the hostile pickle ran"


def _keys(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = tmp / "signer.pem"
    public = tmp / "signer.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def _sign(model_dir: Path, private: Path) -> None:
    config = signing.Config().use_elliptic_key_signer(private_key=private)
    config.set_hashing_config(hashing.Config().set_ignored_paths(paths=["model.sig"]))
    config.sign(model_dir, model_dir / "model.sig")


@pytest.mark.parametrize("case", ["signed", "tampered", "unsigned", "other-key"])
def test_signed_models_are_verified_offline_when_the_policy_requires_them(
        evil: Attack, evil_registry: Path, tmp_path: Path, case: str) -> None:
    private, public = _keys(tmp_path)
    model_dir = _sklearn_dir(tmp_path)
    signer = private
    if case == "other-key":
        (tmp_path / "other").mkdir()
        signer = _keys(tmp_path / "other")[0]
    if case != "unsigned":
        _sign(model_dir, signer)
    if case == "tampered":
        shutil.copy(model_dir / "MLmodel", model_dir / "MLmodel.bak")
        (model_dir / "MLmodel").write_text((model_dir / "MLmodel.bak").read_text() + "\n# edited\n")
        (model_dir / "MLmodel.bak").unlink()
    name = f"cl_unimodal_signed_{case.replace('-', '_')}"
    _register_local_model(evil_registry, name, model_dir)
    evil.write("pyproject.toml", evil.policy + (
        f'\n[tool.release_audit.model_artifact]\nrequire_signature = true\npublic_key = "{public}"\n'))
    evil.run(name, "--audit-checks=model_artifact")
    check = {c["id"]: c for c in evil.report()["checks"]}["model_artifact"]
    if case == "signed":
        assert check["outcome"] == "passed", check["summary"]
        assert "signatures verified" in check["summary"]
    else:
        assert check["outcome"] == "failed", check["summary"]
        expected = "no model.sig" if case == "unsigned" else "signature does not verify"
        assert expected in check["summary"], check["summary"]
