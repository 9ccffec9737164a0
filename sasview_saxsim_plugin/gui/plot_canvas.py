"""A matplotlib canvas for the perspectives: log-log I(q) with a residual panel below."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure


class CurveCanvas(FigureCanvasQTAgg):
    """Upper panel: curves on log-log axes (q in 1/Å); lower panel: a residual per point."""

    def __init__(self, parent=None, residual_label: str = "residual"):
        self.figure = Figure(figsize=(5.5, 4.5), layout="constrained")
        super().__init__(self.figure)
        self.setParent(parent)
        grid = self.figure.add_gridspec(2, 1, height_ratios=(3, 1))
        self.ax = self.figure.add_subplot(grid[0])
        self.ax_res = self.figure.add_subplot(grid[1], sharex=self.ax)
        self.residual_label = residual_label
        self.clear()

    def clear(self, message: str = "") -> None:
        """Empty axes, with ``message`` in the middle when given."""
        for ax in (self.ax, self.ax_res):
            ax.cla()
        self.ax.set_ylabel("I(q)")
        self.ax_res.set_xlabel("q (1/Å)")
        self.ax_res.set_ylabel(self.residual_label)
        if message:
            self.ax.text(0.5, 0.5, message, ha="center", va="center",
                         transform=self.ax.transAxes, wrap=True)
        self.draw_idle()

    def show_curves(self, curves: list[dict], residual: dict | None = None,
                    title: str = "", y_label: str = "I(q)") -> None:
        """Each curve: dict(q=, i=, di=None, label=, style='line'|'points'). ``residual``:
        dict(q=, r=, label=) drawn in the lower panel with a zero line."""
        for ax in (self.ax, self.ax_res):
            ax.cla()
        for c in curves:
            q, i = np.asarray(c["q"]), np.asarray(c["i"])
            keep = (q > 0) & (i > 0) & np.isfinite(i)
            if c.get("style") == "points":
                di = c.get("di")
                self.ax.errorbar(q[keep], i[keep],
                                 yerr=None if di is None else np.asarray(di)[keep],
                                 fmt="o", ms=3, lw=0.8, alpha=0.7, label=c.get("label"),
                                 color=c.get("color", "0.35"))
            else:
                self.ax.plot(q[keep], i[keep], lw=1.6, label=c.get("label"),
                             color=c.get("color"), ls=c.get("ls", "-"))
        self.ax.set_xscale("log")
        self.ax.set_yscale("log")
        self.ax.set_ylabel(y_label)
        if title:
            self.ax.set_title(title, fontsize=10)
        if curves:
            self.ax.legend(fontsize=8, loc="lower left")
        self.ax_res.axhline(0.0, color="0.5", lw=0.8)
        if residual is not None:
            self.ax_res.plot(residual["q"], residual["r"], ".", ms=3, color="C3",
                             label=residual.get("label"))
        self.ax_res.set_xlabel("q (1/Å)")
        self.ax_res.set_ylabel(residual.get("label", self.residual_label)
                               if residual else self.residual_label)
        self.draw_idle()
