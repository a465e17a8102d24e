#!/usr/bin/python3
"""The command line's contract on bad input: every case in corpus/cases.json
must exit with its status (1: bad model or input, 2: bad usage) after
printing exactly one line, `error: ...`, on stderr — never a crash, never a
traceback, never a stray output file.

    run_cli_tests.py MININN_BINARY [--filter SUBSTRING]
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def run_case(binary, case, scratch):
    out = os.path.join(scratch, case["name"])
    args = [a.replace("{out}", out) for a in case["args"]]
    env = dict(os.environ, **case.get("env", {}))
    proc = subprocess.run([binary, *args], cwd=CORPUS, capture_output=True, text=True, errors="replace", timeout=120,
                          env=env)
    problems = []
    if proc.returncode < 0:
        problems.append(f"killed by {signal.Signals(-proc.returncode).name}")
    elif proc.returncode != case["status"]:
        problems.append(f"exit status {proc.returncode}, expected {case['status']}")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    if case["status"] != 0 and (case["status"] == 1 or lines):
        if len(lines) != 1:
            problems.append(f"{len(lines)} stderr lines, expected exactly one")
        elif not lines[0].startswith("error: "):
            problems.append("stderr does not start with 'error: '")
        if case["expect"] and case["expect"] not in proc.stderr:
            problems.append(f"stderr lacks {case['expect']!r}")
    for path in case.get("writes", []):
        if not os.path.isfile(os.path.join(out, path)):
            problems.append(f"did not write {path}")
    if case["status"] == 0 and lines:
        problems.append("printed on stderr although it succeeded")
    if case["status"] != 0 and os.path.isdir(out):
        leftovers = [f for _, _, files in os.walk(out) for f in files]
        if leftovers:
            problems.append(f"left files behind: {leftovers}")
    return problems, proc.stderr.strip()


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    only = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--filter" else ""
    with open(os.path.join(CORPUS, "cases.json")) as f:
        cases = [c for c in json.load(f) if only in c["name"]]
    scratch = tempfile.mkdtemp(prefix="mininn-cli-")
    failures = 0
    try:
        for case in cases:
            problems, stderr = run_case(binary, case, scratch)
            if problems:
                failures += 1
                print(f"FAIL {case['name']}: {'; '.join(problems)}\n     args: {case['args']}\n     stderr: {stderr}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"cli: {len(cases) - failures}/{len(cases)} cases behaved")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
