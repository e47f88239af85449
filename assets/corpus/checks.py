"""Asset checks on the corpus outputs: they stream the stage's output and report the first offenders."""
from collections.abc import Callable

import dagster as dg

from assets.check_results import check_result
from assets.corpus.assets import deduplicated_documents, extracted_documents, filtered_documents, tokenized_shards
from refinery.catalog.corpus import DEDUP, EXTRACT, FILTER, TOKENIZE
from refinery.corpus import checks
from refinery.stage import StageSpec
from resources import SettingsResource, StorageResource


def _folder(context, storage: StorageResource, spec: StageSpec):
    layout = storage.layout()
    return layout.at(spec.output_uri(layout, context.partition_key))


def _output_check(asset, stage: StageSpec, name: str, description: str,
                  check: Callable[..., checks.CheckOutcome], counted: str = "documents_checked"):
    @dg.asset_check(asset=asset, name=name, description=description)
    def _check(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
        return check_result(check(_folder(context, storage, stage)), counted)

    return _check


extracted_ids_unique = _output_check(
    extracted_documents, EXTRACT, "extracted_ids_unique",
    "Document ids are unique (JSON id fields may repeat).", checks.ids_unique)
filtered_no_empty_text = _output_check(
    filtered_documents, FILTER, "filtered_no_empty_text", "Every document has a non-empty text.",
    checks.no_empty_text)
deduplicated_ids_unique = _output_check(
    deduplicated_documents, DEDUP, "deduplicated_ids_unique", "Document ids are unique.", checks.ids_unique)
deduplicated_no_exact_duplicates = _output_check(
    deduplicated_documents, DEDUP, "deduplicated_no_exact_duplicates",
    "No two documents have the same text.", checks.no_exact_duplicates)
deduplicated_no_empty_text = _output_check(
    deduplicated_documents, DEDUP, "deduplicated_no_empty_text", "Every document has a non-empty text.",
    checks.no_empty_text)
tokenized_shards_consistent = _output_check(
    tokenized_shards, TOKENIZE, "tokenized_shards_consistent", "Each shard's index agrees with its token count.",
    checks.token_shards_consistent, counted="shards_checked")


@dg.asset_check(asset=filtered_documents, description="No email/phone/IP/card/SSN pattern left after redaction.")
def filtered_no_pii_left(context: dg.AssetCheckExecutionContext, storage: StorageResource,
                         settings: SettingsResource) -> dg.AssetCheckResult:
    pii = settings.config().corpus.filters.pii
    return check_result(checks.no_pii_left(_folder(context, storage, FILTER), pii.kinds if pii.enabled else [],
                                      **pii.detector_args()))
