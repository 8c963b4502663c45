"""python -m cluster start|stop|status: see cluster/__init__.py (make cluster, make cluster-stop)."""

import argparse
import os
import sys
from pathlib import Path

from . import ClusterError, _pids, start, stop, urls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster",
                                     description="a local OpenSearch cluster, one JVM a node, on 127.0.0.1")
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--dir", default=".cluster", help="where the nodes keep data, logs, pids (default .cluster)")
    parser.add_argument("--nodes", type=int, default=3, help="start: how many nodes (default 3)")
    parser.add_argument("--heap", default="512m", help="start: heap of each node (default 512m)")
    parser.add_argument("--timeout", type=float, default=120.0, help="start: seconds to wait for green (default 120)")
    parser.add_argument("--log-level", default=os.environ.get("CLUSTER_LOG_LEVEL") or "info",
                        help="start: the nodes' log level (default info, or $CLUSTER_LOG_LEVEL)")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            found = start(args.nodes, args.dir, heap=args.heap, timeout=args.timeout,
                          log_level=args.log_level, quiet=False)
            print(",".join(found))  # the URL last, on stdout: URL=$(python -m cluster start)
        elif args.command == "stop":
            stopped = stop(args.dir, quiet=False)
            print(f"stopped {len(stopped)} node(s)" if stopped else f"no cluster running in {args.dir}",
                  file=sys.stderr)
        else:
            found = urls(args.dir)
            if not found:
                part = _pids(Path(args.dir).resolve()) if os.path.isdir(args.dir) else {}
                print(f"no whole cluster running in {args.dir}" + (
                      ": only " + ", ".join(f"node-{k} (pid {p})" for k, p in sorted(part.items()))
                      if part else ""), file=sys.stderr)
                return 1
            print(",".join(found))
    except ClusterError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
