"""Progress of long corpus stages: the counters reach their totals, from files any runner's tasks write."""
import gzip
import json
import logging

from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

from refinery.corpus import progress
from refinery.runners import local_runner
from refinery.storage import data_folder


def _drop(folder, files: int, per_file: int) -> int:
    folder.mkdir(parents=True)
    for f in range(files):
        with gzip.open(folder / f"{f}.jsonl.gz", "wt") as out:
            for i in range(per_file):
                out.write(json.dumps({"id": f"{f}-{i}", "text": f"document {f}-{i} " + "word " * 20}) + "\n")
    return files * per_file


def test_a_stage_reports_every_document_and_task_it_ran(tmp_path, caplog):
    total = _drop(tmp_path / "in", files=2, per_file=300)
    logs = data_folder(str(tmp_path / "logs"))
    pipeline = [JsonlReader(str(tmp_path / "in")), JsonlWriter(str(tmp_path / "out"))]
    counted = progress.with_counter(pipeline, logs)
    assert [type(s) for s in counted] == [JsonlReader, progress.CountDocuments, JsonlWriter]

    with (caplog.at_level(logging.INFO, logger="refinery.progress"),
          progress.watch("filter", logs, tasks=2, expected=total, interval=0.01, tick=0.01) as seen):
        local_runner(workers=2)(counted, 2, logs)
    c = seen.counters()
    assert (c["documents"], c["expected"], c["tasks_done"], c["tasks"]) == (total, total, 2, 2)
    assert c["text_mb"] > 0
    last = [r.getMessage() for r in caplog.records if r.name == "refinery.progress"][-1]
    assert last.startswith(f"filter: {total}/{total} documents,") and "2/2 tasks" in last


def test_a_pass_that_reads_no_documents_is_left_alone_and_a_quick_stage_prints_nothing(tmp_path, caplog):
    logs = data_folder(str(tmp_path / "logs"))
    pipeline = [JsonlWriter(str(tmp_path / "out"))]
    assert progress.with_counter(pipeline, logs) == pipeline
    with (caplog.at_level(logging.INFO, logger="refinery.progress"),
          progress.watch("dedup/minhash_cluster", logs, tasks=1)):  # default interval: a line a minute
        pass
    assert not [r for r in caplog.records if r.name == "refinery.progress"]


def test_the_line_names_counts_rate_tasks_and_eta(tmp_path):
    logs = data_folder(str(tmp_path / "logs"))
    with logs.open("progress/00000.json", "w") as f:
        f.write(json.dumps({"documents": 250, "chars": 2_000_000}))
    with logs.open("progress/00001.json", "w") as f:
        f.write("{half-written")  # a task writing right now: counted at the next poll
    line = progress.StageProgress("tokenize", logs, tasks=4, expected=1000)
    line.poll()
    text = line.line()
    assert text.startswith("tokenize: 250/1,000 documents, 2 MB of text (") and "0/4 tasks" in text
    assert "ETA " in text
