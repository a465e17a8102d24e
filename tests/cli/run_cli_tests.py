#!/usr/bin/python3
"""The command line's contract on bad input: every case in corpus/cases.json
must exit with its status (1: bad model or input, 2: bad usage) after
printing exactly one line, `error: ...`, on stderr — never a crash, never a
traceback, never a stray output file. A case with `json` must print one JSON
object on stdout holding its `keys` (dotted paths; `nodes[].name`: in every
element of the list `nodes`), none of its `absent` keys, and its `equals`.

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


def lookup(document, path):
    """The values at a dotted path; `list[]` fans out over a list's elements."""
    found = [document]
    for part in path.split("."):
        fan = part.endswith("[]")
        key = part[:-2] if fan else part
        found = [d[key] for d in found if isinstance(d, dict) and key in d]
        if fan:
            found = [e for d in found if isinstance(d, list) for e in d] if found and all(
                isinstance(d, list) and d for d in found) else []
    return found


def check_json(stdout, expected):
    try:
        document = json.loads(stdout)
    except json.JSONDecodeError as e:
        return [f"stdout is not one JSON object: {e}"]
    if not isinstance(document, dict):
        return ["stdout is JSON but not an object"]
    problems = [f"JSON lacks {key!r}" for key in expected.get("keys", []) if not lookup(document, key)]
    problems += [f"JSON has {key!r}" for key in expected.get("absent", []) if lookup(document, key)]
    for key, value in expected.get("equals", {}).items():
        if lookup(document, key) != [value]:
            problems.append(f"JSON {key!r} is {lookup(document, key)}, expected {value!r}")
    return problems


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
    if "json" in case and proc.returncode == 0:
        problems += check_json(proc.stdout, case["json"])
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
