"""The ``tbfl`` command: one thin sub-module per sub-command.

Each sub-module of ``tbfl.cli`` defines ``add_parser(subparsers)`` (registers its
sub-command and sets ``func``) and keeps the heavy imports inside its ``run``
function, so ``tbfl --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

#: Sub-command modules, in the order ``tbfl --help`` lists them.
COMMANDS = ("weights", "stats", "check", "synth", "train", "evaluate", "tune_postprocess", "sweep", "report", "detect", "demo")


def class_list(text: str) -> tuple[str, ...]:
    """argparse type of ``--classes A,B,...``: the class names in order (blanks around names dropped)."""
    classes = tuple(name.strip() for name in text.split(",") if name.strip())
    if not classes:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated class names")
    if len(set(classes)) != len(classes):
        raise argparse.ArgumentTypeError(f"{text!r}: a class is named twice")
    return classes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tbfl", description="Sound event detection with the Time-Balanced Focal Loss.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"tbfl.cli.{name}").add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tbfl`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_printer(args.command)
            return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as error:
        print(f"tbfl {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # disk full, no permission, ...: WriteError names the file; rerunning resumes
        print(f"tbfl {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        print(f"tbfl {args.command}: interrupted {interrupt}".rstrip(), file=sys.stderr)
        return 130


def _warning_printer(command: str):
    """``warnings.showwarning`` for the command: ``tbfl <command>: warning: <message>``, one line, no source path."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"tbfl {command}: warning: {message}", file=sys.stderr if file is None else file)

    return show


if __name__ == "__main__":
    sys.exit(main())
