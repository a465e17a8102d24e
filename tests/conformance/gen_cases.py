#!/usr/bin/python3
"""Writes the PyTorch differential test cases for mininn_conformance.

    /usr/bin/python3 tests/conformance/gen_cases.py --seed 1 --out build/conformance/cases

Deterministic from the seed. Every family in FAMILIES writes its cases to
OUT/<family>/<NNNN>/ (see casekit.py for how a family is written and
README.md for the case format). The output folder is replaced as a whole, and
left alone when a previous run with the same seed, sources and torch
version already wrote it (--force regenerates anyway).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import shutil
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402  (after the path set-up; the oracle must be importable)

from casekit import Kit  # noqa: E402

# (family name, module in families/). Another family is one more line here.
FAMILIES = [
    ("conv", "conv"),
    ("max_pool", "max_pool"),
    ("avg_pool", "avg_pool"),
    ("adaptive", "adaptive"),
    ("unpool", "unpool"),
    ("lp_pool", "lp_pool"),
    ("fractional", "fractional"),
    ("graphs", "graphs"),
    ("golden", "golden"),
    ("seed", "seed"),
    ("activation", "activation"),
    ("linear", "linear"),
    ("norm", "norm"),
    ("dropout", "dropout"),
    ("loss", "loss"),
]


def fingerprint(seed: int) -> str:
    digest = hashlib.sha256(f"seed={seed} torch={torch.__version__}\n".encode())
    seed_example = os.path.join(HERE, "..", "..", "examples", "seed")
    for root, _, files in sorted([*os.walk(HERE), *os.walk(seed_example)]):
        for name in sorted(files):
            if name.endswith((".py", ".json", ".jpg")):
                with open(os.path.join(root, name), "rb") as f:
                    digest.update(name.encode() + b"\0" + f.read())
    return digest.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    parser.add_argument("--force", action="store_true", help="regenerate even when up to date")
    parser.add_argument("--only", action="append", help="write only this family (repeatable)")
    args = parser.parse_args()

    stamp = fingerprint(args.seed) + (f" only={args.only}" if args.only else "")
    stamp_file = os.path.join(args.out, ".fingerprint")
    if not args.force and os.path.isfile(stamp_file):
        with open(stamp_file) as f:
            if f.read().strip() == stamp:
                print(f"gen_cases: {args.out} is up to date (seed {args.seed})")
                return 0

    warnings.filterwarnings("ignore")  # torch's notes on 'same' padding and zero-element init
    torch.set_num_threads(1)  # cases are tiny; threads only cost start-up time
    started = time.monotonic()
    staging = args.out.rstrip("/") + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    total = 0
    for family, module_name in FAMILIES:
        if args.only and family not in args.only:
            continue
        module = importlib.import_module(f"families.{module_name}")
        kit = Kit(args.seed, family)
        values = errors = 0
        for number, case in enumerate(module.cases(kit)):
            case.write(os.path.join(staging, family, f"{number:04d}"))
            if case.error is None:
                values += 1
            else:
                errors += 1
        total += values + errors
        print(f"gen_cases: {family:<10} {values + errors:5d} cases ({values} checked against values, {errors} expected errors)")
    with open(os.path.join(staging, ".fingerprint"), "w") as f:
        f.write(stamp + "\n")
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(staging, args.out)
    print(f"gen_cases: {total} cases in {args.out} ({time.monotonic() - started:.1f} s, torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
