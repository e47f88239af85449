"""The table and its map served by Embedding Atlas (its FastAPI app and the frontend bundled in its wheel) on a
local port. Queries run in this process on DuckDB ("server" mode), so the page loads no DuckDB-wasm and nothing
from the network; the map, the neighbour lists and the vectors are ours, so the frontend never embeds (its
in-browser models would be fetched from a CDN) and its search is full-text over `text`, not semantic:
`refinery neighbours --query` is the semantic search."""
from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pandas as pd

from refinery.explore.tables import ExploreTable
from refinery.explore.vectors import Map

ROW, X, Y, NEIGHBOURS = "__row_index__", "projection_x", "projection_y", "__neighbors"


def atlas_frame(table: ExploreTable, view: Map) -> pd.DataFrame:
    """The table with what Embedding Atlas reads: a row index (its ids), map coordinates and neighbour lists
    ({"ids": row indices, "distances": cosine distances}, best first)."""
    frame = table.frame.copy()
    frame[ROW] = range(len(frame))
    frame[X], frame[Y] = view.xy[:, 0], view.xy[:, 1]
    frame[NEIGHBOURS] = [{"ids": ids.tolist(), "distances": (1 - sims).round(4).tolist()}
                         for ids, sims in zip(view.neighbours, view.similarities)]
    return frame


def make_app(table: ExploreTable, view: Map):
    import embedding_atlas
    from embedding_atlas.data_source import DataSource
    from embedding_atlas.options import make_embedding_atlas_props
    from embedding_atlas.server import make_server

    frame = atlas_frame(table, view)
    props = make_embedding_atlas_props(row_id=ROW, x=X, y=Y, text="text", neighbors=NEIGHBOURS)
    # the frontend's default layout: the map coloured by the table's colour column, a chart per useful column
    embedding = {"x": X, "y": Y, "text": "text", "neighbors": NEIGHBOURS}
    if table.colour:
        embedding["category"] = table.colour
    props["defaultChartsConfig"] = {"include": table.charts, "embedding": {"data": embedding}}
    identifier = hashlib.sha256(f"refinery|{table.target}|{len(frame)}".encode()).hexdigest()
    source = DataSource(identifier, frame, {"props": props})
    static = (Path(embedding_atlas.__file__).parent / "static").as_posix()
    return make_server(source, static_path=static, duckdb_uri="server")


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the server starts so the printed URL is the real one (port 0: any
    free port). OSError when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(app, sock: socket.socket) -> None:
    """Serves until Ctrl-C / SIGTERM (uvicorn's own handlers stop it cleanly)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False, lifespan="off"))
    server.run(sockets=[sock])
