"""``trafficai.extras``: a missing extra is one line naming the pip install, found without importing."""

from __future__ import annotations

import sys

import pytest

from trafficai.errors import DependencyError, TrafficAIError
from trafficai.extras import EXTRA_MODULES, is_installed, missing_modules, require_extra


def test_installed_modules_pass() -> None:
    assert is_installed("json") and missing_modules(["json", "numpy"]) == []
    require_extra("gui", ["json"])


def test_a_module_that_cannot_be_imported_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "PySide6", None)  # what `import PySide6` fails on, as if absent
    assert not is_installed("PySide6")
    with pytest.raises(DependencyError) as info:
        require_extra("gui")
    assert str(info.value) == "this command needs the gui extra: pip install 'trafficai[gui]'"
    assert isinstance(info.value, TrafficAIError) and "\n" not in str(info.value)


def test_a_module_nobody_installed_is_missing() -> None:
    assert not is_installed("trafficai_no_such_module")
    with pytest.raises(DependencyError, match=r"the rl extra: pip install 'trafficai\[rl\]'"):
        require_extra("rl", ["trafficai_no_such_module"])


def test_every_extra_names_its_modules() -> None:
    assert set(EXTRA_MODULES) == {"gui", "rl", "vision", "iot", "forecast", "scale", "federated"}
    assert "torch" in EXTRA_MODULES["rl"] and "ultralytics" in EXTRA_MODULES["vision"]


def test_the_rl_controller_needs_the_rl_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from trafficai.control.registry import make_controller

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(DependencyError, match=r"trafficai\[rl\]"):
        make_controller("rl")
