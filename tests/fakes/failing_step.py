"""A pipeline step failing on one rank. Its own module: the processes of a fake processing job unpickle it,
so it must import fast (no moto, no pytest)."""


class FailOnRank:
    def __init__(self, rank: int):
        self.rank = rank

    def __call__(self, data, rank: int = 0, world_size: int = 1):
        if rank == self.rank:
            raise ValueError(f"rank {rank} fails on purpose")
        yield from data or ()
