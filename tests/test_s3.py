"""The corpus flow with raw files and the storage root on S3 (a moto server), through the CLI."""
import boto3
import polars as pl

from orchestration.cli import main


def _upload(s3, bucket, local_root, prefix):
    for path in sorted(local_root.rglob("*")):
        if path.is_file():
            s3.upload_file(str(path), bucket, f"{prefix}/{path.relative_to(local_root).as_posix()}")


def _keys(s3, bucket, prefix):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def test_corpus_flow_on_s3(sample_raw, dagster_home, moto_s3, tmp_path):
    s3 = boto3.client("s3", endpoint_url=moto_s3)
    s3.create_bucket(Bucket="acme-raw")
    s3.create_bucket(Bucket="acme-out")
    _upload(s3, "acme-raw", sample_raw, "handbook")

    rc = main(["corpus", "--raw", "s3://acme-raw/handbook", "--root", "s3://acme-out/refinery",
               "--s3-endpoint", moto_s3, "--json", str(tmp_path / "s.json")])
    assert rc == 0
    for drop in ("2026-11-01", "2026-11-08"):
        keys = _keys(s3, "acme-out", f"refinery/corpus/{drop}/")
        for stage in ("extracted/", "filtered/", "deduplicated/", "tokenized/", "_quarantine/"):
            assert any(k.startswith(f"refinery/corpus/{drop}/{stage}") for k in keys), (drop, stage)
        assert any(k.endswith(".ds") for k in keys)
    assert _keys(s3, "acme-out", "refinery/corpus/_index/")
    clusters = pl.read_parquet(
        "s3://acme-out/refinery/corpus/2026-11-08/minhash_clusters/clusters.parquet",
        storage_options={"endpoint_url": moto_s3, "aws_region": "us-east-1"},
    )
    assert set(clusters.columns) >= {"id", "source", "cluster"}
