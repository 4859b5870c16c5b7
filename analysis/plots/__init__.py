"""What the figure scripts share (a package, not a script: every analysis/*.py answers --help). save_png: the
figure written as ``<out>.png`` (its folder created) and closed."""

from __future__ import annotations

from pathlib import Path


def save_png(fig, out: Path, dpi: int = 130) -> Path:
    import matplotlib.pyplot as plt

    path = Path(out).with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
