"""Where the archive lives: ``--data-dir`` > ``$REVIEWS_DATA`` > the platform's data dir."""
from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "review-archive"
ENV_VAR = "REVIEWS_DATA"
ARCHIVE_FILE = "archive.sqlite3"


def data_dir(explicit: str | Path | None = None) -> Path:
    """The data directory, created if missing."""
    if explicit:
        path = Path(explicit)
    elif os.environ.get(ENV_VAR):
        path = Path(os.environ[ENV_VAR])
    else:
        import platformdirs  # only here: most commands are given the folder

        path = Path(platformdirs.user_data_dir(APP_NAME))
    path = path.expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def archive_path(directory: str | Path) -> Path:
    return Path(directory) / ARCHIVE_FILE
