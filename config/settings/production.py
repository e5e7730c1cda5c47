"""The settings Cue runs with: everything comes from the environment (.env.example)."""

from config.settings.base import *  # noqa: F403
