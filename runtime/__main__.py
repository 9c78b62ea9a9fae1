"""`python -m runtime serve [options]`: the runtime in the foreground.

What `gloam runtime start` runs in the background (see `runtime.daemon`), and
what `gloam runtime serve` runs in the foreground. The options are
`runtime.options`'.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from runtime import daemon
from runtime.config import RuntimeConfig
from runtime.control.app import serve
from runtime.options import add_runtime_options, config_from_args


def serve_foreground(config: RuntimeConfig) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(serve(config))
    except daemon.DataFolderTaken as e:
        print(f"gloam: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(
            f"gloam: cannot listen: {e}. Is another runtime using the port? "
            "Pick others with --port and --editor-port.",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime",
                                     description="the Gloam runtime in the foreground")
    parser.add_argument("action", choices=["serve"])
    add_runtime_options(parser)
    args = parser.parse_args(argv)
    return serve_foreground(config_from_args(args))


if __name__ == "__main__":
    sys.exit(main())
