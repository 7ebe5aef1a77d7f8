"""The entry point: parse options, run in a fresh work directory, print the table."""

from __future__ import annotations

import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from bench.options import parse_options
from bench.report import render, render_json
from bench.runner import run


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C does, so every process started is stopped on the way out.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; 0 on success."""
    options = parse_options(argv)
    signal.signal(signal.SIGTERM, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="fengqiao-bench-"))
    keep = options.keep
    try:
        result = run(options, workdir)
    except KeyboardInterrupt:
        print("bench: interrupted; everything it started has been stopped", file=sys.stderr)
        keep = True
        return 130
    except Exception as exc:  # any failure: report it, keep the logs to look at
        print(f"bench: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        keep = True
        return 1
    finally:
        if keep:
            print(f"bench: logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(render_json(result) if options.json else render(result))
    return 0
