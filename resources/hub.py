"""The Hugging Face Hub, for pushing exported datasets. The token comes from the HF_TOKEN EnvVar only."""
from __future__ import annotations

import dagster as dg
from datatrove.io import DataFolder

from refinery.llmdata.dataset_files import push_to_hub


class HubResource(dg.ConfigurableResource):
    token: str | None = None

    def push(self, folder: DataFolder, repo_id: str, private: bool = True) -> str:
        """The commit URL of the upload."""
        if not self.token:
            raise ValueError(f"export.hub_repo_id is {repo_id!r} but HF_TOKEN is not set")
        return push_to_hub(folder, repo_id, self.token, private=private)
