"""The preference loop: prompts -> candidates from the deployed policy (and references) -> AI and human
feedback -> DPO/KTO/ORPO datasets -> a training job -> a new endpoint -> the next round."""
