"""`refinery explore <target>`: a dataset or a drop with its embeddings in Embedding Atlas on a local port (a 2-D
map coloured by method, source or judge score, filters on every column, full-text search, each record's
provenance and nearest neighbours on click). `refinery neighbours <record id>`: the k nearest records on the
command line, or those nearest to a query text (the semantic search the page does not have). No Dagster run:
they read what the flows wrote under the root and cache vectors and maps there."""
from __future__ import annotations

import argparse
import json
import sys
import time

from orchestration.cli.session import check_args, overrides


def _prepare(args: argparse.Namespace):
    """(layout, config, embeddings resource, target) after the configuration and the target are checked; None after
    one line per problem (exit 2). Nothing heavy is imported before the checks pass."""
    from refinery.explore.targets import TargetError, check_target, parse_target

    if not check_args(args, args.command):
        return None
    try:
        target = parse_target(args.target) if args.target else None
    except TargetError as e:
        print(f"error: {e}", file=sys.stderr)
        return None
    for flag in ("limit", "k"):
        if getattr(args, flag, None) is not None and getattr(args, flag) < 1:
            print(f"error: --{flag}: must be ≥ 1 (got {getattr(args, flag)})", file=sys.stderr)
            return None
    from orchestration.profiles import resources_for

    resources = resources_for(overrides=overrides(args))
    layout, config = resources["storage"].layout(), resources["settings"].config()
    if target is not None:
        try:
            check_target(layout, target)
        except TargetError as e:
            print(f"error: {e}", file=sys.stderr)
            return None
    return layout, config, resources["embeddings"], target


def _table(layout, config, target, limit: int | None, seed: int):
    from refinery.explore.tables import build_table

    table = build_table(layout, target, config, limit=limit, seed=seed)
    for note in table.notes:
        print(f"note: {note}", file=sys.stderr)
    return table


def _map(layout, config, embeddings, table, kind: str, seed: int):
    """The table's map (vectors, neighbours, coordinates) and the embedder that made it."""
    from refinery.explore.vectors import build_map, vectoriser

    embedder = embeddings.embedder(config.embeddings, layout)
    vectorise, how = vectoriser(kind, config, embedder)
    return build_map(table.embed, vectorise, how, layout, seed=seed), embedder


def explore(args: argparse.Namespace) -> int:
    prepared = _prepare(args)
    if prepared is None:
        return 2
    layout, config, embeddings, target = prepared
    from refinery.explore import serve

    try:
        sock = serve.bind(args.host, args.port)
    except OSError as e:
        print(f"error: --host {args.host} --port {args.port}: cannot listen there ({e.strerror or e}); "
              f"--port 0 takes any free port", file=sys.stderr)
        return 2
    try:
        start = time.perf_counter()
        table = _table(layout, config, target, args.limit, args.seed)
        read = time.perf_counter() - start
        if not len(table):
            print(f"error: target {target}: no records to show", file=sys.stderr)
            return 1
        view, embedder = _map(layout, config, embeddings, table, target.kind, args.seed)
        app = serve.make_app(table, view)
        stats = embedder.stats
        projection = "cached" if view.cached_projection else f"{view.seconds['projection']:.1f} s"
        print(f"{target}: {len(table):,} records; read {read:.1f} s, embedded {stats.computed:,} "
              f"({stats.cached:,} cached) in {view.seconds['embed']:.1f} s with {embedder.model_id}, map {projection}")
        url = serve.url_of(sock, args.host)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"note: listening on {args.host}: whoever reaches this machine there can read these records",
                  file=sys.stderr)
        print(f"Embedding Atlas: {url}   (Ctrl-C stops it; semantic search: refinery neighbours --query TEXT "
              f"--target {target})", flush=True)
        if not args.no_browser:
            import webbrowser

            webbrowser.open(url)
        serve.serve(app, sock)
    finally:
        sock.close()
    return 0


