"""Base class of every configuration section: unknown keys are an error, so a typo in a YAML file
fails loudly instead of silently running with a default."""
from pydantic import BaseModel, ConfigDict


class StrictOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
