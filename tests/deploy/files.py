"""Reading the deployment files: the compose file as data, the Dockerfile's instructions, the documented settings."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
# The settings tables: the README's, and the API contract's in shared/ beside the repository.
SETTINGS_DOCS = (ROOT / "README.md", ROOT.parent / "shared" / "api.md")

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
REQUIRED_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?")
CASEWORK_NAME = re.compile(r"\bCASEWORK_[A-Z0-9_]+\b")


def load_yaml(path: Path) -> Any:
    """PyYAML comes with Litestar; ruamel.yaml with check-jsonschema. Either resolves `<<` merge keys."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - only without Litestar's PyYAML
        from ruamel.yaml import YAML

        return json.loads(json.dumps(YAML(typ="safe").load(path.read_text())))
    return yaml.safe_load(path.read_text())


def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two forms Compose allows it is written in."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(entry.split("=", 1) if "=" in entry else (entry, "") for entry in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    needs = service.get("depends_on") or {}
    if isinstance(needs, list):
        return {name: {"condition": "service_started"} for name in needs}
    return needs


def documented_settings() -> set[str]:
    """CASEWORK_* names in the rows of the settings tables."""
    names: set[str] = set()
    for path in SETTINGS_DOCS:
        if path.exists():
            for line in path.read_text().splitlines():
                if line.lstrip().startswith("|"):
                    names.update(CASEWORK_NAME.findall(line))
    return names


def dockerignore_patterns(path: Path = DOCKERIGNORE) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")}


def env_file_names(path: Path) -> set[str]:
    """Names assigned in a .env file, commented-out optional ones included."""
    names = set()
    for line in path.read_text().splitlines():
        match = re.match(r"#?\s*([A-Z][A-Z0-9_]*)=", line.strip())
        if match:
            names.add(match.group(1))
    return names


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        keyword, _, arguments = text.partition(" ")
        instructions.append(Instruction(keyword.upper(), arguments.strip()))
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions split at each FROM; the first of each stage is its FROM."""
    result: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result
