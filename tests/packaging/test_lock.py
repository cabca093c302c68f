"""requirements.lock pins every package pyproject asks for, at a version inside pyproject's range."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def locked_versions() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.split(";")[0].strip()
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = [project["dependencies"]]
    groups += [project["optional-dependencies"][g] for g in ("gui", "rl", "vision", "iot", "dev", "resco")]
    return [Requirement(spec) for group in groups for spec in group]


def test_every_declared_package_is_locked_inside_its_range() -> None:
    pins = locked_versions()
    problems = []
    for requirement in declared():
        version = pins.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name} is not in requirements.lock (run `make lock`)")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version} is outside {requirement.specifier}")
    assert problems == []


def test_all_extra_is_the_union_of_the_others() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    from trafficai.extras import EXTRA_MODULES

    (everything,) = extras["all"]
    assert everything.startswith("trafficai[") and everything.endswith("]")
    assert set(everything[len("trafficai[") : -1].split(",")) == set(EXTRA_MODULES)
    assert set(EXTRA_MODULES) <= set(extras)  # every extra the code checks for is declared
