"""The installed package holds every module of the source tree.

`pip install .` (the README's first command) installs what pyproject.toml lists, not what is on
disk: a subpackage left out of the list imports fine from a checkout and fails after install. The
truth here is the tree itself, walked independently of setuptools.
"""
from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _source_packages() -> set[str]:
    found = set()
    for top in ("sim", "calibrate"):
        for init in (ROOT / top).rglob("__init__.py"):
            if "__pycache__" not in init.parts:
                found.add(".".join(init.parent.relative_to(ROOT).parts))
    return found


def _folders_with_modules() -> set[str]:
    return {".".join(p.parent.relative_to(ROOT).parts) for top in ("sim", "calibrate")
            for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts}


def test_every_folder_with_modules_is_a_package():
    assert _folders_with_modules() <= _source_packages(), "a folder of modules has no __init__.py"


def test_every_package_is_installed():
    packages = CONFIG["packages"]
    if isinstance(packages, list):  # an explicit list: each name installs exactly that package
        include = packages
    else:
        include = packages["find"]["include"]
    missing = [name for name in sorted(_source_packages())
               if not any(fnmatch.fnmatchcase(name, pattern) for pattern in include)]
    assert not missing, f"pyproject.toml would not install {missing}"


def test_every_data_file_is_installed():
    patterns = CONFIG.get("package-data", {})
    missing = []
    for package in _source_packages():
        folder = ROOT / package.replace(".", "/")
        for path in folder.iterdir():
            if path.is_dir() and not (path / "__init__.py").exists() and path.name != "__pycache__":
                for data in path.rglob("*"):
                    relative = str(data.relative_to(folder))
                    if data.is_file() and not any(fnmatch.fnmatch(relative, p) for p in patterns.get(package, [])):
                        missing.append(f"{package}/{relative}")
    assert not missing, f"pyproject.toml would not install the data files {missing}"


def test_the_cli_agent_limit_is_the_scenario_limit():
    """sim/cli_plan.py copies the limit to keep pydantic out of every command's start-up."""
    from sim.cli_plan import MAX_AGENTS as cli_limit
    from sim.scenario import MAX_AGENTS as scenario_limit

    assert cli_limit == scenario_limit
