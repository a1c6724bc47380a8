"""Stage the web console for serving: copy web/src/ to web/dist/, the folder the local system serves
at `/` and the CDK app deploys.

There is no compiler: the console is plain HTML, CSS and native ES modules (docs/design.md, "Web
console"). This step exists so that what is served is a clean copy of exactly the shipped files, and
so that nothing in it can load a resource from another host: a source that names one fails the build.

    python web/build.py            # from the repository root; `make web` runs it
"""

from __future__ import annotations

import fcntl
import filecmp
import re
import shutil
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent
SOURCE = WEB / "src"
OUTPUT = WEB / "dist"
SHIPPED = {".html", ".css", ".js", ".svg"}
# Any scheme-qualified or protocol-relative address; namespace names are not fetched, so they pass.
REMOTE = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)
NAMESPACES = ("http://www.w3.org/2000/svg",)


def remote_references(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    for namespace in NAMESPACES:
        text = text.replace(namespace, "")
    return [match.group(0) for match in REMOTE.finditer(text)]


def build() -> list[str]:
    problems: list[str] = []
    for path in sorted(SOURCE.rglob("*")):
        if path.is_file():
            if path.suffix not in SHIPPED:
                problems.append(
                    f"{path.relative_to(WEB)}: not a shipped kind of file ({', '.join(sorted(SHIPPED))})"
                )
            else:
                problems += [
                    f"{path.relative_to(WEB)}: names another host: {ref}" for ref in remote_references(path)
                ]
    if problems:
        return problems
    # One build at a time (parallel test workers stage it too), and a copy already identical to the
    # sources is left alone, so a running local system never sees the folder vanish.
    with open(WEB / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if OUTPUT.is_dir() and _same_tree(SOURCE, OUTPUT):
            return []
        staging = WEB / "dist.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(SOURCE, staging)
        shutil.rmtree(OUTPUT, ignore_errors=True)
        staging.rename(OUTPUT)
    return []


def _same_tree(left: Path, right: Path) -> bool:
    files = {p.relative_to(left) for p in left.rglob("*") if p.is_file()}
    if files != {p.relative_to(right) for p in right.rglob("*") if p.is_file()}:
        return False
    return all(filecmp.cmp(left / f, right / f, shallow=False) for f in files)


def main() -> int:
    problems = build()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"web console staged in {OUTPUT.relative_to(WEB.parent)}/")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
