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
