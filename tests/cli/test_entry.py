"""The one exit path (``trafficai.cli.entry.main``): every usage error of every command is Typer's
usage message with exit 2, a TrafficAIError one ``error:`` line with exit 1, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import typer

from tests.cli.support import trafficai
from trafficai.cli import app as app_module
from trafficai.cli.entry import main
from trafficai.errors import ScenarioError


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]
    argument: str | None = None  # a value for its required argument; None: it has none
    number_option: str | None = None  # an option that takes a number
    value_option: str | None = None  # any option that takes a value
    takes_extra: bool = False  # a variadic argument swallows extra words
    required: tuple[str, ...] = ()  # required options with a good value, given with the argument


COMMANDS = (
    Command(("run",), "single", "--end", "--controller"),
    Command(("scenarios",)),
    Command(("runs",), None, "--limit", "--limit"),
    Command(("compare",), "RUN", None, None, takes_extra=True),
    Command(("export",), "RUN", None, "--format"),
    Command(("gui",), None, "--demand", "--controller"),
    Command(("train",), None, "--timesteps", "--algo"),
    Command(("evaluate",), None, "--episodes", "--controller"),
    Command(("bench", "sim"), "single", "--end", "--end"),
    Command(("bench", "rl"), None, "--seconds", "--envs"),
    Command(("bench", "gui"), None, "--vehicles", "--window"),
    Command(("bench", "iot"), None, "--seconds", "--rate"),
    Command(("iot", "init"), "pki", "--port", "--scenario"),
    Command(("iot", "broker"), "pki"),
    Command(("iot", "revoke"), "e1.x", None, "--pki"),
    Command(("iot", "export"), "RUN", None, "--format"),
    Command(("iot", "faults"), takes_extra=True),  # a group: ``iot faults eval SCENARIO``
    Command(("iot", "attack"), "single", "--seeds", "--loop"),
    Command(("prune",), None, "--older-than", "--older-than"),
    Command(("users", "add"), "ann", None, "--role"),
    Command(("users", "list")),
    Command(("users", "remove"), "ann", None, "--as"),
    Command(("users", "role"), "ann", None, "--role"),
    Command(("users", "passwd"), "ann", None, "--as"),
    Command(("users", "totp"), "ann", None, "--as"),
    Command(("users", "unlock"), "ann", None, "--as"),
    Command(("users", "login"), "ann"),
    Command(("users", "log"), None, "--limit"),
    Command(("audit", "show"), None, "--limit", "--user"),
    Command(("audit", "verify"), None, None, "--checkpoint"),
    Command(("audit", "checkpoint"), None, None, "--out"),
    Command(("iot", "run"), "single", "--end", "--broker"),
    Command(("bench", "vision"), None, "--frames", "--scenario"),
    Command(("vision", "dataset"), None, "--frames", "--out"),
    Command(("vision", "train"), None, "--time-hours", "--data"),
    Command(("vision", "eval"), None, "--minutes", "--runtime"),
    Command(("vision", "card"), None, None, "--splits", required=("--data", "d.yaml")),
    Command(("vision", "loop-eval"), "single", "--seeds", "--sources"),
    Command(("vision", "watch"), "video.mp4", "--interval", "--format"),
    Command(("incidents", "eval"), "single", "--runs", "--levels"),
    Command(("incidents", "fit"), "single", "--runs", "--out"),
    Command(("whatif",), "single", "--horizon", "--controller", required=("--at", "60")),
    Command(("history",), "single", "--days", "--controller"),
    Command(("forecast", "train"), "single", None, "--set"),
    Command(("forecast", "eval"), "single", None, "--set"),
    Command(("sweep",), None, None, "--address"),
    Command(("federated",), "single", "--rounds", "--heldout", takes_extra=True),
)
IDS = [" ".join(c.words) for c in COMMANDS]


def name_of(command: Command) -> str:
    return " ".join(command.words)


def with_argument(command: Command) -> list[str]:
    return [*command.words, *([command.argument] if command.argument else []), *command.required]


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``trafficai ARGV``: it must exit 2 without a traceback; returns what it printed: the
    usage message on stderr (click leaves out the ``Usage:`` line for an option's missing value),
    or the help on stdout for no arguments."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    captured = capsys.readouterr()
    assert exit_info.value.code == 2, captured
    printed = captured.out + captured.err
    assert "Traceback" not in printed, printed
    assert "Usage" in printed or captured.err.startswith("Error: "), printed
    return printed


def test_the_command_list_is_every_command() -> None:
    """A command added later must be added to COMMANDS, so its usage errors are tested too."""
    from typer.main import get_command

    root = get_command(app_module.build_app())
    names = set()
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        names |= {f"{name} {sub}" for sub in subcommands} if subcommands else {name}
    assert names == set(IDS)


def test_no_arguments_shows_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert "run" in usage_error(capsys) and "scenarios" in usage_error(capsys)
    assert "sim" in usage_error(capsys, "bench")


@pytest.mark.parametrize("argv", [("runz",), ("bench", "simz"), ("--bogus", "runs")])
def test_unknown_command_or_global_option(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    assert "No such" in usage_error(capsys, *argv)


@pytest.mark.parametrize("argv", [("--log-level", "loud", "runs"), ("--log-level",)])
def test_bad_or_missing_log_level(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    assert "--log-level" in usage_error(capsys, *argv)


@pytest.mark.parametrize("command", COMMANDS, ids=IDS)
def test_unknown_option(capsys: pytest.CaptureFixture[str], command: Command) -> None:
    argv = [*with_argument(command), "--bogus", "x"]
    printed = usage_error(capsys, *argv)
    # typer's vendored click says "No such option: --bogus", click 8.x via typer 0.20 "'--bogus'."
    assert "No such option: --bogus" in printed or "No such option '--bogus'" in printed


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.argument], ids=name_of)
def test_missing_argument(capsys: pytest.CaptureFixture[str], command: Command) -> None:
    assert "Missing argument" in usage_error(capsys, *command.words)


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.number_option], ids=name_of)
def test_bad_value(capsys: pytest.CaptureFixture[str], command: Command) -> None:
    argv = [*with_argument(command), str(command.number_option), "abc"]
    assert f"Invalid value for '{command.number_option}'" in usage_error(capsys, *argv)


@pytest.mark.parametrize("command", [c for c in COMMANDS if c.value_option], ids=name_of)
def test_missing_value(capsys: pytest.CaptureFixture[str], command: Command) -> None:
    argv = [*with_argument(command), str(command.value_option)]
    assert f"Option '{command.value_option}' requires an argument" in usage_error(capsys, *argv)


@pytest.mark.parametrize("command", [c for c in COMMANDS if not c.takes_extra], ids=name_of)
def test_unexpected_extra_argument(capsys: pytest.CaptureFixture[str], command: Command) -> None:
    argument = [command.argument] if command.argument else ["single"]  # optional ones take the first
    argv = [*command.words, *argument, *command.required, "surplus"]
    assert "unexpected extra argument" in usage_error(capsys, *argv)


def raising_app(exception: BaseException) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def boom() -> None:
        raise exception

    @app.command()
    def other() -> None:  # two commands: ``boom`` is a subcommand, as in trafficai
        pass

    return app


def usage_error_classes() -> list[type[Exception]]:
    """Typer's vendored click (typer >= 0.2x) and the click package (older typer, click users)."""
    classes: list[type[Exception]] = []
    try:
        from typer._click.exceptions import UsageError as VendoredUsageError

        classes.append(VendoredUsageError)
    except ImportError:
        pass
    try:
        from click.exceptions import UsageError as ClickUsageError

        classes.append(ClickUsageError)
    except ImportError:
        pass
    return classes


