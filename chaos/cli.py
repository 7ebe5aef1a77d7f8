"""The entry point: parse options, run the campaign in a fresh work directory, print the table."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from chaos.campaign import QUICK, Timing, run_campaign
from chaos.faults import FAULTS, FAULTS_BY_KEY
from chaos.report import render, write_into


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C does, so every process started is stopped on the way out.
    raise SystemExit(128 + signum)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m chaos",
        description="Break the running system one fault at a time and check what it did with"
        " every report.",
    )
    parser.add_argument(
        "--rows",
        default=",".join(f.key for f in FAULTS),
        help=f"faults to run, in order, comma-separated (default all: {', '.join(FAULTS_BY_KEY)})",
    )
    parser.add_argument(
        "--docs", type=Path, default=None, help="write the table into this Markdown file"
    )
    parser.add_argument("--quick", action="store_true", help="shorter rows (as the tests run)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    namespace = parser.parse_args(argv)
    unknown = [key for key in namespace.rows.split(",") if key not in FAULTS_BY_KEY]
    if unknown:
        parser.error(f"unknown rows: {', '.join(unknown)}")
    return namespace


def main(argv: Sequence[str] | None = None) -> int:
    """Run the campaign; 0 if every row passed, 1 if one failed, 2 if it could not run."""
    options = parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    timing = QUICK if options.quick else Timing()
    faults = [FAULTS_BY_KEY[key] for key in options.rows.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="fengqiao-chaos-"))
    keep = options.keep
    try:
        result = run_campaign(workdir=workdir, faults=faults, timing=timing)
    except (KeyboardInterrupt, SystemExit) as exc:  # Ctrl-C, or SIGTERM (see _terminate)
        print("chaos: interrupted; everything it started has been stopped", file=sys.stderr)
        keep = True
        return exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 130
    except Exception as exc:  # any failure: report it, keep the logs to look at
        print(f"chaos: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        keep = True
        return 2
    finally:
        if keep:
            print(f"chaos: logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    rendered = render(result, timing)
    print(rendered)
    if options.docs is not None:
        write_into(options.docs, rendered)
        print(f"chaos: the table is in {options.docs}", file=sys.stderr)
    return 0 if all(row.passed for row in result.rows) else 1
