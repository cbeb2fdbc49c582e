"""The report's two kinds of plot, a bar chart of counts and a line over time, as inline SVG.

Drawn directly: the plots are a handful of rectangles, a polyline, ticks and labels, and matplotlib's
import and rendering cost a run's closure about a second (D55). Every number is formatted with fixed
precision and every label escaped, so the same bundle draws the same bytes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT = 420, 230
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 24, 56
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
FONT = 'font-family="sans-serif" font-size="10"'


def _step(top: float) -> float:
    """A 1-2-5 tick step giving about four ticks up to ``top``."""
    raw = top / 4 if top > 0 else 1.0
    magnitude: float = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _frame(title: str, top: float, x_label: str = "", y_label: str = "") -> tuple[list[str], float]:
    """The SVG's opening, title, y axis with its ticks and grid; and the y scale's upper end."""
    step = _step(top)
    upper = step * max(1, math.ceil(top / step))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
             f'<text x="{WIDTH / 2:.1f}" y="14" text-anchor="middle" {FONT} font-weight="bold">{escape(title)}</text>']
    for i in range(round(upper / step) + 1):
        y = TOP + PLOT_H - PLOT_H * (i * step) / upper
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + PLOT_W}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end" {FONT}>{_number(i * step)}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + PLOT_H}" stroke="#333"/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP + PLOT_H}" x2="{LEFT + PLOT_W}" y2="{TOP + PLOT_H}" stroke="#333"/>')
    if x_label:
        parts.append(f'<text x="{LEFT + PLOT_W / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle" {FONT}>'
                     f'{escape(x_label)}</text>')
    if y_label:
        parts.append(f'<text transform="translate(11 {TOP + PLOT_H / 2:.1f}) rotate(-90)" text-anchor="middle" '
                     f'{FONT}>{escape(y_label)}</text>')
    return parts, upper


def bars(title: str, counts: Mapping[str, int | float], color: str) -> str:
    """One bar per key, in the mapping's order, each labelled with its value."""
    parts, upper = _frame(title, max(counts.values(), default=0))
    band = PLOT_W / max(len(counts), 1)
    for i, (label, value) in enumerate(counts.items()):
        h = PLOT_H * value / upper
        x, y = LEFT + band * i + band * 0.15, TOP + PLOT_H - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{band * 0.7:.1f}" height="{h:.1f}" fill="{escape(color)}">'
                     f'<title>{escape(str(label))}: {_number(value)}</title></rect>')
        parts.append(f'<text x="{x + band * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle" {FONT}>'
                     f'{_number(value)}</text>')
        cx, cy = LEFT + band * (i + 0.5), TOP + PLOT_H + 12
        parts.append(f'<text transform="translate({cx:.1f} {cy:.1f}) rotate(-30)" text-anchor="end" {FONT}>'
                     f'{escape(str(label))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def line(title: str, xs: Sequence[float], ys: Sequence[float], x_label: str, y_label: str, color: str) -> str:
    """``ys`` over ``xs`` as one polyline, x ticks at about five places."""
    parts, upper = _frame(title, max(ys, default=0), x_label, y_label)
    right = max(xs, default=0) or 1.0
    at = [(f"{LEFT + PLOT_W * x / right:.1f}", f"{TOP + PLOT_H - PLOT_H * y / upper:.1f}")
          for x, y in zip(xs, ys, strict=True)]
    points = " ".join(f"{x},{y}" for x, y in at)
    parts.append(f'<polyline points="{points}" fill="none" stroke="{escape(color)}" stroke-width="1.5"/>')
    if len(at) <= 60:  # few points (a short run): each one marked, so a single bucket still shows
        parts.extend(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{escape(color)}"/>' for x, y in at)
    step = _step(right * 4 / 5)
    for i in range(int(right / step + 1e-9) + 1):
        x = LEFT + PLOT_W * (i * step) / right
        parts.append(f'<text x="{x:.1f}" y="{TOP + PLOT_H + 12}" text-anchor="middle" {FONT}>'
                     f'{_number(i * step)}</text>')
    parts.append("</svg>")
    return "".join(parts)
