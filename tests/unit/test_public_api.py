"""The public surface is listed in one place and cannot change without the changelog saying so."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import fraud_platform
from fraud_platform._surface import digest, surface

ROOT = Path(__file__).resolve().parents[2]
LISTED = ROOT / "docs" / "public_api.txt"


def test_public_surface_matches_the_listed_one() -> None:
    listed, actual = LISTED.read_text(), surface()
    diff = "".join(difflib.unified_diff(listed.splitlines(True), actual.splitlines(True), "listed", "actual"))
    assert actual == listed, (
        f"the public API changed:\n{diff}\nIf intended: `python -m fraud_platform._surface > docs/public_api.txt`, "
        f"bump the version and add a CHANGELOG.md entry naming `Public API digest: `{digest(actual)}``.")


def test_the_newest_changelog_entry_names_the_listed_surface_and_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    newest = changelog.split("\n## ")[1]
    version = newest.splitlines()[0].strip()
    assert version == fraud_platform.__version__, (version, fraud_platform.__version__)
    named = re.search(r"Public API digest: `([0-9a-f]{16})`", newest)
    assert named and named.group(1) == digest(LISTED.read_text()), "CHANGELOG.md does not announce this surface"


def test_every_public_name_is_documented_and_importable() -> None:
    undocumented = [n for n in fraud_platform.__all__
                    if callable(getattr(fraud_platform, n)) and not getattr(fraud_platform, n).__doc__]
    assert undocumented == [], undocumented
