"""The report's plots: inline SVG whose bytes depend on the data alone, labels escaped, edge cases drawn."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from fp_adapters.report.charts import bars, line
from fp_adapters.report.html import _by_bound


def test_bars_are_one_rect_per_key_with_its_value_and_escaped_labels() -> None:
    svg = bars("receipts <by> outcome", {"ADMIT": 3992, "<script>x</script>": 8, "QUARANTINE": 0}, "#468faf")
    assert svg == bars("receipts <by> outcome", {"ADMIT": 3992, "<script>x</script>": 8, "QUARANTINE": 0}, "#468faf")
    root = ET.fromstring(svg)  # well-formed XML: nothing unescaped leaked into the markup
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert [r.findtext("{http://www.w3.org/2000/svg}title") for r in rects] == [
        "ADMIT: 3,992", "<script>x</script>: 8", "QUARANTINE: 0"]
    heights = [float(r.get("height", "nan")) for r in rects]
    assert heights[0] > heights[1] > heights[2] == 0.0
    assert "<script>" not in svg


def test_empty_and_single_point_plots_still_draw() -> None:
    assert ET.fromstring(bars("nothing yet", {}, "#000")) is not None
    one = line("decisions over the run", [0.0], [1117.0], "s", "decisions/s", "#2a6f97")
    assert len(re.findall("<circle ", one)) == 1  # a one-bucket run shows its point
    many = line("decisions over the run", [float(i) for i in range(100)], [1.0] * 100, "s", "d/s", "#2a6f97")
    assert "<circle " not in many and "<polyline " in many


def test_latency_buckets_are_drawn_in_the_order_of_their_bounds() -> None:
    stored = {"<=10": 1, "<=100": 2, "<=1000": 3, "<=25": 4, "<=5": 5, ">2000": 6}
    assert list(_by_bound(stored)) == ["<=5", "<=10", "<=25", "<=100", "<=1000", ">2000"]
