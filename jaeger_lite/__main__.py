"""Command line: ``jaeger-lite agent`` (also ``python -m jaeger_lite agent``)."""

from __future__ import annotations

import argparse
import sys
from typing import Optional

from ._version import __version__
from .agent import cli as agent_cli


def main(argv: Optional[list[str]] = None) -> int:
    """Parse ``argv`` (default: the process arguments), run the command, return its status."""
    parser = argparse.ArgumentParser(
        prog="jaeger-lite", description="jaeger_lite command-line tools."
    )
    parser.add_argument("--version", action="version", version=f"jaeger-lite {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    agent = commands.add_parser(
        "agent",
        help="run the development agent: receive spans and print traces",
        description=agent_cli.DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    agent_cli.add_arguments(agent)
    args = parser.parse_args(argv)
    if args.command == "agent":
        return agent_cli.run(args)
    print(
        "jaeger-lite: missing a command; the one there is: jaeger-lite agent (the development"
        " agent; jaeger-lite agent --help for its flags)\n",
        file=sys.stderr,
    )
    parser.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
