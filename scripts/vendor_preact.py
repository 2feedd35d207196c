"""Copy Preact and htm from node_modules (pinned by package-lock.json) into web/static/vendor.

The browsers load them as they are, with no build step: the only change is that Preact's
hooks import Preact by relative path (``./preact.mjs``) instead of the bare name ``preact``,
which a browser could only resolve through an inline import map the CSP would refuse.
Beside each module a one-line ``.d.mts`` points TypeScript's checkJs at the package's own
types in node_modules (the browsers never load those).
``--check`` (run by scripts/test) fails when the vendored files differ from what this writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "node_modules"
VENDOR = ROOT / "web" / "static" / "vendor" / "preact"

BARE_IMPORT = 'from"preact"'
RELATIVE_IMPORT = 'from"./preact.mjs"'


def version(package: str) -> str:
    return str(json.loads((MODULES / package / "package.json").read_text())["version"])


def wanted() -> dict[str, str]:
    """Each vendored file's name and its text."""
    hooks = (MODULES / "preact" / "hooks" / "dist" / "hooks.mjs").read_text()
    if BARE_IMPORT not in hooks:
        raise SystemExit("preact/hooks no longer imports preact as expected: check the rewrite")
    return {
        "preact.mjs": (MODULES / "preact" / "dist" / "preact.mjs").read_text(),
        "hooks.mjs": hooks.replace(BARE_IMPORT, RELATIVE_IMPORT),
        "htm.mjs": (MODULES / "htm" / "dist" / "htm.mjs").read_text(),
        "LICENSE-preact": (MODULES / "preact" / "LICENSE").read_text(),
        "LICENSE-htm": (MODULES / "htm" / "LICENSE").read_text(),
        "preact.d.mts": 'export * from "preact";\n',
        "hooks.d.mts": 'export * from "preact/hooks";\n',
        "htm.d.mts": 'export { default } from "htm";\n',
        "VERSION": f"preact {version('preact')}\nhtm {version('htm')}\n",
    }


def main(argv: list[str]) -> int:
    files = wanted()
    if "--check" in argv:
        stale = [
            name
            for name, text in files.items()
            if not (VENDOR / name).is_file() or (VENDOR / name).read_text() != text
        ]
        if stale:
            print(f"web/static/vendor/preact is stale ({', '.join(stale)}):", file=sys.stderr)
            print("run .venv/bin/python scripts/vendor_preact.py", file=sys.stderr)
            return 1
        return 0
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (VENDOR / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
