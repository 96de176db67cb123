# SPDX-FileCopyrightText: 2026 pytest-release-audit contributors
# SPDX-License-Identifier: Apache-2.0
"""The evidence bundle (build, verify, reproduce, tamper, hostile archives) and retention refusals."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import tarfile
from pathlib import Path

import pytest

from pytest_release_audit import files as files_module
from pytest_release_audit.bundle import bundle_retain_until, member_problem, verify_bundle, write_archive
from pytest_release_audit.cli import main
from pytest_release_audit.errors import PolicyError
from pytest_release_audit.policy.core import settings_from
from pytest_release_audit.retention import retention_block
from pytest_release_audit.trail import append_record, verify_trail


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def make_key(directory: Path, name: str = "bundle-key") -> tuple[Path, Path]:
    """An Ed25519 key pair as PEM files (private PKCS#8, public SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private, public = directory / f"{name}.pem", directory / f"{name}.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def rewrite_tar(src: Path, dest: Path, change: dict[str, bytes] | None = None,
                extra: list[tarfile.TarInfo] | None = None) -> None:
    """Copy the archive ``src`` to ``dest`` with some members' content replaced and members added."""
    change = change or {}
    with tarfile.open(src, "r:gz") as tar, tarfile.open(dest, "w:gz") as out:
        for member in tar.getmembers():
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            data = change.get(member.name, data)
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
        for info in extra or []:
            out.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)


def flip_one_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]


