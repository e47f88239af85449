"""Asset checks on the corpus outputs: they stream the stage's output and report the first offenders."""
from collections.abc import Callable

import dagster as dg

from assets.corpus import deduplicated_documents, extracted_documents, filtered_documents, tokenized_shards
from refinery.corpus import checks
from resources import CorpusSettings, StorageResource


def _result(outcome: checks.CheckOutcome, counted: str = "documents_checked") -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        metadata={counted: outcome.checked, "first_failures": dg.MetadataValue.json(outcome.failures)},
    )


def _llm_failures_result(passed: bool, report: dict) -> dg.AssetCheckResult:
    """`refinery.sft.checks.llm_failures`'s verdict: the totals as metadata, the per-stage detail as JSON."""
    metadata = {k: v for k, v in report.items() if k != "by_stage"}
    return dg.AssetCheckResult(passed=passed, metadata={**metadata, "by_stage": dg.MetadataValue.json(report["by_stage"])})


def _folder(context, storage: StorageResource, stage: str):
    layout = storage.layout()
    return layout.at(layout.stage(context.partition_key, stage))


def _output_check(asset, stage: str, name: str, description: str,
                  check: Callable[..., checks.CheckOutcome], counted: str = "documents_checked"):
    @dg.asset_check(asset=asset, name=name, description=description)
    def _check(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
        return _result(check(_folder(context, storage, stage)), counted)

    return _check


extracted_ids_unique = _output_check(
    extracted_documents, "extracted", "extracted_ids_unique",
    "Document ids are unique (JSON id fields may repeat).", checks.ids_unique)
filtered_no_empty_text = _output_check(
    filtered_documents, "filtered", "filtered_no_empty_text", "Every document has a non-empty text.",
    checks.no_empty_text)
deduplicated_ids_unique = _output_check(
    deduplicated_documents, "deduplicated", "deduplicated_ids_unique", "Document ids are unique.", checks.ids_unique)
deduplicated_no_exact_duplicates = _output_check(
    deduplicated_documents, "deduplicated", "deduplicated_no_exact_duplicates",
    "No two documents have the same text.", checks.no_exact_duplicates)
deduplicated_no_empty_text = _output_check(
    deduplicated_documents, "deduplicated", "deduplicated_no_empty_text", "Every document has a non-empty text.",
    checks.no_empty_text)
tokenized_shards_consistent = _output_check(
    tokenized_shards, "tokenized", "tokenized_shards_consistent", "Each shard's index agrees with its token count.",
    checks.token_shards_consistent, counted="shards_checked")


@dg.asset_check(asset=filtered_documents, description="No email/phone/IP/card/SSN pattern left after redaction.")
def filtered_no_pii_left(context: dg.AssetCheckExecutionContext, storage: StorageResource,
                         settings: CorpusSettings) -> dg.AssetCheckResult:
    pii = settings.config().filters.pii
    return _result(checks.no_pii_left(_folder(context, storage, "filtered"), pii.kinds if pii.enabled else [],
                                      **pii.detector_args()))
