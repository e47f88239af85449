"""The code location as a run worker of a team instance loads it: rebuilt from the environment at call time
(orchestration.definitions' module-level `defs` is built once, by whichever test imported it first). A module
of its own so that each step process of the multiprocess executor imports little beyond the code location."""
from orchestration.definitions import build_definitions


def team_definitions():
    return build_definitions()
