"""``gpuplan scenario validate|show|schema``."""

from __future__ import annotations

import argparse
import json

from scenarios.loader import effective_dict, json_schema, load_scenario


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``scenario`` command group."""
    p = sub.add_parser("scenario", help="validate, show or describe scenario files",
                       description="Work with scenario files (TOML): validate them, show effective values, "
                                   "or print the JSON Schema for editors.")
    ss = p.add_subparsers(dest="scenario_command", metavar="ACTION", required=True)
    v = ss.add_parser("validate", help="check a scenario file (exit 2 when invalid)",
                      description="Validate a scenario file and everything it extends. Prints 'ok' or one "
                                  "line naming the path and the rule; exit code 2 when invalid.")
    v.add_argument("file", help="scenario TOML file, or a bundled name (default, small)")
    v.set_defaults(func=_validate)
    s = ss.add_parser("show", help="print effective values after defaults and extends",
                      description="Print the scenario's effective values (defaults filled in, extends "
                                  "merged) as JSON.")
    s.add_argument("file", help="scenario TOML file, or a bundled name")
    s.set_defaults(func=_show)
    j = ss.add_parser("schema", help="print the JSON Schema of scenario files",
                      description="Print the JSON Schema of the scenario format (for editor completion "
                                  "and validation, e.g. with taplo or VS Code Even Better TOML).")
    j.set_defaults(func=_schema)


def _validate(args: argparse.Namespace) -> int:
    sc = load_scenario(args.file)
    print(f"ok: {args.file} is a valid scenario '{sc.name}' with families {', '.join(sc.families)}")
    return 0


def _show(args: argparse.Namespace) -> int:
    sc = load_scenario(args.file)
    print(json.dumps(effective_dict(sc), indent=2))
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0
