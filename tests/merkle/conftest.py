"""Make the project root importable for ``tests/merkle``.

The project is not installed in ``.venv`` and pytest's config sets no ``pythonpath``,
so ``import domain`` fails under ``.venv/bin/pytest``. This shim goes away once the
lead adds ``pythonpath = ["."]`` to ``[tool.pytest.ini_options]`` (or installs the
project); it only touches ``sys.path`` when ``domain`` is not importable already.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("domain") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
