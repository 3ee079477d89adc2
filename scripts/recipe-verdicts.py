#!/usr/bin/env python3
"""Copies `attnlab reproduce --out DIR` results into the recipe folders and quotes the computed
verdict in each README, so that no verdict is written by hand.

    python3 scripts/recipe-verdicts.py DIR [RECIPE_FOLDER ...]

For each DIR/<recipe folder>/ (REPORT.md, checks.csv, figures/): copies them to
experiments/recipes/<recipe folder>/reproduce/ and replaces the README's block between
<!-- verdict:begin --> and <!-- verdict:end --> with the report's verdict and check table.
When DIR holds every recipe (attnlab reproduce --all), its REPORT.md and checks.csv become
experiments/recipes/REPORT.md and checks.csv, links pointing into the recipes' reproduce/ folders.
"""
import pathlib
import re
import shutil
import sys

root = pathlib.Path(__file__).resolve().parent.parent
out = pathlib.Path(sys.argv[1])
folders = sys.argv[2:] or [p.name for p in out.iterdir() if (p / "REPORT.md").exists()]
for name in folders:
    src, dst = out / name, root / "experiments" / "recipes" / name / "reproduce"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    report = (src / "REPORT.md").read_text()
    # The verdict line, the run facts and the table: everything from "**Verdict" to the table's end.
    verdict = re.search(r"\*\*Verdict:.*?\n\n(?:- .*\n)+\n(?:\|.*\n)+", report).group(0)
    block = ("<!-- verdict:begin -->\nComputed by `attnlab reproduce` (copied by "
             "`scripts/recipe-verdicts.py`; full report and figures in [reproduce/](reproduce/REPORT.md)):\n\n"
             + verdict + "<!-- verdict:end -->")
    readme = root / "experiments" / "recipes" / name / "README.md"
    text = readme.read_text()
    if "<!-- verdict:begin -->" not in text:
        sys.exit(f"{readme}: no <!-- verdict:begin --> ... <!-- verdict:end --> block")
    readme.write_text(re.sub(r"<!-- verdict:begin -->.*?<!-- verdict:end -->", lambda m: block, text, flags=re.S))
    print(f"{name}: {verdict.splitlines()[0]}")

recipes = root / "experiments" / "recipes"
every = {p.parent.name for p in recipes.glob("*/recipe.toml")}
if (out / "REPORT.md").exists() and every <= set(folders):
    text = (out / "REPORT.md").read_text()
    for name in every:
        text = text.replace(f"]({name}/figures/", f"]({name}/reproduce/figures/")
    (recipes / "REPORT.md").write_text(text)
    shutil.copy(out / "checks.csv", recipes / "checks.csv")
    print(f"{recipes / 'REPORT.md'}: every recipe")
elif (recipes / "REPORT.md").exists():
    # Some recipes re-run: their summary line, section and check rows replace the old ones in
    # the combined report, so that it never quotes a superseded verdict.
    combined = (recipes / "REPORT.md").read_text()
    rows = (recipes / "checks.csv").read_text().splitlines(keepends=True)
    for name in folders:
        report = (out / name / "REPORT.md").read_text()
        head = re.search(r"^## (\S+): (.*)$", report, flags=re.M)
        rid, title = head.group(1), head.group(2)
        v = re.search(r"\*\*Verdict: ([A-Z ]+)\*\* \((\d+) of (\d+) checks reproduced, (\d+) not", report)
        line = f"{rid:<4} {v.group(1):<15} ({v.group(2)}/{v.group(3)} checks reproduced, {v.group(4)} not)  {title}"
        section = report[head.start():].replace("](figures/", f"]({name}/reproduce/figures/")
        if not section.endswith("\n"):
            section += "\n"
        old = re.search(rf"^## {re.escape(rid)}: .*?(?=^## |\Z)", combined, flags=re.M | re.S)
        if old:
            combined = combined[:old.start()] + section + ("\n" if old.end() < len(combined) else "") + combined[old.end():]
            combined = re.sub(rf"^{re.escape(rid)} +[A-Z].*$", lambda m: line, combined, count=1, flags=re.M)
        else:  # a recipe the combined report does not hold yet: its line ends the summary, its section the report
            end = combined.index("```", combined.index("```") + 3)
            combined = combined[:end] + line + "\n" + combined[end:]
            combined = combined.rstrip("\n") + "\n\n" + section
        new_rows = (out / name / "checks.csv").read_text().splitlines(keepends=True)[1:]
        rows = [r for r in rows if not r.startswith(rid + ",")] + new_rows
        print(f"{recipes / 'REPORT.md'}: {rid} replaced")
    (recipes / "REPORT.md").write_text(combined)
    (recipes / "checks.csv").write_text("".join(rows))
