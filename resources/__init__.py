from resources.compute import ComputeResource
from resources.corpus_settings import CorpusSettings
from resources.hub import HubResource
from resources.llm import LLMResource
from resources.storage import StorageResource
from resources.training import TrainingResource

__all__ = ["ComputeResource", "CorpusSettings", "HubResource", "LLMResource", "StorageResource",
           "TrainingResource"]
