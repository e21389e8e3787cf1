"""Print `name==version` for the closure of pyproject's runtime dependencies, as installed."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement


def closure() -> dict[str, str]:
    """Normalised name -> installed version, for every runtime dependency and theirs."""
    pyproject = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))
    todo = [Requirement(d) for d in pyproject["project"]["dependencies"]]
    seen: dict[str, str] = {}
    while todo:
        req = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        if name in seen:
            continue
        dist = metadata.distribution(req.name)
        seen[name] = dist.version
        todo.extend(Requirement(r) for r in dist.requires or [])
    return seen


if __name__ == "__main__":
    for name, version in sorted(closure().items()):
        print(f"{name}=={version}")
