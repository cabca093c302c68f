"""Logging: the trafficai logger to stderr and a file, the level from the environment, and a worker
failure that reaches the client with the log file's path."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from trafficai.errors import ConfigError
from trafficai.runtime import messages as m
from trafficai.runtime.logs import configure_logging, log_level

from .conftest import BROKEN


@pytest.fixture
def restore_logging() -> object:
    yield None
    configure_logging("WARNING", None)


def test_configure_logging_writes_the_file_at_the_level(
    tmp_path: Path, restore_logging: object, capsys: pytest.CaptureFixture[str]
) -> None:
    path = configure_logging("info", tmp_path / "logs" / "x.log")
    assert path == tmp_path / "logs" / "x.log"
    log = logging.getLogger("trafficai.test")
    log.debug("not shown")
    log.info("shown %d", 1)
    for handler in logging.getLogger("trafficai").handlers:
        handler.flush()
    text = path.read_text()
    assert "shown 1" in text and "not shown" not in text
    assert "shown 1" in capsys.readouterr().err
    again = configure_logging("INFO", None)  # reconfiguring replaces the handlers, never adds
    handlers = logging.getLogger("trafficai").handlers
    ours = [h for h in handlers if type(h).__module__ == "trafficai.runtime.logs"]
    assert again is None and len(ours) == 1  # pytest's capture handlers may sit beside it


def test_the_level_comes_from_the_flag_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAFFICAI_LOG_LEVEL", "debug")
    assert log_level(None) == "DEBUG" and log_level("error") == "ERROR"
    monkeypatch.delenv("TRAFFICAI_LOG_LEVEL")
    assert log_level(None) == "INFO"
    with pytest.raises(ConfigError, match="unknown log level 'LOUD'"):
        log_level("loud")


def test_an_unwritable_log_file_falls_back_to_stderr(tmp_path: Path, restore_logging: object) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert configure_logging("INFO", blocker / "x.log") is None


@pytest.mark.sumo
def test_a_worker_error_reaches_the_client_with_the_log_path(worker_factory, isolated_data_dir) -> None:  # type: ignore[no-untyped-def]
    worker = worker_factory(scenario=BROKEN)
    worker.wait(lambda: bool(worker.of(m.Failed)), what="the failure")
    failed = worker.of(m.Failed)[0]
    log = Path(failed.log_path)
    assert log.parent == isolated_data_dir / "logs" and log.name.startswith("gui-")
    worker.handle.shutdown(3.0)
    text = log.read_text()
    assert "simulation failed" in text and "broken" in text
