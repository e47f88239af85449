"""Asset check results from the processing code's verdicts, the same shape for every flow."""
import dagster as dg

from refinery.corpus.checks import CheckOutcome


def check_result(outcome: CheckOutcome, counted: str = "documents_checked") -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        metadata={counted: outcome.checked, "first_failures": dg.MetadataValue.json(outcome.failures)},
    )


def llm_failures_result(passed: bool, report: dict) -> dg.AssetCheckResult:
    """`refinery.llmdata.checks.llm_failures`'s verdict: the totals as metadata, the per-stage detail as JSON."""
    metadata = {k: v for k, v in report.items() if k != "by_stage"}
    return dg.AssetCheckResult(passed=passed, metadata={**metadata, "by_stage": dg.MetadataValue.json(report["by_stage"])})
