from resources.compute import ComputeResource
from resources.embeddings import EmbeddingsResource
from resources.hub import HubResource
from resources.llm import LLMResource
from resources.settings import SettingsResource
from resources.storage import StorageResource
from resources.training import TrainingResource

__all__ = ["ComputeResource", "EmbeddingsResource", "SettingsResource", "HubResource", "LLMResource", "StorageResource",
           "TrainingResource"]
