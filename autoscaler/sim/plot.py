"""`--plot FILE`: demand vs capacity over time and cumulative cost, one line per policy, drawn by matplotlib.

One renderer for every format (the `plot` extra): `.png`, `.svg`, `.pdf` and the other formats
matplotlib writes come from `Figure.savefig`; `.html` is the same figure as inline SVG in a
self-contained page (no JavaScript, no network). `check_plot_path` runs before the simulation, so a
missing folder, an extension matplotlib cannot write or a missing matplotlib is an error in a
second, not after the whole run.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from autoscaler.sim.runner import PolicyResult, Timeline

if TYPE_CHECKING:  # matplotlib is optional: imported at run time only when a plot is written
    from matplotlib.figure import Figure

PLOT_EXTRA_HINT = "pip install 'emr-autoscaler[plot]'"
HTML_SUFFIXES = (".html", ".htm")


class PlotError(ValueError):
    """A `--plot` path that cannot be written, found before the run starts."""


def check_plot_path(path: str | Path) -> None:
    """Raise PlotError unless `path` can be written: its folder exists, and matplotlib is installed
    and writes its extension (`.html` is matplotlib's SVG in a page)."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise PlotError(f"--plot {path}: folder {folder} does not exist")
    suffix = path.suffix.lower()
    try:
        from matplotlib.backend_bases import FigureCanvasBase  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise PlotError(
            f"--plot {path}: writing {suffix or 'an extension-less file'} needs matplotlib, the 'plot' extra: "
            f"{PLOT_EXTRA_HINT}"
        ) from None
    supported = sorted(FigureCanvasBase.get_supported_filetypes())
    if suffix not in HTML_SUFFIXES and suffix.lstrip(".") not in supported:
        raise PlotError(
            f"--plot {path}: unsupported extension {suffix or '(none)'}; use .html or one of "
            + ", ".join(f".{ext}" for ext in supported)
        )


_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def write_plot(path: str | Path, results: Sequence[PolicyResult], title: str = "") -> None:
    path = Path(path)
    runs = [(r.policy, r.timeline) for r in results if r.timeline is not None and r.timeline.t_s]
    fig = _figure(runs, title)
    if path.suffix.lower() in HTML_SUFFIXES:
        svg = io.StringIO()
        fig.savefig(svg, format="svg")
        body = svg.getvalue()
        body = body[body.index("<svg") :]  # drop the XML prolog and DOCTYPE: the SVG is inline
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body>{body}</body></html>\n"
        )
        path.write_text(page, encoding="utf-8")
    else:
        fig.savefig(path, dpi=110)


def _figure(runs: Sequence[tuple[str, Timeline]], title: str) -> Figure:
    """The two panels. A bare `Figure` (no pyplot): no global state, no GUI backend is ever chosen."""
    from matplotlib.figure import Figure  # noqa: PLC0415 - optional dependency, only for --plot

    fig = Figure(figsize=(11, 7))
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
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
    return fig
