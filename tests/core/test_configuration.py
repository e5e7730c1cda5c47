"""The configuration a newcomer reads (.env.example) matches what settings read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_documents_every_variable_settings_read():
    settings_source = (ROOT / "config/settings/base.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', settings_source))
    # The production web server's own settings (gunicorn.conf.py) are documented there too.
    server_source = (ROOT / "gunicorn.conf.py").read_text()
    read |= set(re.findall(r"os\.environ\.get\(\s*[\"']([A-Z_]+)[\"']", server_source))
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z_]+)=", example, flags=re.M))
    assert read == documented


def test_it_explains_every_documented_variable():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^[A-Z_]+=", line):
            assert lines[index - 1].startswith("# "), f"{line} has no explanation above it"
