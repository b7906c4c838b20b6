"""`--plot FILE`: demand vs capacity over time and cumulative cost, one line per policy.

A `.html` file gets a self-contained page with inline SVG (no JavaScript, no network); anything
else is rendered by matplotlib's Agg backend (the `plot` extra). `check_plot_path` runs before the
simulation, so a missing folder, an extension matplotlib cannot write or a missing matplotlib is an
error in a second, not after the whole run.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from autoscaler.sim.runner import PolicyResult, Timeline

PLOT_EXTRA_HINT = "pip install 'emr-autoscaler[plot]'"


class PlotError(ValueError):
    """A `--plot` path that cannot be written, found before the run starts."""


def check_plot_path(path: str | Path) -> None:
    """Raise PlotError unless `path` can be written: its folder exists, and matplotlib is installed
    and writes its extension (HTML needs nothing)."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise PlotError(f"--plot {path}: folder {folder} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return
    try:
        from matplotlib.backend_bases import FigureCanvasBase  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise PlotError(
            f"--plot {path}: writing {suffix or 'an extension-less file'} needs matplotlib, the 'plot' extra: "
            f"{PLOT_EXTRA_HINT} (or write a .html plot, which needs nothing)"
        ) from None
    supported = sorted(FigureCanvasBase.get_supported_filetypes())
    if suffix.lstrip(".") not in supported:
        raise PlotError(
            f"--plot {path}: unsupported extension {suffix or '(none)'}; use .html or one of "
            + ", ".join(f".{ext}" for ext in supported)
        )


_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def write_plot(path: str | Path, results: Sequence[PolicyResult], title: str = "") -> None:
    path = Path(path)
    runs = [(r.policy, r.timeline) for r in results if r.timeline is not None and r.timeline.t_s]
    if path.suffix.lower() in (".html", ".htm"):
        path.write_text(_html(runs, title), encoding="utf-8")
    else:
        _matplotlib(path, runs, title)


def _matplotlib(path: Path, runs: Sequence[tuple[str, Timeline]], title: str) -> None:
    import matplotlib  # noqa: PLC0415 - optional dependency, only for --plot

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for i, (name, tl) in enumerate(runs):
        hours = [t / 3600 for t in tl.t_s]
        colour = _COLOURS[i % len(_COLOURS)]
        if i == 0:
            ax1.plot(hours, [d / 1024 for d in tl.demand_mb], color="black", lw=0.8, label="demand (first policy)")
        ax1.plot(hours, [c / 1024 for c in tl.capacity_mb], color=colour, lw=1, label=f"capacity: {name}")
        ax2.plot(hours, tl.cost_usd, color=colour, lw=1.2, label=name)
    ax1.set_ylabel("YARN memory (GiB)")
    ax1.legend(fontsize=8)
    ax2.set_ylabel("cumulative cost (USD)")
    ax2.set_xlabel("simulated hours")
    ax2.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _polyline(
    xs: Sequence[float], ys: Sequence[float], *, x_max: float, y_max: float, colour: str, w: int, h: int
) -> str:
    pts = " ".join(
        f"{50 + x / x_max * (w - 60):.1f},{h - 25 - y / y_max * (h - 40):.1f}" for x, y in zip(xs, ys, strict=True)
    )
    return f'<polyline fill="none" stroke="{colour}" stroke-width="1.2" points="{pts}"/>'


def _panel(series: Sequence[tuple[str, str, Sequence[float], Sequence[float]]], label: str) -> str:
    w, h = 900, 300
    x_max = max((max(xs) for _, _, xs, _ in series if xs), default=1.0) or 1.0
    y_max = max((max(ys) for _, _, _, ys in series if ys), default=1.0) or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-size="11">']
    parts.append(f'<line x1="50" y1="{h - 25}" x2="{w - 10}" y2="{h - 25}" stroke="#999"/>')
    parts.append(f'<line x1="50" y1="15" x2="50" y2="{h - 25}" stroke="#999"/>')
    parts.append(f'<text x="55" y="12">{html.escape(label)} (max {y_max:.1f})</text>')
    parts.append(f'<text x="{w - 120}" y="{h - 8}">hours (max {x_max:.1f})</text>')
    for i, (name, colour, xs, ys) in enumerate(series):
        parts.append(_polyline(xs, ys, x_max=x_max, y_max=y_max, colour=colour, w=w, h=h))
        parts.append(f'<text x="{w - 260}" y="{30 + 14 * i}" fill="{colour}">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html(runs: Sequence[tuple[str, Timeline]], title: str) -> str:
    mem: list[tuple[str, str, Sequence[float], Sequence[float]]] = []
    cost: list[tuple[str, str, Sequence[float], Sequence[float]]] = []
    for i, (name, tl) in enumerate(runs):
        hours = [t / 3600 for t in tl.t_s]
        colour = _COLOURS[i % len(_COLOURS)]
        if i == 0:
            mem.append(("demand", "#000000", hours, [d / 1024 for d in tl.demand_mb]))
        mem.append((f"capacity: {name}", colour, hours, [c / 1024 for c in tl.capacity_mb]))
        cost.append((name, colour, hours, list(tl.cost_usd)))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{_panel(mem, 'YARN memory GiB')}"
        f"{_panel(cost, 'cumulative cost USD')}</body></html>\n"
    )
