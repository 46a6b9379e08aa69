"""Print (or, with --write, replace in README.md) the settings table, generated from the registry.

Usage: .venv/bin/python scripts/settings_table.py [--write]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cowkg.settings import CHECKOUT, SETTINGS  # noqa: E402

HEAD = "| setting | environment | default | what it does |\n|---|---|---|---|\n"


def table() -> str:
    rows = []
    checkout = str(CHECKOUT or ROOT)
    for s in SETTINGS:
        shared = str(Path(checkout).parent / "shared")
        if isinstance(s.default, str) and s.default.startswith(shared):
            rows.append(f"| `{s.name}` | `COWKG_{s.name.upper()}` | `'<checkout>/../shared{s.default[len(shared):]}'` "
                        f"(installed: `''`) | {s.help} |")
            continue
        default = f"`{repr(s.default).replace(checkout, '<checkout>')}`"
        if isinstance(s.default, str) and s.default.startswith(checkout + "/.cache"):
            default += f" (installed: `~/.cache/cowkg{s.default[len(checkout) + len('/.cache'):]}`)"
        rows.append(f"| `{s.name}` | `COWKG_{s.name.upper()}` | {default} | {s.help} |")
    return HEAD + "\n".join(rows) + "\n"


def main() -> None:
    text = table()
    if "--write" not in sys.argv:
        print(text, end="")
        return
    readme = ROOT / "README.md"
    content = readme.read_text(encoding="utf-8")
    start = content.index(HEAD)
    end = content.index("\n\n", start)
    readme.write_text(content[:start] + text.rstrip("\n") + content[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
