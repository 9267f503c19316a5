#!/usr/bin/env python3
"""Plots how the ledger's costs grow with its size: one panel per metric, log-scale entries on x.

Reads a CSV with the header ``entries,metric,value`` (default ``benches/growth.csv``), one
measurement per row, for example::

    entries,metric,value
    10000,history_p99_us,182
    100000,history_p99_us,240
    100000,verify_entries_per_s,5210

Metrics are free-form names; the suffix gives the unit shown: ``_us`` (microseconds), ``_ms``,
``_per_s`` (per second), ``_bytes_per_entry``, ``_mb`` (MiB). Repeated rows for one size and
metric (several runs) are drawn as dots, joined by a line through their median.

Writes ``docs/growth.png`` with matplotlib when it can be imported, and otherwise (or with
``--format svg``) ``docs/growth.svg``, drawn with the standard library alone.

Usage: python3 benches/plot_growth.py [--csv FILE] [--out FILE] [--format svg|png]
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from collections import OrderedDict
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent

# Suffix -> (unit label, how to read the metric's name without it). Longest suffix first.
UNITS = [
    ("_bytes_per_entry", "bytes per entry"),
    ("_per_s", "per second"),
    ("_us", "µs"),
    ("_ms", "ms"),
    ("_mb", "MiB"),
]

Series = "OrderedDict[str, dict[int, list[float]]]"


def read(path: Path) -> Series:
    """Metric -> entries -> values, metrics in the order the file first names them."""
    out: Series = OrderedDict()
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"entries", "metric", "value"} - set(reader.fieldnames or [])
        if missing:
            sys.exit(f"{path}: the header needs entries,metric,value (missing {sorted(missing)})")
        for line, row in enumerate(reader, start=2):
            try:
                entries = int(float(row["entries"]))
                value = float(row["value"])
            except (TypeError, ValueError):
                sys.exit(f"{path}:{line}: entries and value must be numbers, got {row}")
            if entries <= 0:
                sys.exit(f"{path}:{line}: entries must be positive on a log scale, got {entries}")
            metric = (row["metric"] or "").strip()
            if not metric:
                sys.exit(f"{path}:{line}: empty metric name")
            out.setdefault(metric, {}).setdefault(entries, []).append(value)
    if not out:
        sys.exit(f"{path}: no rows")
    return out


def title(metric: str) -> str:
    def words(name: str) -> str:
        return " ".join("RSS" if w == "rss" else w for w in name.split("_"))

    for suffix, unit in UNITS:
        if metric.endswith(suffix):
            return f"{words(metric[: -len(suffix)])} ({unit})"
    return words(metric)


def si(v: float) -> str:
    """A short tick label: 1k, 10k, 1M… for round values, else 3 significant digits."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            q = v / div
            return f"{q:g}{suffix}" if q == round(q, 2) else f"{q:.3g}{suffix}"
    return f"{v:g}" if v == round(v, 3) else f"{v:.3g}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round-numbered ticks covering [lo, hi]."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < hi:
        ticks.append(ticks[-1] + step)
    return ticks


def decades(lo: int, hi: int) -> list[float]:
    """Powers of ten spanning [lo, hi] (at least two, so a single size still gets an axis)."""
    a = math.floor(math.log10(lo))
    b = math.ceil(math.log10(hi))
    if b == a:
        b += 1
    return [10.0**k for k in range(a, b + 1)]


