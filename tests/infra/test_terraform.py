"""Offline checks of infra/terraform (no Terraform providers can be downloaded here, so `terraform validate`
cannot run): every file parses as HCL, every variable, local, data source and resource referenced is
declared, every declared variable, local and data source is used, no account id is written in, and the pieces the deployment
relies on are there."""
import re
from pathlib import Path

import hcl2
import pytest

TF = Path(__file__).resolve().parents[2] / "infra" / "terraform"
REF = re.compile(r"(?<![\w.])(var|local|data|aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?")


def _unquote(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s


def _strings(node):
    """Every string in a parsed file (expressions included), comments excluded."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            if k != "__comments__":
                yield k
                yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


@pytest.fixture(scope="module")
def parsed():
    files = sorted(TF.glob("*.tf"))
    assert files
    return {f.name: hcl2.loads(f.read_text()) for f in files}


def _declared(parsed):
    variables, locals_, data, resources = set(), set(), set(), set()
    for doc in parsed.values():
        for block in doc.get("variable", []):
            variables |= {_unquote(k) for k in block if not k.startswith("__")}
        for block in doc.get("locals", []):
            locals_ |= {k for k in block if not k.startswith("__")}
        for kind, into in (("data", data), ("resource", resources)):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    into |= {(_unquote(rtype), _unquote(n)) for n in named if not n.startswith("__")}
    return variables, locals_, data, resources


def _references(parsed):
    refs = set()
    for doc in parsed.values():
        for s in _strings(doc):
            refs |= {m.groups() for m in REF.finditer(s)}
    return refs


def test_every_reference_resolves_and_every_variable_is_used(parsed):
    variables, locals_, data, resources = _declared(parsed)
    refs = _references(parsed)
    used_vars = {name for kind, name, _ in refs if kind == "var"}
    assert used_vars - variables == set(), "var.x used but not declared"
    assert variables - used_vars == set(), "variables declared but never used"
    used_locals = {name for kind, name, _ in refs if kind == "local"}
    used_data = {(t, n) for kind, t, n in refs if kind == "data"}
    assert (used_locals - locals_, locals_ - used_locals) == (set(), set())
    assert (used_data - data, data - used_data) == (set(), set())
    assert {(kind, name) for kind, name, _ in refs if kind.startswith("aws_")} - resources == set()


def test_no_account_id_is_hard_coded():
    for f in TF.glob("*.tf"):
        assert not re.search(r"(?<!\d)\d{12}(?!\d)", f.read_text()), f.name


def _resources(parsed) -> dict[tuple[str, str], dict]:
    out = {}
    for doc in parsed.values():
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                out |= {(_unquote(rtype), _unquote(n)): body for n, body in named.items() if not n.startswith("__")}
    return out


def test_buckets_are_versioned_encrypted_private_with_lifecycle(parsed):
    res = _resources(parsed)
    buckets = {n for t, n in res if t == "aws_s3_bucket"}
    assert buckets == {"raw", "storage"}
    for kind in ("versioning", "server_side_encryption_configuration", "public_access_block", "policy"):
        assert res[(f"aws_s3_bucket_{kind}", "this")]["for_each"] == "${local.buckets}"
    sse = str(res[("aws_s3_bucket_server_side_encryption_configuration", "this")])
    assert '"aws:kms"' in sse and "aws_kms_key.data.arn" in sse
    pab = res[("aws_s3_bucket_public_access_block", "this")]
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                        "restrict_public_buckets"))
    lifecycle = str(res[("aws_s3_bucket_lifecycle_configuration", "storage")])
    assert "noncurrent_version_expiration" in lifecycle and "var.state_prefixes" in lifecycle


def test_fsx_is_linked_to_the_storage_bucket(parsed):
    res = _resources(parsed)
    dra = res[("aws_fsx_data_repository_association", "storage")]
    assert dra["file_system_id"] == "${aws_fsx_lustre_file_system.storage.id}"
    assert "aws_s3_bucket.storage.bucket" in dra["data_repository_path"]


def test_roles_and_their_trust(parsed):
    res = _resources(parsed)
    roles = {n: body for (t, n), body in res.items() if t == "aws_iam_role"}
    assert set(roles) == {"workers", "processing", "training", "execution"}
    assert roles["workers"]["assume_role_policy"] == "${data.aws_iam_policy_document.workers_trust.json}"
    for name in ("processing", "training", "execution"):
        assert roles[name]["assume_role_policy"] == "${data.aws_iam_policy_document.sagemaker_trust.json}"
    iam = hcl2.loads((TF / "iam.tf").read_text())
    docs = {_unquote(n): body for b in iam["data"] for n, body in b['"aws_iam_policy_document"'].items()}
    trust = str(docs["workers_trust"])
    assert "sts:AssumeRoleWithWebIdentity" in trust and "system:serviceaccount:" in trust
    passrole = [s for s in docs["workers"]["statement"] if '"iam:PassRole"' in s["actions"]]
    assert len(passrole) == 1 and "iam:PassedToService" in str(passrole[0]["condition"])
    assert all("*" not in r for r in passrole[0]["resources"])  # only the three SageMaker roles
