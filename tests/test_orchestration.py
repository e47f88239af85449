"""Dagster wiring: definitions load, the sensor registers drops, assets materialise with `materialize`."""
import dagster as dg

from assets.corpus.assets import extracted_documents, filtered_documents
from assets.corpus.jobs import new_drops_sensor
from assets.corpus.partitions import drops, earlier_drops
from orchestration.definitions import build_definitions
from resources import ComputeResource, SettingsResource, StorageResource


def test_definitions_load_with_lineage_and_checks():
    defs = build_definitions("local")
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"raw_documents", "extracted_documents", "filtered_documents", "deduplicated_documents",
            "tokenized_shards"} <= keys
    assert graph.get(dg.AssetKey("tokenized_shards")).parent_keys == {dg.AssetKey("deduplicated_documents")}
    assert len(list(graph.asset_check_keys)) >= 5
    assert defs.resolve_job_def("corpus_job")
    assert defs.resolve_sensor_def("new_drops_sensor")
    # the SFT flow hangs off the deduplicated corpus, one partition per generation method
    assert graph.get(dg.AssetKey("sft_chunks")).parent_keys == {dg.AssetKey("deduplicated_documents")}
    assert graph.get(dg.AssetKey("sft_dataset")).parent_keys == {dg.AssetKey("sft_judged")}
    judged = graph.get(dg.AssetKey("sft_judged"))
    assert set(judged.partitions_def.get_partition_keys()) == {
        "grounded_qa", "self_instruct", "evol_instruct", "topic_tree", "conversation"}
    assert judged.pools == {"llm"} and graph.get(dg.AssetKey("sft_generated")).pools == {"llm"}
    for job in ("sft_chunks_job", "sft_method_job", "sft_dataset_job"):
        assert defs.resolve_job_def(job)


def test_sensor_registers_new_drops_once(sample_raw):
    instance = dg.DagsterInstance.ephemeral()
    storage = StorageResource(raw_root=str(sample_raw))
    result = new_drops_sensor(dg.build_sensor_context(instance=instance, resources={"storage": storage}))
    assert [r.partition_key for r in result.run_requests] == ["2026-11-01", "2026-11-08"]
    assert result.dynamic_partitions_requests[0].partition_keys == ["2026-11-01", "2026-11-08"]
    instance.add_dynamic_partitions(drops.name, ["2026-11-01", "2026-11-08"])
    (sample_raw / "2026-11-15").mkdir()
    (sample_raw / "2026-11-15" / "note.md").write_text("# New drop\n\nA new document arrived this week.\n")
    (sample_raw / "empty-folder").mkdir()
    (sample_raw / "bad name!").mkdir()  # not a valid partition key: skipped with a warning
    (sample_raw / "bad name!" / "a.txt").write_text("text")
    result = new_drops_sensor(dg.build_sensor_context(instance=instance, resources={"storage": storage}))
    assert [r.partition_key for r in result.run_requests] == ["2026-11-15"]
    instance.add_dynamic_partitions(drops.name, ["2026-11-15"])
    assert earlier_drops(instance, "2026-11-15", storage.list_drops()) == ["2026-11-01", "2026-11-08"]
    instance.add_dynamic_partitions(drops.name, ["2026-10-01"])  # seen by this instance, other raw root
    assert earlier_drops(instance, "2026-11-08", storage.list_drops()) == ["2026-11-01"]


def test_extract_and_filter_assets_materialise_one_drop(sample_raw, tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(drops.name, ["2026-11-01", "2026-11-08"])
    resources = {"storage": StorageResource(root=str(tmp_path / "out"), raw_root=str(sample_raw)),
                 "compute": ComputeResource(workers=1), "settings": SettingsResource()}
    result = dg.materialize([extracted_documents, filtered_documents], partition_key="2026-11-01",
                            instance=instance, resources=resources)
    assert result.success
    mats = {m.asset_key.to_user_string(): m.metadata for m in result.asset_materializations_for_node("extracted_documents")}
    md = mats["extracted_documents"]
    assert md["documents_out"].value > 0 and md["files_in"].value > 0
    assert md["quarantined_files"].value >= 1
    assert md["reused_previous_output"].value is False
    filtered = result.asset_materializations_for_node("filtered_documents")[0].metadata
    assert filtered["documents_out"].value <= md["documents_out"].value
    assert isinstance(filtered["drops_by_reason"].value, dict)
    assert "samples" in filtered


def test_backfill_run_of_a_later_drop_retries_until_earlier_drops_are_deduplicated(sample_raw, tmp_path,
                                                                                  monkeypatch):
    import assets.corpus.assets as corpus_assets
    from assets.corpus.assets import deduplicated_documents

    monkeypatch.setattr(corpus_assets, "BACKFILL_RETRIES", 1)
    monkeypatch.setattr(corpus_assets, "BACKFILL_RETRY_SECONDS", 0)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(drops.name, ["2026-11-01", "2026-11-08"])
    resources = {"storage": StorageResource(root=str(tmp_path / "out"), raw_root=str(sample_raw)),
                 "compute": ComputeResource(workers=1), "settings": SettingsResource()}
    selection = [extracted_documents, filtered_documents, deduplicated_documents]
    result = dg.materialize(selection, partition_key="2026-11-08", instance=instance, resources=resources,
                            tags={"dagster/backfill": "test"}, raise_on_error=False)
    assert not result.success
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retried and retried[0].step_key == "deduplicated_documents"
    # once the earlier drop is done, the same backfill run succeeds
    assert dg.materialize(selection, partition_key="2026-11-01", instance=instance, resources=resources).success
    assert dg.materialize(selection, partition_key="2026-11-08", instance=instance, resources=resources,
                          tags={"dagster/backfill": "test"}).success


def test_every_declared_stage_is_an_asset_with_its_inputs_and_the_package_loads_jobs_and_sensors():
    """The code location is loaded from the `assets` package, not listed: each stage of the catalogue is an
    asset whose parents are its declared inputs, and every flow's jobs and sensors are found beside them."""
    from refinery.catalog import corpus, preference, sft

    defs = build_definitions("local")
    graph = defs.resolve_asset_graph()
    for spec in (*corpus.STAGES, *sft.STAGES, *preference.STAGES):
        node = graph.get(dg.AssetKey(spec.asset))
        expected = {dg.AssetKey(i.asset) for i in spec.inputs} or {dg.AssetKey("raw_documents")}
        assert node.parent_keys == expected, spec.name
        assert node.description == spec.description
    assert {j.name for j in defs.jobs} == {"corpus_job", "sft_chunks_job", "sft_method_job", "sft_dataset_job",
                                           "preference_round_job", "preference_train_job"}
    assert {s.name for s in defs.sensors} == {"new_drops_sensor", "preference_loop_sensor"}
    assert len(list(graph.asset_check_keys)) == 16