def svg(series: Series, out: Path) -> None:
    cols = 2 if len(series) > 1 else 1
    rows = math.ceil(len(series) / cols)
    pw, ph = 440, 270  # panel size
    ml, mr, mt, mb = 64, 16, 34, 40  # margins inside a panel
    width, height = cols * pw, rows * ph + 30
    all_entries = [e for m in series.values() for e in m]
    xt = decades(min(all_entries), max(all_entries))
    lx0, lx1 = math.log10(xt[0]), math.log10(xt[-1])

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">'
        "custody: cost against ledger size (entries, log scale)</text>",
    ]
    for i, (metric, points) in enumerate(series.items()):
        ox, oy = (i % cols) * pw, 30 + (i // cols) * ph
        x0, x1 = ox + ml, ox + pw - mr
        y0, y1 = oy + ph - mb, oy + mt  # y0 is the bottom
        values = [v for vs in points.values() for v in vs]
        lo = min(0.0, min(values))
        yt = nice_ticks(lo, max(values))

        def px(e: float) -> float:
            return x0 + (math.log10(e) - lx0) / (lx1 - lx0) * (x1 - x0)

        def py(v: float) -> float:
            return y0 - (v - yt[0]) / (yt[-1] - yt[0]) * (y0 - y1)

        parts.append(
            f'<text x="{(x0 + x1) / 2}" y="{oy + 20}" text-anchor="middle" font-size="12" '
            f'font-weight="bold">{escape(title(metric))}</text>'
        )
        # Grid: decades and the minor steps 2…9 on x, the ticks on y.
        for k, d in enumerate(xt):
            x = px(d)
            parts.append(f'<line x1="{x:.1f}" y1="{y1}" x2="{x:.1f}" y2="{y0}" stroke="#ccc"/>')
            parts.append(
                f'<text x="{x:.1f}" y="{y0 + 14}" text-anchor="middle">{si(d)}</text>'
            )
            if k + 1 < len(xt):
                for m in range(2, 10):
                    x = px(d * m)
                    parts.append(
                        f'<line x1="{x:.1f}" y1="{y1}" x2="{x:.1f}" y2="{y0}" stroke="#eee"/>'
                    )
        for t in yt:
            y = py(t)
            parts.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}" stroke="#ddd"/>')
            parts.append(f'<text x="{x0 - 5}" y="{y + 4:.1f}" text-anchor="end">{si(t)}</text>')
        parts.append(
            f'<rect x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}" fill="none" '
            'stroke="#444"/>'
        )
        parts.append(
            f'<text x="{(x0 + x1) / 2}" y="{y0 + 30}" text-anchor="middle" fill="#555">'
            "entries</text>"
        )
        sizes = sorted(points)
        medians = [(e, statistics.median(points[e])) for e in sizes]
        path = " ".join(f"{px(e):.1f},{py(v):.1f}" for e, v in medians)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
        for e in sizes:
            for v in points[e]:
                parts.append(
                    f'<circle cx="{px(e):.1f}" cy="{py(v):.1f}" r="3" fill="#1f5fa8" '
                    f'fill-opacity="0.6"><title>{e} entries: {v:g}</title></circle>'
                )
    parts.append("</svg>")
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")


def png(series: Series, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 2 if len(series) > 1 else 1
    rows = math.ceil(len(series) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 3.4 * rows), squeeze=False)
    for ax, (metric, points) in zip(axes.flat, series.items()):
        sizes = sorted(points)
        ax.plot(sizes, [statistics.median(points[e]) for e in sizes], "-", color="#1f5fa8")
        for e in sizes:
            ax.plot([e] * len(points[e]), points[e], "o", color="#1f5fa8", alpha=0.6, ms=4)
        ax.set_xscale("log")
        ax.set_ylim(bottom=min(0.0, min(v for vs in points.values() for v in vs)))
        ax.set_title(title(metric), fontsize=10)
        ax.set_xlabel("entries")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[len(series) :]:
        ax.axis("off")
    fig.suptitle("custody: cost against ledger size (entries, log scale)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--csv", type=Path, default=ROOT / "benches" / "growth.csv")
    ap.add_argument("--out", type=Path, help="default: docs/growth.png or docs/growth.svg")
    ap.add_argument(
        "--format",
        choices=["svg", "png"],
        help="png needs matplotlib; default: png when matplotlib imports, else svg",
    )
    args = ap.parse_args()

    fmt = args.format
    if fmt is None and args.out is not None and args.out.suffix in (".svg", ".png"):
        fmt = args.out.suffix[1:]
    if fmt in (None, "png"):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            if fmt == "png":
                sys.exit("--format png needs matplotlib, which does not import here")
            fmt = "svg"
        else:
            fmt = "png"
    out = args.out or ROOT / "docs" / f"growth.{fmt}"
    series = read(args.csv)
    out.parent.mkdir(parents=True, exist_ok=True)
    (png if fmt == "png" else svg)(series, out)
    print(f"{out}: {len(series)} metrics, {sum(len(p) for p in series.values())} (size, metric) points")


if __name__ == "__main__":
    main()
