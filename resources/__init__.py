from resources.compute import ComputeResource
from resources.corpus_settings import CorpusSettings
from resources.llm import LLMResource
from resources.storage import StorageResource

__all__ = ["ComputeResource", "CorpusSettings", "LLMResource", "StorageResource"]
