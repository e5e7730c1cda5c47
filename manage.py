#!/usr/bin/env python
import os
import sys


def _development_unless_configured() -> None:
    """A fresh checkout runs manage.py in development (DEBUG on, a throwaway SECRET_KEY)
    when neither the environment nor the settings file (.env, or CUE_ENV_FILE's) says how
    production runs: DEBUG or SECRET_KEY given there means production settings, which
    refuse to start without their required values."""
    from config.env_file import env_file_read

    env_file_read()
    if "DEBUG" not in os.environ and "SECRET_KEY" not in os.environ:
        os.environ["DEBUG"] = "true"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    _development_unless_configured()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
