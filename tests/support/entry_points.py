"""The entry points ``pyproject.toml`` declares, as an installed distribution would carry them.

Tests that exercise plugin loading (lm-eval's upstream entry points, Inspect's ``inspect_ai`` group) write
a ``.dist-info`` with exactly these entry points into a folder and put that folder on ``PYTHONPATH``, so a
checkout that is not installed (or installed from an older commit) is found the way a wheel would be.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def declared() -> dict[str, dict[str, str]]:
    """``[project.entry-points]`` of ``pyproject.toml``: group → name → target (Python 3.11+: tomllib)."""
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["entry-points"]


def write_dist_info(site: Path, dist: str) -> Path:
    """An installed distribution ``dist`` in ``site`` carrying exactly the declared entry points."""
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", "utf-8")
    sections = [
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in points.items())
        for group, points in declared().items()
    ]
    (info / "entry_points.txt").write_text("\n".join(sections), "utf-8")
    return site