# -- the demo candidate, end to end --------------------------------------------------------------
@pytest.mark.slow
def test_bundle_of_the_demo_candidate_verifies_reproduces_and_names_a_tampered_file(audit, capsys, tmp_path):
    result = audit.run("cl_unimodal_v2")
    assert result.ret == 0 and audit.report()["status"] == "READY"
    private, public = make_key(tmp_path)
    _other_private, other_public = make_key(tmp_path, "other")
    bundle = tmp_path / "evidence.tar.gz"

    code, out, err = run(capsys, "bundle", "cl_unimodal_v2/1", "--out", str(bundle), "--key", str(private),
                         "--tracking-uri", audit.uri)
    assert code == 0, err
    assert "READY" in out and "retain until" in out

    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        assert all(m.mtime == tar.getmembers()[0].mtime and m.uid == 0 and m.gid == 0 and m.mode == 0o644
                   for m in tar.getmembers())
        manifest = json.loads(tar.extractfile("MANIFEST.json").read())  # type: ignore[union-attr]
        envelope = json.loads(tar.extractfile("attestation.dsse.json").read())  # type: ignore[union-attr]
        run_log = tar.extractfile("run/run.json").read().decode()  # type: ignore[union-attr]
    assert names == sorted(names)
    for expected in ("model/MLmodel", "model/python_model.pkl", "code/train_survival.py", "run/run.json",
                     "datasets/datasets.json", "reports/audit_report.json", "reports/audit_report.md",
                     "reports/audit_report.html", "reports/junit-audit.xml", "reports/model_card.md",
                     "reports/security.sarif", "reports/bias_forest.png", "approvals/approvals.json",
                     "trail/records.jsonl", "signing-key.pub.pem", "fairness/bias.json"):
        assert expected in names
    assert {e["path"] for e in manifest["files"]} == set(names) - {"MANIFEST.json", "attestation.dsse.json"}
    assert manifest["retention"]["periods_years"] == {"model_artifacts": 7, "audit_logs": 7, "approval_records": 10}
    assert manifest["retention"]["until"]["approval_records"].startswith(str(dt.datetime.now(dt.UTC).year + 10))
    assert audit.uri not in json.dumps(manifest) and audit.uri not in run_log  # no tracking URI in the bundle
    statement = json.loads(__import__("base64").b64decode(envelope["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert {s["name"] for s in statement["subject"]} == {p for p in names if p.startswith("model/")}
    assert statement["predicate"]["audit"]["status"] == "READY"
    assert envelope["payloadType"] == "application/vnd.in-toto+json"

    code, out, _ = run(capsys, "verify-bundle", str(bundle), "--pubkey", str(public))
    assert code == 0 and out.startswith(f"OK: {bundle}")
    assert "signed by the pinned key SHA256:" in out and "READY for production" in out
    assert "training code:" in out and "at commit" in out
    assert "fairness: fairness/bias.json, the bias check (passed)" in out
    code, out, _ = run(capsys, "verify-bundle", str(bundle))
    assert code == 0 and "self-consistent only" in out

    # same inputs, same bytes
    again = tmp_path / "again.tar.gz"
    assert run(capsys, "bundle", "cl_unimodal_v2/1", "--out", str(again), "--key", str(private),
               "--tracking-uri", audit.uri)[0] == 0
    assert again.read_bytes() == bundle.read_bytes()

    # one flipped byte in one file: verify-bundle names it
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(bundle) as tar:
        card = tar.extractfile("reports/model_card.md").read()  # type: ignore[union-attr]
    rewrite_tar(bundle, tampered, change={"reports/model_card.md": flip_one_byte(card)})
    code, out, _ = run(capsys, "verify-bundle", str(tampered), "--pubkey", str(public))
    assert code == 1 and out.startswith(f"BAD: {tampered}: reports/model_card.md: its content does not match")

    # an edited manifest no longer matches the signed statement; an added file is unlisted
    with tarfile.open(bundle) as tar:
        raw_manifest = tar.extractfile("MANIFEST.json").read()  # type: ignore[union-attr]
    rewrite_tar(bundle, tampered, change={"MANIFEST.json": raw_manifest.replace(b'"READY"', b'"READX"')})
    code, out, _ = run(capsys, "verify-bundle", str(tampered), "--pubkey", str(public))
    assert code == 1 and f"BAD: {tampered}: MANIFEST.json:" in out
    added = tarfile.TarInfo("reports/extra.txt")
    added.size = 3
    rewrite_tar(bundle, tampered, extra=[added])
    code, out, _ = run(capsys, "verify-bundle", str(tampered), "--pubkey", str(public))
    assert code == 1 and "reports/extra.txt: present in the bundle but not listed" in out

    # a key that did not sign it
    code, out, _ = run(capsys, "verify-bundle", str(bundle), "--pubkey", str(other_public))
    assert code == 1 and "attestation.dsse.json: the DSSE signature does not verify with the pinned --pubkey" in out

    # retention: the bundle cannot be deleted before its manifest's date, and can after it
    code, out, _ = run(capsys, "delete-bundle", str(bundle), "--pubkey", str(public))
    assert code == 1 and out.startswith(f"REFUSED: {bundle} is under retention until") and bundle.exists()
    code, out, _ = run(capsys, "delete-bundle", str(tampered), "--pubkey", str(public))
    assert code == 1 and "does not verify" in out and tampered.exists()

    # verify-trail states each record's retention
    code, out, _ = run(capsys, "verify-trail", str(audit.pytester.path / "audit-reports" / "audit_log.jsonl"))
    assert code == 0 and "retention: record 1 (cl_unimodal_v2/1 audit" in out and ": under retention" in out

    # --with-data adds the dataset files, each with the sha256 the run logged
    with_data = tmp_path / "with-data.tar.gz"
    assert run(capsys, "bundle", "cl_unimodal_v2/1", "--out", str(with_data), "--key", str(private),
               "--tracking-uri", audit.uri, "--with-data")[0] == 0
    code, out, _ = run(capsys, "verify-bundle", str(with_data), "--pubkey", str(public))
    assert code == 0 and "3 data file(s) included" in out
    with tarfile.open(with_data) as tar:
        assert any(n.startswith("data/") and n.endswith("_train.csv") for n in tar.getnames())

    # a report edited after the audit: no bundle
    card_file = audit.out_dir / "model_card.md"
    card_file.write_text(card_file.read_text(encoding="utf-8") + "\nedited\n", encoding="utf-8")
    code, _, err = run(capsys, "bundle", "cl_unimodal_v2/1", "--out", str(tmp_path / "x.tar.gz"), "--key",
                       str(private), "--tracking-uri", audit.uri)
    assert code == 2 and "model_card.md" in err and not (tmp_path / "x.tar.gz").exists()

    # after the retention date (clock moved 11 years on) the bundle may go
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=366 * 11)
    original = files_module.utc_now
    files_module.utc_now = lambda: later  # type: ignore[assignment]
    try:
        code, out, _ = run(capsys, "delete-bundle", str(bundle), "--pubkey", str(public))
    finally:
        files_module.utc_now = original  # type: ignore[assignment]
    assert code == 0 and out.startswith(f"deleted: {bundle}") and not bundle.exists()


@pytest.mark.slow
def test_bundle_refuses_without_a_key_or_a_full_audit(audit, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("RELEASE_AUDIT_BUNDLE_KEY", raising=False)
    code, _, err = run(capsys, "bundle", "cl_unimodal_v2/1", "--out", str(tmp_path / "b.tar.gz"),
                       "--tracking-uri", audit.uri)
    assert code == 2 and "no signing key: pass --key PEM or set RELEASE_AUDIT_BUNDLE_KEY" in err
    private, _public = make_key(tmp_path)
    monkeypatch.setenv("RELEASE_AUDIT_BUNDLE_KEY", private.read_text())
    code, _, err = run(capsys, "bundle", "cl_unimodal_v2/1", "--out", str(tmp_path / "b.tar.gz"),
                       "--tracking-uri", audit.uri, "--trail", str(tmp_path / "none.jsonl"))
    assert code == 2 and "no audit trail at" in err


@pytest.mark.slow
def test_bundle_refuses_model_files_changed_in_the_registry_since_the_audit(fresh_audit, capsys, tmp_path):
    """The registry is untrusted: files swapped after the audit (and after the approvals) are not bundled."""
    from mlflow import MlflowClient

    assert fresh_audit.run("cl_unimodal_v2").ret == 0
    client = MlflowClient(fresh_audit.uri, fresh_audit.uri)
    location = client.get_model_version_download_uri("cl_unimodal_v2", "1")
    stored = Path(location.removeprefix("file://"))
    assert stored.is_dir(), location
    example = stored / "input_example.json"
    example.write_text(example.read_text(encoding="utf-8").replace("}", ', "x": 1}', 1), encoding="utf-8")
    private, _public = make_key(tmp_path)
    code, _, err = run(capsys, "bundle", "cl_unimodal_v2/1", "--out", str(tmp_path / "b.tar.gz"), "--key",
                       str(private), "--tracking-uri", fresh_audit.uri)
    assert code == 2 and "are not the ones the audit digested" in err and not (tmp_path / "b.tar.gz").exists()


# -- hostile archives ------------------------------------------------------------------------------
def _tar_with(path: Path, *members: tarfile.TarInfo) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info in members:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


def _info(name: str, kind: bytes = tarfile.REGTYPE, size: int = 1, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size if kind == tarfile.REGTYPE else 0
    info.linkname = link
    return info


@pytest.mark.parametrize(("member", "why"), [
    (_info("../evil"), "climbs out of the archive"),
    (_info("reports/../../evil"), "climbs out of the archive"),
    (_info("/etc/evil"), "absolute"),
    (_info("reports/link", tarfile.SYMTYPE, link="/etc/passwd"), "symbolic link"),
    (_info("reports/hard", tarfile.LNKTYPE, link="MANIFEST.json"), "hard link"),
    (_info("dev/zero", tarfile.CHRTYPE), "device"),
    (_info("fifo", tarfile.FIFOTYPE), "device, FIFO"),
])
def test_verify_bundle_rejects_a_hostile_archive_before_extracting(member, why, tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    archive = _tar_with(work / "hostile.tar.gz", _info("MANIFEST.json"), member)
    assert why in member_problem(member)
    code, out, _ = run(capsys, "verify-bundle", str(archive))
    assert code == 1 and out.startswith(f"BAD: {archive}: {archive}: refused:") and why in out
    assert not (tmp_path / "evil").exists() and not (work / "evil").exists() and not Path("/etc/evil").exists()


def test_verify_bundle_rejects_a_duplicate_path_and_a_non_archive(tmp_path, capsys):
    archive = _tar_with(tmp_path / "dup.tar.gz", _info("MANIFEST.json"), _info("MANIFEST.json", size=2))
    result = verify_bundle(archive)
    assert not result.ok and "appears twice" in result.problem
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar")
    code, out, _ = run(capsys, "verify-bundle", str(junk))
    assert code == 1 and "is not a readable .tar.gz bundle" in out


def test_an_archive_without_the_signed_envelope_is_bad(tmp_path):
    archive = _tar_with(tmp_path / "b.tar.gz", _info("MANIFEST.json"), _info("signing-key.pub.pem"))
    result = verify_bundle(archive)
    assert not result.ok and result.problem == "attestation.dsse.json: missing from the bundle"


def test_extraction_refuses_bytes_after_the_archive_and_a_cut_trailer(tmp_path):
    """An appended gzip member (tar -i would extract its forged report over the verified one),
    trailing garbage, data after the tar end-of-archive blocks and a truncated trailer are refused."""
    from pytest_release_audit.bundle.archive import BundleError, extract_checked

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "r.json").write_text('{"status": "READY"}')
    good = tmp_path / "good.tar.gz"
    write_archive([("reports/r.json", tmp_path / "src" / "r.json")], good, mtime=1700000000)
    (tmp_path / "ok").mkdir()
    assert extract_checked(good, tmp_path / "ok") == ["reports/r.json"]
    raw = good.read_bytes()
    tar_bytes = gzip.decompress(raw)
    forged = io.BytesIO()
    with tarfile.open(fileobj=forged, mode="w") as tar:
        info = tarfile.TarInfo("reports/r.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    cases = {
        "appended": (raw + gzip.compress(forged.getvalue()), "bytes follow the end of its gzip stream"),
        "garbage": (raw + b"GARBAGE", "bytes follow the end of its gzip stream"),
        "inner": (gzip.compress(tar_bytes + forged.getvalue()), "data follows the tar archive's end-of-archive"),
        "cut": (raw[:-12], "truncated"),
    }
    for name, (data, reason) in cases.items():
        bad = tmp_path / f"{name}.tar.gz"
        bad.write_bytes(data)
        dest = tmp_path / f"out-{name}"
        dest.mkdir()
        with pytest.raises(BundleError, match=reason):
            extract_checked(bad, dest)
        assert not any(dest.iterdir()), name


def test_write_archive_is_byte_identical_and_normalised(tmp_path):
    (tmp_path / "src").mkdir()
    for name, text in (("b.txt", "b"), ("a/c.txt", "c")):
        (tmp_path / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / name).write_text(text)
    entries = [("b.txt", tmp_path / "src" / "b.txt"), ("a/c.txt", tmp_path / "src" / "a/c.txt")]
    write_archive(entries, tmp_path / "one.tar.gz", mtime=1700000000)
    (tmp_path / "src" / "b.txt").touch()  # a newer mtime on disk changes nothing
    write_archive(list(reversed(entries)), tmp_path / "two.tar.gz", mtime=1700000000)
    one = (tmp_path / "one.tar.gz").read_bytes()
    assert one == (tmp_path / "two.tar.gz").read_bytes()
    assert one[4:8] == b"\0\0\0\0" and not one[3] & 0x08  # gzip: mtime 0, no file name
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(one))) as tar:
        assert tar.getnames() == ["a/c.txt", "b.txt"]
        assert {(m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in tar.getmembers()} == {
            (1700000000, 0, 0, "", "", 0o644)}


# -- retention -------------------------------------------------------------------------------------
def test_policy_can_lengthen_retention_but_not_shorten_it():
    assert settings_from({"retention": {"approval_records_years": 12}}).retention.periods() == {
        "model_artifacts": 7, "audit_logs": 7, "approval_records": 12}
    with pytest.raises(PolicyError, match="retention.audit_logs_years.*between 7"):
        settings_from({"retention": {"audit_logs_years": 3}})


def test_retention_block_and_the_bundle_floor():
    block = retention_block("2024-02-29T10:00:00Z", {"model_artifacts": 7, "audit_logs": 7, "approval_records": 10})
    assert block["until"] == {"approval_records": "2034-02-28T10:00:00Z", "audit_logs": "2031-02-28T10:00:00Z",
                              "model_artifacts": "2031-02-28T10:00:00Z"}
    # a manifest that states one year is still held to seed 002's ten
    short = retention_block("2020-01-01T00:00:00Z", {"audit_logs": 1})
    assert bundle_retain_until({"retention": short}) == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _record(audit_id: str, recorded_at: str, *, retention: bool = True) -> dict[str, object]:
    record: dict[str, object] = {"trail_version": 1, "audit_id": audit_id, "recorded_at": recorded_at,
                                 "model": {"name": "m", "version": "1"}, "verdict": "READY"}
    if retention:
        record["retention"] = retention_block(recorded_at)
    return record


@pytest.fixture
def trail_key(tmp_path):
    """The CI's trail key: records signed with it, its public half passed to prune-trail."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    public = tmp_path / "trail-key.pub.pem"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return key, ["--public-key", str(public)]


def test_prune_trail_refuses_records_under_retention(tmp_path, capsys, trail_key):
    key, pub = trail_key
    log = tmp_path / "audit_log.jsonl"
    append_record(log, _record("old", "2010-01-01T00:00:00Z"), private_key=key)
    append_record(log, _record("recent", files_module.utc_iso()), private_key=key)
    before = log.read_bytes()

    code, out, _ = run(capsys, "prune-trail", str(log), "--before", "2100-01-01", *pub)
    assert code == 1 and out.startswith("REFUSED: record 2 (m/1 audit recent) is under retention until")
    code, out, _ = run(capsys, "prune-trail", str(log), "--before", "2011-01-01", *pub)
    assert code == 1 and "removing them would break every later record" in out
    code, out, _ = run(capsys, "prune-trail", str(log), "--before", "2000-01-01", *pub)
    assert code == 0 and out.startswith("nothing to prune")
    assert log.read_bytes() == before and verify_trail(log).ok

    code, out, _ = run(capsys, "verify-trail", str(log))
    assert code == 0
    assert "retention: record 1 (m/1 audit old) retained until 2017-01-01: past retention (may be archived)" in out
    assert "retention: record 2 (m/1 audit recent) retained until" in out and out.rstrip().endswith("under retention")


def test_prune_trail_reads_old_records_with_the_default_and_removes_a_fully_expired_trail(tmp_path, capsys,
                                                                                          trail_key):
    key, pub = trail_key
    log = tmp_path / "audit_log.jsonl"
    append_record(log, _record("no-block", "2024-06-01T00:00:00Z", retention=False),  # before retention existed
                  private_key=key)
    code, out, _ = run(capsys, "prune-trail", str(log), "--before", "2100-01-01", *pub)
    assert code == 1 and "under retention until 2031-06-01" in out and log.exists()

    expired = tmp_path / "expired.jsonl"
    append_record(expired, _record("a", "2001-01-01T00:00:00Z", retention=False), private_key=key)
    append_record(expired, _record("b", "2002-01-01T00:00:00Z"), private_key=key)
    code, out, _ = run(capsys, "prune-trail", str(expired), "--before", "2003-01-01", *pub)
    assert code == 0 and out.startswith(f"pruned: {expired}: all 2 record(s)")
    assert not expired.exists() and not Path(f"{expired}.head").exists()


def test_prune_trail_refuses_a_broken_trail(tmp_path, capsys, trail_key):
    key, pub = trail_key
    log = tmp_path / "audit_log.jsonl"
    for audit_id in ("a", "b"):
        append_record(log, _record(audit_id, "2001-01-01T00:00:00Z"), private_key=key)
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[1])
    code, out, _ = run(capsys, "prune-trail", str(log), "--before", "2100-01-01", *pub)
    assert code == 1 and "is broken at record 1" in out and log.exists()


def test_prune_trail_needs_proof_of_the_retention_dates(tmp_path, capsys, trail_key):
    """An attacker rewrites recorded_at and retention to the past and re-hashes the chain (no key needed):
    the trail is self-consistent, so prune-trail refuses without the CI's key, and the key exposes it."""
    key, pub = trail_key
    log = tmp_path / "audit_log.jsonl"
    append_record(log, _record("recent", files_module.utc_iso()), private_key=key)
    forged = tmp_path / "forged.jsonl"
    append_record(forged, _record("recent", "2000-01-01T00:00:00Z"))  # re-hashed, unsigned
    for path in (log, forged):
        code, out, _ = run(capsys, "prune-trail", str(path), "--before", "2100-01-01")
        assert code == 1 and out.startswith("REFUSED: pruning deletes evidence") and path.exists()
    assert verify_trail(forged).ok  # self-consistent
    code, out, _ = run(capsys, "prune-trail", str(forged), "--before", "2100-01-01", *pub)
    assert code == 1 and "is broken at record 1" in out and forged.exists()


def test_run_log_in_the_bundle_carries_no_credentials():
    from pytest_release_audit.bundle.build import _datasets, _run_json
    from pytest_release_audit.handle.model import DatasetRef, ModelHandle, RunRecord

    secret = "s3cr3t-t0ken"
    ref = DatasetRef(name="train", digest="abc", source_type="s3", source=f"s3://bucket/x.csv?X-Amz-Signature={secret}",
                     context="training")
    run_record = RunRecord(run_id="r1", experiment_id="0", status="FINISHED", start_time=0, params={"seed": "1"},
                           metrics={"c_index": 0.7}, artifacts=(), inputs=(ref,),
                           tags={"mlflow.source.git.repoURL": f"https://ci:{secret}@git.example.org/org/repo.git"})
    handle = ModelHandle(name="m", version="1", tracking_uri=f"http://admin:{secret}@mlflow.example.org",
                         registry_uri="", run=run_record, source="models:/m-1")
    text = json.dumps([_run_json(handle), _datasets(handle)])
    assert secret not in text and "mlflow.example.org" not in text
    assert "git.example.org/org/repo.git" in text and '"seed": "1"' in text


def test_with_data_reads_no_file_outside_the_allowed_roots(tmp_path, monkeypatch):
    """A registry naming /etc/passwd as a dataset source does not get it into a bundle."""
    from pytest_release_audit.bundle.build import BundleRequest, _data_files
    from pytest_release_audit.errors import DatasetUnavailable
    from pytest_release_audit.handle.model import DatasetRef, ModelHandle, RunRecord
    from pytest_release_audit.policy import Policy

    monkeypatch.chdir(tmp_path)
    ref = DatasetRef(name="train", digest="abc", source_type="local", source="/etc/passwd", context="training")
    run_record = RunRecord(run_id="r1", experiment_id="0", status="FINISHED", start_time=0, params={}, metrics={},
                           tags={}, artifacts=(), inputs=(ref,))
    handle = ModelHandle(name="m", version="1", tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", registry_uri="",
                         run=run_record)
    request = BundleRequest(name="m", version="1", out=tmp_path / "b.tar.gz", tracking_uri=handle.tracking_uri,
                            trail=tmp_path / "log.jsonl", private_key=None, policy=Policy(), with_data=True)
    with pytest.raises(DatasetUnavailable, match="outside the directories the audit reads data from"):
        _data_files(handle, request, tmp_path / "bundle" / "data", tmp_path / "work")
    assert not (tmp_path / "bundle").exists()
