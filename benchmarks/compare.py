"""Two runs of benchmarks/run.py side by side, page by page.

    .venv/bin/python -m benchmarks.compare before after    # writes benchmarks/results/compare.md
"""

from __future__ import annotations

import json
import sys

from benchmarks.run import RESULTS


def main() -> None:
    old_label, new_label = sys.argv[1:3] if len(sys.argv) >= 3 else ("before", "after")
    old, new = (json.loads((RESULTS / f"{label}.json").read_text()) for label in (old_label, new_label))
    before = {page["name"]: page for page in old["pages"]}
    lines = [f"# {old_label} ({old['started_at']}) → {new_label} ({new['started_at']})", "",
             "Ratio: req/s ÷ `/healthz` req/s in the same run (the machine is shared, so compare ratios).", "",
             f"| page | ratio {old_label} | ratio {new_label} | × | p95 ms {old_label} | p95 ms {new_label} | "
             f"KB {old_label} | KB {new_label} | statements {old_label} | statements {new_label} |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for page in new["pages"]:
        was = before.get(page["name"])
        if was is None:
            continue
        gain = page["ratio"] / was["ratio"] if was["ratio"] else float("inf")
        lines.append(f"| {page['name']} | {was['ratio']:.3f} | {page['ratio']:.3f} | {gain:.1f} | {was['p95_ms']} | "
                     f"{page['p95_ms']} | {was['kb_per_response']} | {page['kb_per_response']} | "
                     f"{was.get('statements', '')} | {page.get('statements', '')} |")
    (RESULTS / "compare.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
