"""``gpuplan monitor BILL``: chargeback, anomalies, budget variance and breach probability, tagging hygiene."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from scenarios.errors import InputError

EXAMPLE = """examples:
  gpuplan monitor synthetic --scenario default --out out/monitor      the default's SYNTHETIC FOCUS bill
  gpuplan monitor focus.csv --budget budget.csv --idle owner --owner h100=research --out out/monitor
  gpuplan monitor cur.parquet --shared-team platform --require-tags team,project --out out/monitor

budget file (CSV): month,family,pricing_category,gpu_hours,budget_usd  (pricing_category: Standard,
Dynamic, Committed or Unused = planned idle commitment); month,budget_usd alone gives the breach
probability but no waterfall.
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``monitor`` command."""
    p = sub.add_parser(
        "monitor", help="FinOps monitor of a bill: chargeback, anomalies, budget variance and breach, tags",
        description="Read a FOCUS 1.0-1.2 or CUR 2.0 export and write: team bills under stated chargeback rules "
                    "reconciled to the invoice; spend and GPU-hour anomalies per team, family and project (spikes "
                    "and level shifts beyond thresholds refitted daily on the history before, set from a budget of "
                    "1 false alarm per week; no look-ahead), with size and likely driver; with a "
                    "budget, the variance waterfall and the probability of breaching each monthly budget; and "
                    "tagging hygiene. Output: monitor.html, tables/*.csv, summary.json, anomalies.jsonl (for an "
                    "alerting hook; nothing is sent over the network).",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bill", help="FOCUS or CUR export (CSV or Parquet), or 'synthetic' for the scenario's SYNTHETIC "
                                "FOCUS bill of its demand history")
    p.add_argument("--scenario", default="default",
                   help="scenario (for 'synthetic' and its yearly budget, policies.budget_usd_per_year; "
                        "default: %(default)s)")
    p.add_argument("--budget", metavar="BUDGET.csv", default=None, help="monthly budget file (see below)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--format", dest="fmt", choices=["auto", "focus", "cur"], default="auto")
    p.add_argument("--tz", default=None, help="zone of naive times in the export")
    p.add_argument("--method", choices=["usage", "gpu_hours"], default="usage",
                   help="chargeback: direct costs by use (default) or every (month, family) pool by GPU-hours")
    p.add_argument("--idle", choices=["spread", "owner", "central"], default="spread",
                   help="idle commitment: spread by commitment use (default), to its owner, or central")
    p.add_argument("--owner", action="append", default=[], metavar="FAMILY=TEAM",
                   help="owner of a family's commitment (for --idle owner); repeat per family")
    p.add_argument("--shared-team", action="append", default=[], metavar="TEAM",
                   help="team tag of a shared cluster whose cost is split by GPU-hours; repeat for several")
    p.add_argument("--require-tags", default="", metavar="KEYS",
                   help="comma-separated tag keys every usage row must carry (a row without is an error); "
                        "default: untagged spend is counted and reported")
    p.add_argument("--no-jsonl", action="store_true", help="do not write anomalies.jsonl")
    p.add_argument("--seed", type=int, default=0, help="seed of the breach-probability sample paths")
    p.set_defaults(func=run)


def _owners(items: list[str]) -> dict[str, str]:
    out = {}
    for it in items:
        fam, sep, team = it.partition("=")
        if not sep or not fam.strip() or not team.strip():
            raise InputError(f"--owner '{it}' is not FAMILY=TEAM", column="--owner", fix="e.g. --owner h100=research")
        out[fam.strip()] = team.strip()
    return out


def run(args: argparse.Namespace) -> int:
    """Run the monitor and write its outputs."""
    from gpuplan.monitor.run import run_monitor, text_summary, write_monitor
    from scenarios.loader import load_scenario

    owners = _owners(args.owner)
    require = [k.strip().lower() for k in args.require_tags.split(",") if k.strip()]
    sc = load_scenario(args.scenario)
    with tempfile.TemporaryDirectory(prefix="gpuplan-monitor-") as tmp:
        bill = args.bill
        if bill == "synthetic":
            from scenarios.history import load_history
            from scenarios.synthetic import focus_export

            usage = load_history(sc).usage.dropna(subset=["gpus"])
            bill = str(Path(tmp) / f"synthetic_focus_{sc.name}.parquet")
            focus_export(usage, sc, seed=args.seed, path=bill)
            print(f"SYNTHETIC FOCUS export of scenario '{sc.name}' (real demand history, scenario prices)")
        elif not Path(bill).is_file():
            raise InputError("file not found", file=bill, fix="give the path of a FOCUS or CUR export, or 'synthetic'")
        result = run_monitor(bill, budget=args.budget, fmt=args.fmt, tz=args.tz, method=args.method,
                             idle=args.idle, owners=owners, shared_teams=args.shared_team, require_tags=require,
                             budget_usd_per_year=sc.policies.budget_usd_per_year, seed=args.seed)
        written = write_monitor(result, args.out, jsonl=not args.no_jsonl)
        if args.bill == "synthetic":    # keep the bill that was monitored beside the report
            import shutil

            shutil.copyfile(bill, Path(args.out) / Path(bill).name)
            written.append(Path(Path(bill).name))
    print(text_summary(result))
    print(f"\nMonitor: {Path(args.out).resolve() / 'monitor.html'} ({len(written)} files)")
    return 0
