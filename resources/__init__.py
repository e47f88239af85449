from resources.compute import ComputeResource
from resources.corpus_settings import CorpusSettings
from resources.storage import StorageResource

__all__ = ["ComputeResource", "CorpusSettings", "StorageResource"]
