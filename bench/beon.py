"""Throughput of the BEON engine on one core: answer validation alone (baseline) and full evaluate.

    .venv/bin/python bench/beon.py [--n 10000] [--repeats 7] [--seed 2026] [--strict]

Generates random valid answer sets for the shipped rule set with a fixed seed, times each pass with
time.perf_counter and keeps the best of the repeats. Prints PASS/FAIL against the target for
``evaluate``; the exit code is 0 either way unless --strict is given. Needs no Django settings:
the engine only translates messages when answers are invalid, and these are all valid.
"""

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from requisitions import beon  # noqa: E402

TARGET = 50_000  # evaluations per second, evaluate() including validation
JUSTIFICATIONS = (
    "Urolig pasient, tåler ikke andre passasjerer i bilen.",
    "Barn under 12 år; begge foreldre må være med hele veien.",
    "Demens, trenger kjent person ved sin side under reisen.",
)


def random_answers(rng: random.Random, ruleset: beon.RuleSet) -> dict:
    """One valid answer set: required questions always, optional ones half the time."""
    answers = {}
    for question in ruleset.questions:
        if not question.required and rng.random() < 0.5:
            continue
        if question.type == "bool":
            # Most answers are "no", so every rung of the ladder is reached (and the rule walk is long).
            answers[question.id] = rng.random() < (0.8 if question.default is True else 0.2)
        elif question.type == "enum":
            answers[question.id] = rng.choice(question.option_values)
        elif question.type == "int":
            answers[question.id] = rng.randint(question.minimum or 0, question.maximum or 10)
        else:
            answers[question.id] = rng.choice(("", "Se journal.", *JUSTIFICATIONS))
    values = ruleset.partial_values(answers)
    for question in ruleset.questions:
        required = question.required_when is not None and question.required_when(values)
        if required or any(check.when(values) for check in question.checks):
            answers[question.id] = rng.choice(JUSTIFICATIONS)
    return answers


def best_rate(function, ruleset: beon.RuleSet, data: list[dict], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for answers in data:
            function(ruleset, answers)
        best = min(best, time.perf_counter() - start)
    return len(data) / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="answer sets (default 10000)")
    parser.add_argument("--repeats", type=int, default=7, help="timed passes, best kept (default 7)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--strict", action="store_true", help="exit 1 when evaluate misses the target")
    options = parser.parse_args(argv)

    ruleset = beon.default_ruleset()
    rng = random.Random(options.seed)
    data = [random_answers(rng, ruleset) for _ in range(options.n)]
    outcomes = Counter(result.level or result.stop for result in (beon.evaluate(ruleset, a) for a in data))

    baseline = best_rate(beon.validate_answers, ruleset, data, options.repeats)
    full = best_rate(beon.evaluate, ruleset, data, options.repeats)
    passed = full >= TARGET

    print(
        f"BEON engine, rule set {ruleset.version}: {options.n:,} random valid answer sets "
        f"(seed {options.seed}), best of {options.repeats}"
    )
    print("outcomes: " + ", ".join(f"{name} {count}" for name, count in outcomes.most_common()))
    print(f"validate_answers (baseline): {baseline:>12,.0f} evaluations/second")
    print(f"evaluate:                    {full:>12,.0f} evaluations/second")
    print(f"ratio evaluate/baseline:     {full / baseline:>12.2f}")
    print(f"target >= {TARGET:,} evaluations/second for evaluate: {'PASS' if passed else 'FAIL'}")
    return 1 if options.strict and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
