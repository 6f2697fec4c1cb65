"""Runner results on disk: JSON rewritten atomically, so a killed runner leaves its last whole record."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json(path: Path, data: Any) -> None:
    """Write data as JSON through a temp file renamed over path (values JSON cannot hold become str)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, default=str), encoding="utf-8")
    os.replace(tmp, path)
