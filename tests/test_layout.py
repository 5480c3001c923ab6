"""The layout of DESIGN.md §1 and its one-way import rules."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = [
    "workflows",
    "activities",
    "api",
    "agents",
    "contracts",
    "worker.py",
    "docker-compose.yml",
    "pyproject.toml",
    "README.md",
    "core",
    "store",
    "cli",
    "web",
    "sim",
    "bench",
    "tests",
    "docs/adr",
]
# What each package may import from the project (stdlib and third-party are checked below).
PROJECT = {
    "contracts",
    "agents",
    "workflows",
    "activities",
    "api",
    "store",
    "core",
    "cli",
    "web",
    "sim",
    "bench",
    "worker",
    "tests",
}
ALLOWED = {
    "contracts": {"contracts"},
    "agents": {"contracts", "agents"},
    "workflows": {"contracts", "agents", "workflows"},
    "sim": {"contracts", "agents", "sim"},
    "core": {"core"},
    "store": {"core", "store", "contracts"},
}
FORBIDDEN_THIRD_PARTY = {
    "contracts": {"numpy", "sqlalchemy", "httpx", "temporalio", "fastapi"},
    "agents": {"sqlalchemy", "httpx", "temporalio", "fastapi"},
    "workflows": {"numpy", "sqlalchemy", "httpx", "fastapi"},
}


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_the_top_level_layout_exists(name: str) -> None:
    assert (ROOT / name).exists()


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_go_one_way(package: str) -> None:
    for path in (ROOT / package).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for name in imports_of(path):
            top = name.split(".")[0]
            if top in PROJECT:
                assert top in ALLOWED[package], f"{path.relative_to(ROOT)} imports {name}"
            assert top not in FORBIDDEN_THIRD_PARTY.get(package, set()), (
                f"{path.relative_to(ROOT)} imports {name}"
            )
            assert name != "core.settings" or package != "workflows"