@pytest.mark.parametrize("error_class", usage_error_classes(), ids=lambda c: c.__module__)
def test_usage_errors_of_either_click_are_caught(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, error_class: type[Exception]
) -> None:
    monkeypatch.setattr(app_module, "app", raising_app(error_class("wrong thing")))
    assert "wrong thing" in usage_error(capsys, "boom")


def test_a_trafficai_error_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "app", raising_app(ScenarioError("no such place")))
    with pytest.raises(SystemExit) as exit_info:
        main(["boom"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == "error: no such place\n"


@pytest.mark.parametrize("code", [0, 3])
def test_typer_exit_codes_reach_the_shell(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    """Without standalone mode click returns a typer.Exit's code instead of raising it."""
    monkeypatch.setattr(app_module, "app", raising_app(typer.Exit(code)))
    with pytest.raises(SystemExit) as exit_info:
        main(["boom"])
    assert exit_info.value.code == code


def test_ctrl_c_is_one_word_and_exit_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "app", raising_app(KeyboardInterrupt()))
    with pytest.raises(SystemExit) as exit_info:
        main(["boom"])
    assert exit_info.value.code == 130 and "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [(), ("runz",), ("run", "city", "--bogus", "x"), ("run",), ("run", "city", "--end", "abc")],
    ids=["no arguments", "unknown command", "unknown option", "missing argument", "bad value"],
)
def test_the_installed_command_never_prints_a_traceback(argv: tuple[str, ...]) -> None:
    """The five forms a new user met as tracebacks, end to end in a fresh process."""
    proc = trafficai(*argv, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Usage" in proc.stdout + proc.stderr


def test_log_level_from_the_flag_or_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from typer.testing import CliRunner

    from tests.cli.support import cli_app

    logger = logging.getLogger("trafficai")
    monkeypatch.setattr(logger, "level", logger.level)  # restored after the test
    monkeypatch.setenv("TRAFFICAI_LOG_LEVEL", "error")
    assert CliRunner().invoke(cli_app(), ["runs", "--limit", "1"]).exit_code == 0
    assert logger.level == logging.ERROR
    assert CliRunner().invoke(cli_app(), ["--log-level", "DEBUG", "runs", "--limit", "1"]).exit_code == 0
    assert logger.level == logging.DEBUG  # the flag wins over the variable
