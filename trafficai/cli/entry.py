"""``trafficai`` (:func:`main`): the one place that turns what a command raises into an exit.

- a :class:`~trafficai.errors.TrafficAIError` (the user's mistake, or an external failure wrapped at
  its seam): one line ``error: ...`` on stderr, exit 1;
- a usage error (no arguments, unknown command or option, missing argument, missing or bad value):
  Typer's usage message, exit 2;
- Ctrl-C or an abort: one word, exit 130.

Never a traceback for any of these. Typer >= 0.2x raises the exceptions of its vendored
``typer._click``, older releases (and click-based code) those of ``click``: both are caught.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from trafficai.errors import TrafficAIError

PROG_NAME = "trafficai"


def _modules(*names: str) -> list[ModuleType]:
    found = []
    for name in names:
        try:
            found.append(importlib.import_module(name))
        except ImportError:
            continue
    return found


def _exception_types(attribute: str, *modules: str) -> tuple[type[BaseException], ...]:
    """``attribute`` of each of ``modules`` that is installed, each class once."""
    types = {
        getattr(m, attribute) for m in _modules(*modules) if isinstance(getattr(m, attribute, None), type)
    }
    return tuple(t for t in types if issubclass(t, BaseException))


# the click exceptions Typer shows as a usage message, whichever click raised them
USAGE_ERRORS = _exception_types("ClickException", "typer._click.exceptions", "click.exceptions")
EXITS = _exception_types("Exit", "typer", "typer.exceptions", "click.exceptions")
INTERRUPTS: tuple[type[BaseException], ...] = (
    *_exception_types("Abort", "typer", "typer.exceptions", "click.exceptions"),
    KeyboardInterrupt,
)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``trafficai`` command line on ``argv`` (default: ``sys.argv[1:]``) and exit."""
    from trafficai.cli.app import app

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = app(args=args, prog_name=PROG_NAME, standalone_mode=False)
    except TrafficAIError as exc:
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(1) from None
    except USAGE_ERRORS as exc:
        exc.show()  # type: ignore[attr-defined]  # every ClickException has show() and exit_code
        raise SystemExit(exc.exit_code) from None  # type: ignore[attr-defined]
    except EXITS as exc:
        raise SystemExit(exc.exit_code) from None  # type: ignore[attr-defined]
    except INTERRUPTS:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None
    # without standalone mode, click returns the code of a typer.Exit instead of raising it
    raise SystemExit(code if isinstance(code, int) else 0)
