"""The vendored jsQR (web/static/vendor/jsqr, served to the check-in page) is the npm package
pinned in package.json, unaltered, with its licence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "web" / "static" / "vendor" / "jsqr"
PACKAGE = ROOT / "node_modules" / "jsqr"


def test_the_vendored_copy_is_the_pinned_package_unaltered() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["jsqr"]
    assert (VENDOR / "VERSION").read_text().startswith(f"jsqr@{pinned} from npm, sha512-")
    assert "vendor jsqr" in (ROOT / "scripts" / "vendor-js").read_text()
    assert f'JSQR_VERSION="{pinned}"' in (ROOT / "scripts" / "vendor-js").read_text()
    if not (PACKAGE / "package.json").is_file():
        pytest.fail("node_modules/jsqr is missing: run npm ci (scripts/test does)")
    assert json.loads((PACKAGE / "package.json").read_text())["version"] == pinned
    assert (VENDOR / "jsQR.js").read_bytes() == (PACKAGE / "dist" / "jsQR.js").read_bytes()
    assert (VENDOR / "LICENSE").read_bytes() == (PACKAGE / "LICENSE").read_bytes()