def neighbours(args: argparse.Namespace) -> int:
    if bool(args.record_id) == bool(args.query):
        print("error: give a record id or --query TEXT (one of them)", file=sys.stderr)
        return 2
    prepared = _prepare(args)
    if prepared is None:
        return 2
    layout, config, embeddings, target = prepared
    from refinery.explore.neighbours import format_lines, row_of
    from refinery.explore.neighbours import neighbours as nearest_records

    table, row = None, None
    for candidate in _candidates(layout, target, bool(args.query)):
        table = _table(layout, config, candidate, None, args.seed)
        row = row_of(table, args.record_id) if args.record_id else None
        if args.query or row is not None:
            break
    else:
        if table is None:
            print(f"error: nothing to search under {layout.root}: no SFT dataset and no deduplicated drop",
                  file=sys.stderr)
        else:
            print(f"error: no record {args.record_id!r} in {target or 'the SFT dataset nor any deduplicated drop'}; "
                  f"--target names another (sft:generated, corpus:<drop>, ...)", file=sys.stderr)
        return 1
    # the vectors only (cached after an explore or a semantic dedup pass): no map is needed for a search
    from refinery.explore.vectors import vectoriser

    embedder = embeddings.embedder(config.embeddings, layout)
    vectorise, _ = vectoriser(candidate.kind, config, embedder)
    vectors = vectorise(table.embed)
    query = vectorise([args.query])[0] if args.query else vectors[row]
    hits = nearest_records(table, vectors, query, args.k + (0 if args.query else 1), self_row=row)
    if args.json_out:
        print(json.dumps({"target": table.target, "query": args.query, "record": args.record_id, "neighbours": hits},
                         indent=2, default=str))
        return 0
    about = f"query {args.query!r}" if args.query else f"record {args.record_id}"
    print(f"{table.target} ({len(table):,} records), nearest to {about} (cosine, {embedder.model_id}):")
    print("\n".join(format_lines(hits)))
    return 0


def _candidates(layout, target, query: bool):
    """Where to look: --target; else for a record id the SFT dataset, then each deduplicated drop; for a query the
    SFT dataset, else every drop's documents."""
    from refinery.explore.targets import DATASET, RECORDS, Target, corpus_drops

    if target is not None:
        return [target]
    has_dataset = layout.at(DATASET.output_uri(layout)).isfile(RECORDS)
    sft, drops = [Target("sft", "dataset")] if has_dataset else [], corpus_drops(layout)
    if query:
        return sft or ([Target("corpus", "deduplicated")] if drops else [])
    return sft + [Target("corpus", "deduplicated", drop) for drop in drops]


def add_parsers(sub) -> None:
    x = sub.add_parser("explore", help="open a dataset or a drop with its embeddings in the browser (Embedding Atlas): "
                                       "a 2-D map, filters, search, each record's provenance and neighbours")
    x.add_argument("target", help="sft (the dataset), sft:generated|filtered|judged[:<method>] (a stage, with the "
                                  "records it dropped), corpus (every drop's deduplicated documents), corpus:<drop> "
                                  "or a drop's name")
    x.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    x.add_argument("--port", type=int, default=5055, help="port (default 5055; 0: any free port)")
    x.add_argument("--no-browser", dest="no_browser", action="store_true", help="print the URL, open no browser")
    x.add_argument("--limit", type=int, help="a random sample of this many records (seeded), for a quick look at a "
                                         "large target (embedding runs at ~25-40 records/s per core, then cached)")
    x.set_defaults(func=explore)
    n = sub.add_parser("neighbours", help="the k records nearest to a record (by id) or to a query text (cosine "
                                          "over the cached embeddings)")
    n.add_argument("record_id", nargs="?", help="an SFT record id or a corpus document id")
    n.add_argument("-k", type=int, default=10, help="how many neighbours (default 10)")
    n.add_argument("--query", help="find the records nearest to this text instead (semantic search)")
    n.add_argument("--target", help="where to look (as for explore); default: the SFT dataset, then each drop")
    n.add_argument("--json", dest="json_out", action="store_true", help="print JSON instead of text")
    n.set_defaults(func=neighbours)
    for p in (x, n):
        p.add_argument("--root", help="storage root the flows wrote to (default data)")
        p.add_argument("--config", help="YAML configuration (its embeddings: section picks the model)")
        p.add_argument("--seed", type=int, default=0, help="seed of the sample and of the map's layout")
