"""Asset checks on the corpus outputs: they read the stage's documents and report the first offenders."""

import dagster as dg

from assets.corpus import deduplicated_documents, extracted_documents, filtered_documents, tokenized_shards
from refinery.corpus import checks
from resources import CorpusSettings, StorageResource


def _result(outcome: checks.CheckOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        metadata={"documents_checked": outcome.checked, "first_failures": dg.MetadataValue.json(outcome.failures)},
    )


def _folder(context, storage: StorageResource, stage: str):
    layout = storage.layout()
    return layout.at(layout.stage(context.partition_key, stage))


@dg.asset_check(asset=extracted_documents, description="Document ids are unique (JSON id fields may repeat).")
def extracted_ids_unique(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    return _result(checks.ids_unique(_folder(context, storage, "extracted")))


@dg.asset_check(asset=tokenized_shards, description="Each shard's index agrees with its token count.")
def tokenized_shards_consistent(context: dg.AssetCheckExecutionContext,
                                storage: StorageResource) -> dg.AssetCheckResult:
    outcome = checks.token_shards_consistent(_folder(context, storage, "tokenized"))
    return dg.AssetCheckResult(passed=outcome.passed, metadata={
        "shards_checked": outcome.checked, "first_failures": dg.MetadataValue.json(outcome.failures)})


@dg.asset_check(asset=filtered_documents, description="No email/phone/IP/card/SSN pattern left after redaction.")
def filtered_no_pii_left(context: dg.AssetCheckExecutionContext, storage: StorageResource,
                         settings: CorpusSettings) -> dg.AssetCheckResult:
    kinds = settings.config().filters.pii.kinds if settings.config().filters.pii.enabled else []
    return _result(checks.no_pii_left(_folder(context, storage, "filtered"), kinds))


@dg.asset_check(asset=filtered_documents, description="Every document has a non-empty text.")
def filtered_no_empty_text(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    return _result(checks.no_empty_text(_folder(context, storage, "filtered")))


@dg.asset_check(asset=deduplicated_documents, description="Document ids are unique.")
def deduplicated_ids_unique(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    return _result(checks.ids_unique(_folder(context, storage, "deduplicated")))


@dg.asset_check(asset=deduplicated_documents, description="No two documents have the same text.")
def deduplicated_no_exact_duplicates(context: dg.AssetCheckExecutionContext,
                                     storage: StorageResource) -> dg.AssetCheckResult:
    return _result(checks.no_exact_duplicates(_folder(context, storage, "deduplicated")))


@dg.asset_check(asset=deduplicated_documents, description="Every document has a non-empty text.")
def deduplicated_no_empty_text(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    return _result(checks.no_empty_text(_folder(context, storage, "deduplicated")))
