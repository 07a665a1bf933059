"""``gpuplan scenario validate|show|schema|holdings``."""

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
    h = ss.add_parser("holdings", help="derive the [current] holdings from a FOCUS or CUR bill",
                      description="Read the reservation and savings-plan rows of a FOCUS or AWS CUR bill and "
                                  "print a [current] section to paste into a scenario, with what was derived "
                                  "and what was assumed (see scenarios.readers.holdings).")
    h.add_argument("bill", help="FOCUS or CUR export (CSV or Parquet)")
    h.add_argument("--format", choices=["focus", "cur"], default="focus", help="bill format (default focus)")
    h.add_argument("--tz", default=None, help="time zone of naive times")
    h.add_argument("--term", type=int, choices=[1, 3], default=1,
                   help="term assumed when the bill does not state it [years] (default 1)")
    h.set_defaults(func=_holdings)


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


def _toml_value(v: object) -> str:
    return json.dumps(v) if isinstance(v, str) else f"{v:.10g}" if isinstance(v, float) else str(v)


def _holdings(args: argparse.Namespace) -> int:
    from scenarios.readers.holdings import derive_holdings
    from scenarios.schema import CurrentCommitments

    res = derive_holdings(args.bill, args.format, tz=args.tz, default_term_years=args.term)
    cur = CurrentCommitments(**res.current)  # checks what is printed is a valid [current] section
    for n in res.notes:
        print(f"# {n}")
    lines = ["[current]", f"derived_from = {_toml_value(cur.derived_from)}"]
    if cur.committed_usd_per_hour:
        lines.append("committed_usd_per_hour = { " + ", ".join(
            f"{t} = {v:.6g}" for t, v in cur.committed_usd_per_hour.items()) + " }")
    if cur.committed_end:
        lines.append("committed_end = { " + ", ".join(
            f"{t} = {json.dumps(d.isoformat())}" for t, d in cur.committed_end.items()) + " }")
    for r in res.current["reserved"]:
        lines.append("")
        lines.append("[[current.reserved]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in r.items()]
    print("\n".join(lines))
    return 0
