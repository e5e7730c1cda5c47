"""The settings file read before the environment: `.env` in the checkout, unless
CUE_ENV_FILE names another one (empty: none). manage.py and the settings read the same file,
so what manage.py decides (development or production) is what the settings then see."""

import os
from pathlib import Path

import environ

DEFAULT = Path(__file__).resolve().parent.parent / ".env"


def env_file_read() -> None:
    """Puts the file's variables into the environment, never over one already set there."""
    path = os.environ.get("CUE_ENV_FILE", str(DEFAULT))
    if path:
        environ.Env.read_env(path, overwrite=False)
