"""Everything Dagster shows, one package per flow (assets, checks, jobs, sensors side by side); the code
location loads it whole (`orchestration/definitions.py`), so a new asset, job or sensor needs no wiring."""
