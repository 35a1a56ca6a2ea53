#!/usr/bin/env python3
"""Checks Prometheus text exposition files for scripts/deploy-test.sh.

    promcheck.py check FILE... [--require NAME...]
        Parses every file with prometheus_client's parser and checks every sample line
        against the text format's grammar (a syntax error fails), rejects
        a series exposed twice (same name and labels), and requires each family named
        with --require. Prints one line per file.

    promcheck.py sum FILE --metric NAME [--label KEY=VALUE...]
        Prints the sum of the samples of NAME whose labels match every KEY=VALUE.

Exit status 1 on any failed check.
"""

import argparse
import re
import sys

from prometheus_client.parser import text_string_to_metric_families


# One sample line of the text format: name, optional labels, value, optional timestamp.
# prometheus_client's parser ignores trailing garbage, so lines are also checked whole.
SAMPLE_LINE = re.compile(
    r'[a-zA-Z_:][a-zA-Z0-9_:]*'
    r'(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})?'
    r' ([-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf)|NaN)( -?[0-9]+)?'
)


def malformed_lines(path):
    """Sample lines (not comments or blank) that are not exactly one well-formed sample."""
    with open(path, encoding="utf-8") as file:
        return [
            line
            for line in file.read().splitlines()
            if line.strip() and not line.startswith("#") and not SAMPLE_LINE.fullmatch(line)
        ]


def families(path):
    with open(path, encoding="utf-8") as file:
        return list(text_string_to_metric_families(file.read()))


def check(paths, required):
    ok = True
    for path in paths:
        try:
            parsed = families(path)
        except ValueError as err:
            print(f"{path}: does not parse: {err}")
            ok = False
            continue
        bad_lines = malformed_lines(path)
        if bad_lines:
            print(f"{path}: malformed sample lines: {bad_lines[:3]}")
            ok = False
            continue
        seen = set()
        duplicates = []
        samples = 0
        for family in parsed:
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                if key in seen:
                    duplicates.append(sample.name)
                seen.add(key)
                samples += 1
        # The parser strips _total from counter family names; accept either spelling.
        names = {family.name for family in parsed} | {sample[0] for sample in seen}
        missing = [name for name in required if name not in names]
        if duplicates or missing:
            print(f"{path}: duplicate series {duplicates}, missing families {missing}")
            ok = False
        else:
            print(f"{path}: ok, {len(parsed)} families, {samples} samples")
    return ok


def total(path, metric, labels):
    wanted = dict(label.split("=", 1) for label in labels)
    value = 0.0
    for family in families(path):
        for sample in family.samples:
            if sample.name == metric and all(
                sample.labels.get(key) == val for key, val in wanted.items()
            ):
                value += sample.value
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser("check")
    check_cmd.add_argument("files", nargs="+")
    check_cmd.add_argument("--require", nargs="*", default=[])
    sum_cmd = commands.add_parser("sum")
    sum_cmd.add_argument("file")
    sum_cmd.add_argument("--metric", required=True)
    sum_cmd.add_argument("--label", nargs="*", default=[])
    args = parser.parse_args()
    if args.command == "check":
        sys.exit(0 if check(args.files, args.require) else 1)
    print(f"{total(args.file, args.metric, args.label):g}")


if __name__ == "__main__":
    main()
