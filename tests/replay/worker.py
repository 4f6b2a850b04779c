"""A projection worker process for the crash test: catches up, then exits 0.

Configured like production, by ``COFFRE_*`` variables; prints ``ready`` once built so
the test kills it while it works rather than while Python imports modules.
"""

from __future__ import annotations

import os

from coffre.bootstrap import build
from vault.settings import Settings


def main() -> None:
    """Catch every projection up in small batches (many commits to be killed between)."""
    coffre = build(Settings())
    coffre.runner.batch_size = int(os.environ.get("WORKER_BATCH", "50"))
    print("ready", flush=True)
    coffre.runner.catch_up()
    coffre.close()


if __name__ == "__main__":
    main()
