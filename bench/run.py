#!/usr/bin/python3
"""naive / oneDNN / PyTorch, per op and direction; writes docs/performance.md.

    /usr/bin/python3 bench/run.py [--build build-dnnl] [--rounds 3] [--out docs/performance.md]

Every case is a small mininn model. mininn_bench (bench/bench.cpp) times each
node's kernel on one backend (median of many runs, preallocated buffers);
this script times the same op in PyTorch 1.13 (torch.set_num_threads(2)) on
the same shapes, in NCHW and channels_last, and alternates the two in rounds
so that both see the same machine. A row keeps the lowest per-round median
of each column. Needs /usr/bin/python3 (torch); run by hand, not a test.
"""
import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def node(name, op, inputs, outputs, **attrs):
    return {"name": name, "op": op, "inputs": inputs, "outputs": outputs, "attrs": attrs}


def model(name, shape, nodes, outputs):
    return {"format": "mininn/1", "name": name, "seed": 0,
            "inputs": [{"name": "x", "shape": list(shape)}], "nodes": nodes, "outputs": outputs}


def single(name, shape, op, torch_fn, backward=True, bound=True, **attrs):
    """One node `op` on input x; torch_fn(x) is PyTorch's forward."""
    return {"name": name, "shape": shape, "backward": backward, "bound": bound,
            "model": model(name, shape, [node("op", op, ["x"], ["y"] + (["i"] if attrs.get("return_indices") else []),
                                              **attrs)], ["y"]),
            "torch": {"op": torch_fn}}


def conv(name, shape, cout, k, stride, pad):
    cin = shape[1]
    def make():
        w = torch.randn(cout, cin, k, k, requires_grad=True)
        b = torch.randn(cout, requires_grad=True)
        return lambda x: F.conv2d(x, w, b, stride, pad), [w, b]
    return {"name": name, "shape": shape, "backward": True, "bound": False,
            "model": model(name, shape, [node("op", "Conv2d", ["x"], ["y"], in_channels=cin, out_channels=cout,
                                              kernel_size=k, stride=stride, padding=pad)], ["y"]),
            "torch": {"op": make}}


def cases():
    seed = json.load(open(os.path.join(ROOT, "examples/seed/seed.json")))
    seed_weight = torch.tensor(seed["nodes"][0]["params"]["weight"]["data"][0], dtype=torch.float32).view(1, 1, 5, 5)
    seed_weight = torch.cat([seed_weight, torch.empty(1, 1, 5, 5).uniform_(-0.2, 0.2)])
    seed_shape = seed["inputs"][0]["shape"]
    seed_case = {"name": "seed pipeline (conv 5x5 1->2, max 2/2, avg 2/2, adaptive avg 100x100)", "shape": seed_shape,
                 "backward": True, "bound": False, "model": seed, "graph": True,
                 "torch": {"conv": lambda: (lambda x: F.conv2d(x, seed_weight.requires_grad_()), [seed_weight]),
                           "max": lambda f: F.max_pool2d(f, 2, 2), "avg": lambda f: F.avg_pool2d(f, 2, 2),
                           "adaptive": lambda f: F.adaptive_avg_pool2d(f, (100, 100))}}
    unpool = {"name": "MaxPool2d 2/2 + indices, MaxUnpool2d 2/2, 16x128x56x56", "shape": [16, 128, 56, 56],
              "backward": True, "bound": True,
              "model": model("unpool", [16, 128, 56, 56],
                             [node("max", "MaxPool2d", ["x"], ["y", "i"], kernel_size=2, stride=2, return_indices=True),
                              node("unpool", "MaxUnpool2d", ["y", "i"], ["z"], kernel_size=2, stride=2)], ["z"]),
              "torch": {"max": lambda x: F.max_pool2d(x, 2, 2, return_indices=True),
                        "unpool": lambda yi: F.max_unpool2d(yi[0], yi[1], 2, 2)}}
    return [
        seed_case,
        single("MaxPool2d 3/2/1, 32x64x112x112", [32, 64, 112, 112], "MaxPool2d",
               lambda x: F.max_pool2d(x, 3, 2, 1), kernel_size=3, stride=2, padding=1),
        single("MaxPool2d 3/2/1 + indices, 32x64x112x112", [32, 64, 112, 112], "MaxPool2d",
               lambda x: F.max_pool2d(x, 3, 2, 1, return_indices=True), kernel_size=3, stride=2, padding=1,
               return_indices=True),
        single("MaxPool2d 3/2/1, 32x64x112x112, inference", [32, 64, 112, 112], "MaxPool2d",
               lambda x: F.max_pool2d(x, 3, 2, 1), backward=False, kernel_size=3, stride=2, padding=1),
        unpool,
        single("AvgPool2d 3/1/1 exclude pad, 16x256x28x28", [16, 256, 28, 28], "AvgPool2d",
               lambda x: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False),
               kernel_size=3, stride=1, padding=1, count_include_pad=False),
        single("AdaptiveAvgPool2d 1, 64x512x7x7", [64, 512, 7, 7], "AdaptiveAvgPool2d",
               lambda x: F.adaptive_avg_pool2d(x, 1), output_size=1),
        single("AdaptiveAvgPool2d (7,7), 16x256x20x20", [16, 256, 20, 20], "AdaptiveAvgPool2d",
               lambda x: F.adaptive_avg_pool2d(x, 7), output_size=[7, 7]),
        single("AdaptiveMaxPool2d (5,5), 16x64x32x32", [16, 64, 32, 32], "AdaptiveMaxPool2d",
               lambda x: F.adaptive_max_pool2d(x, 5), output_size=[5, 5]),
        single("MaxPool2d 2/2 dilation 2, 8x64x112x112", [8, 64, 112, 112], "MaxPool2d",
               lambda x: F.max_pool2d(x, 2, 2, 0, 2), kernel_size=2, stride=2, dilation=2),
        single("MaxPool1d 3/2/1, 32x64x4096", [32, 64, 4096], "MaxPool1d",
               lambda x: F.max_pool1d(x, 3, 2, 1), kernel_size=3, stride=2, padding=1),
        single("AvgPool3d 2/2 ceil, 8x32x16x56x56", [8, 32, 16, 56, 56], "AvgPool3d",
               lambda x: F.avg_pool3d(x, 2, 2, ceil_mode=True), kernel_size=2, stride=2, ceil_mode=True),
        conv("Conv2d 64->64 3x3/1/1, 8x64x56x56", [8, 64, 56, 56], 64, 3, 1, 1),
        conv("Conv2d 3->64 7x7/2/3, 8x3x224x224", [8, 3, 224, 224], 64, 7, 2, 3),
    ]


def time_ms(fn, budget_ms, min_runs=3, max_runs=50):
    """(median, minimum) in ms over at least min_runs calls after one warm-up."""
    fn()
    times, start = [], time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or (time.perf_counter() - start) * 1e3 < budget_ms):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def torch_times(case, budget_ms):
    """{node: {layout: {"forward": ms, "backward": ms}}} for PyTorch."""
    out = {}
    torch.manual_seed(0)
    for layout in ("nchw", "channels_last"):
        fmt = torch.channels_last if len(case["shape"]) == 4 else (
            torch.channels_last_3d if len(case["shape"]) == 5 else None)
        if layout == "channels_last" and fmt is None:
            continue
        x = torch.rand(*case["shape"]) * 2 - 1
        if layout == "channels_last":
            x = x.contiguous(memory_format=fmt)
        x.requires_grad_(case["backward"])
        ops = case["torch"]
        value = {case["model"]["inputs"][0]["name"]: x}
        for n in case["model"]["nodes"]:
            name = n["name"] if n["name"] in ops else "op"
            make = ops[name]
            inp = value[n["inputs"][0]] if len(n["inputs"]) == 1 else (value[n["inputs"][0]], value[n["inputs"][1]])
            if n["op"] == "Conv2d":
                fn, params = make()
                if layout == "channels_last":
                    for p in params:
                        if p.dim() == 4:
                            p.data = p.data.contiguous(memory_format=torch.channels_last)
                wrt = [inp] + params
            else:
                fn, wrt = make, [inp] if not isinstance(inp, tuple) else [inp[0]]
            if case["backward"]:
                fwd = lambda: fn(inp)
            else:
                def fwd(fn=fn, inp=inp):
                    with torch.no_grad():
                        return fn(inp)
            row = {}
            row["forward"], row["forward_min"] = time_ms(fwd, budget_ms)
            y = fn(inp)
            y0 = y[0] if isinstance(y, tuple) else y
            if case["backward"] and y0.requires_grad:
                gy = torch.ones_like(y0)
                wrt = [t for t in wrt if t.requires_grad]
                row["backward"], row["backward_min"] = time_ms(
                    lambda: torch.autograd.grad(y0, wrt, gy, retain_graph=True), budget_ms)
            out.setdefault(n["name"], {})[layout] = row
            if len(n["outputs"]) > 1:
                for name, v in zip(n["outputs"], y):
                    value[name] = v
            else:
                value[n["outputs"][0]] = y0
    return out


def run_bench(build, backend, case_file, budget_ms, extra=()):
    cmd = [os.path.join(build, "bench", "mininn_bench"), "--backend", backend, "--budget-ms", str(budget_ms)]
    if case_file:
        cmd += ["--cases", case_file]
    cmd += list(extra)
    env = dict(os.environ, OMP_NUM_THREADS="2")
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)


def lowest(a, b):
    return b if a is None else a if b is None else min(a, b)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build-dnnl"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget-ms", type=float, default=1500)
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "performance.md"))
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    parser.add_argument("--no-naive", action="store_true", help="skip the (slow) naive kernels")
    args = parser.parse_args()
    torch.set_num_threads(2)

    all_cases = [c for c in cases() if args.only in c["name"]]
    with tempfile.TemporaryDirectory() as tmp:
        case_file = os.path.join(tmp, "cases.json")
        json.dump([{"name": c["name"], "model": c["model"], "shapes": [c["shape"]], "backward": c["backward"]}
                   for c in all_cases], open(case_file, "w"))
        best = {}  # (case, node, column, direction) -> ms
        meta = {}  # (case, node) -> dispatch per backend
        micro = None
        loads = []

        def keep(case, node_name, column, direction, ms):
            key = (case, node_name, column, direction)
            best[key] = lowest(best.get(key), ms)

        for r in range(args.rounds):
            loads.append(os.getloadavg()[0])
            # The naive kernels are slow and steady: one round is enough.
            backends = ["onednn", "auto"] + (["naive"] if r == 0 and not args.no_naive else [])
            for backend in backends:
                result = run_bench(args.build, backend, case_file, args.budget_ms)
                for c in result["cases"]:
                    if c["name"].startswith("seed"):
                        keep(c["name"], "(graph)", backend, "forward", c["graph_forward_ms"])
                    for n in c["nodes"]:
                        meta.setdefault((c["name"], n["node"]), {})[backend] = n
                        for direction in ("forward", "backward"):
                            if direction + "_ms" in n:
                                keep(c["name"], n["node"], backend, direction, n[direction + "_ms"])
                                keep(c["name"], n["node"], backend, direction + "_min", n[direction + "_min_ms"])
                print(f"round {r + 1}: {backend} done", file=sys.stderr)
            for c in all_cases:
                for node_name, layouts in torch_times(c, args.budget_ms).items():
                    for layout, row in layouts.items():
                        for direction, ms in row.items():
                            keep(c["name"], node_name, "torch_" + layout, direction, ms)
            print(f"round {r + 1}: torch done", file=sys.stderr)
            m = run_bench(args.build, "onednn", None, args.budget_ms, ["--micro"])
            if micro is None:
                micro = m
            else:
                for k in ("copy_gbs", "read_gbs"):
                    micro["micro"][k] = max(micro["micro"][k], m["micro"][k])
                for k, v in m["micro"].items():
                    if k.endswith("_ms"):
                        micro["micro"][k] = min(micro["micro"][k], v)
    write_report(args.out, all_cases, best, meta, micro, loads, args)


def fmt_ms(ms):
    if ms is None:
        return "—"
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}"


def write_report(path, all_cases, best, meta, micro, loads, args):
    m = micro["micro"]
    copy_gbs = m["copy_gbs"]
    lines = []
    w = lines.append
    w("# Performance: naive vs oneDNN vs PyTorch")
    w("")
    w("Generated by `bench/run.py` (driver) and `bench/bench.cpp` (`mininn_bench`) on this machine")
    w(f"({os.cpu_count()} cores, {micro['runtime']}; PyTorch {torch.__version__}, `torch.set_num_threads(2)`).")
    w(f"{args.rounds} rounds alternate mininn and PyTorch; a cell is the lowest of the per-round medians (at least 3")
    w(f"runs, up to {args.budget_ms:.0f} ms per median). Load average at the start of each round: "
      + ", ".join(f"{l:.1f}" for l in loads) + ".")
    w("Other jobs shared the 2 cores while this ran: a preempted thread stalls a whole parallel region,")
    w("so medians carry scheduler noise (steps of ~4-12 ms show it). The last column compares the fastest")
    w("single runs instead, which that noise cannot make faster.")
    w("")
    w("What is timed: for mininn, one kernel call (`Kernel::forward` / `Kernel::backward`) with")
    w("preallocated outputs and its KernelState, plain NCHW tensors in and out — oneDNN's reorders and")
    w("the exactness checks (NaN scan, -FLT_MAX scan, workspace to int64 indices) included; for")
    w("PyTorch, the functional call (forward) and `torch.autograd.grad` of its output (backward),")
    w("glibc told to reuse big blocks (`MALLOC_MMAP_THRESHOLD_`) on both sides so that fresh-page")
    w("faults are not what is measured. **torch** is PyTorch's better layout for that row, NCHW or")
    w("channels_last (`cl`).")
    w("")
    w("Columns: **naive** = mininn's reference loops; **oneDNN** = `--backend onednn` (a node oneDNN")
    w("cannot run exactly still falls back, marked `(naive)`); **auto** = the default; **×naive** =")
    w("naive / auto; **vs torch** = auto / torch (below 1: mininn faster); **fastest** = the same ratio")
    w(f"of the fastest runs; **bound** = (bytes read + bytes written once) / copy bandwidth ({copy_gbs:.1f} GB/s")
    w("measured here, 2 threads), forward pooling only.")
    w("")
    w("| case | node | dir | naive ms | oneDNN ms | auto ms | auto runs | torch ms | ×naive | vs torch | fastest | bound ms |")
    w("|---|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    ratios, fastest = [], []
    for c in all_cases:
        node_names = [n["name"] for n in c["model"]["nodes"]]
        if c.get("graph"):
            node_names = ["(graph)"] + node_names
        first = True
        for node_name in node_names:
            for direction in ("forward", "backward"):
                get = lambda col, suffix="": best.get((c["name"], node_name, col, direction + suffix))
                auto, onednn, naive = get("auto"), get("onednn"), get("naive")
                if auto is None and onednn is None:
                    continue
                t = lowest(get("torch_nchw"), get("torch_channels_last"))
                t_text = fmt_ms(t) + (" cl" if t is not None and t == get("torch_channels_last") else "")
                t_min = lowest(get("torch_nchw", "_min"), get("torch_channels_last", "_min"))
                d = meta.get((c["name"], node_name), {})
                backend = "—"
                if "auto" in d:
                    backend = d["auto"][direction]
                    if backend == "naive":
                        backend += "*"
                onednn_text = fmt_ms(onednn)
                if "onednn" in d and d["onednn"][direction] != "onednn":
                    onednn_text += " (naive)"
                bound = "—"
                if c.get("bound") and direction == "forward" and node_name != "(graph)":
                    numel = 1
                    for size in c["shape"]:
                        numel *= size
                    b = bound_ms(c, node_name, numel, copy_gbs)
                    bound = fmt_ms(b) if b else "—"
                if t is not None and auto is not None:
                    ratios.append(auto / t)
                if t_min is not None and get("auto", "_min") is not None:
                    fastest.append(get("auto", "_min") / t_min)
                name = c["name"] if first else ""
                first = False
                w(f"| {name} | {node_name} | {direction[:3]} | {fmt_ms(naive)} | {onednn_text} | {fmt_ms(auto)} | "
                  f"{backend} | {t_text} | {ratio(naive, auto)} | {ratio(auto, t)} | "
                  f"{ratio(get('auto', '_min'), t_min)} | {bound} |")
    w("")
    if ratios:
        gm = lambda xs: math.exp(sum(math.log(x) for x in xs) / len(xs))
        w(f"Geometric mean of auto / torch over the {len(ratios)} rows with both: medians {gm(ratios):.2f}, "
          f"fastest runs {gm(fastest):.2f}.")
        w("")
    w("`*` naive by design, with a reason shown by `mininn inspect`: non-divisible adaptive sizes (windows of")
    w("varying size), unpooling (no oneDNN primitive), and, under `auto`, what oneDNN 2.6 runs only in its")
    w("scalar reference kernel (dilated max pooling). The seed's `(graph)` row is a whole")
    w("`Execution::forward`, output allocations included.")
    w("")
    w("## The cost of exactness")
    w("")
    inf = best_row(best, all_cases, "inference", "forward")
    tr = best_row(best, all_cases, "MaxPool2d 3/2/1, 32x64x112x112", "forward", exact=True)
    idx = best_row(best, all_cases, "+ indices", "forward")
    w("MaxPool2d 3/2/1 on 32x64x112x112, oneDNN's bare primitive (plain layout, one call, no checks) against")
    w("mininn's kernel (NaN scan, pooling, -FLT_MAX scan and, with indices, int64 conversion, in chunks of")
    w("~1 MiB of input per thread so that the checks read cached data); median / fastest run, ms:")
    w("")
    w("| forward | bare oneDNN | mininn | overhead |")
    w("|---|---:|---:|---:|")
    for label, bare, row in (("inference", "bare_pool_inference", inf), ("training (workspace)", "bare_pool_training", tr),
                             ("training + int64 indices", "bare_pool_training", idx)):
        if row is None:
            continue
        med, fast = row
        w(f"| {label} | {fmt_ms(m[bare + '_ms'])} / {fmt_ms(m[bare + '_min_ms'])} | {fmt_ms(med)} / {fmt_ms(fast)} | "
          f"{100 * (fast / m[bare + '_min_ms'] - 1):+.0f} % (fastest) |")
    w("")
    w(f"For scale, the same checks as separate passes over memory: a NaN scan of the whole input "
      f"({m['nan_scan_elements'] / 1e6:.1f} M floats) takes {fmt_ms(m['nan_scan_ms'])} ms "
      f"(fastest {fmt_ms(m['nan_scan_min_ms'])} ms, {4 * m['nan_scan_elements'] / m['nan_scan_min_ms'] / 1e6:.1f} GB/s), "
      f"a -FLT_MAX scan of the output ({m['lowest_scan_elements'] / 1e6:.1f} M floats) "
      f"{fmt_ms(m['lowest_scan_ms'])} ms (fastest {fmt_ms(m['lowest_scan_min_ms'])} ms); "
      f"read bandwidth {m['read_gbs']:.1f} GB/s, copy {copy_gbs:.1f} GB/s.")
    w("")
    w("Regenerate: `cmake --build build-dnnl --target mininn_bench && /usr/bin/python3 bench/run.py`")
    w("(`--rounds`, `--budget-ms`, `--only NAME`, `--no-naive`; ~15 min with the naive kernels).")
    open(path, "w").write("\n".join(lines) + "\n")
    print(f"wrote {path}", file=sys.stderr)


def best_row(best, all_cases, name_part, direction, exact=False):
    """(median, fastest) of auto for the first case whose name contains name_part."""
    for c in all_cases:
        if (c["name"] == name_part) if exact else (name_part in c["name"]):
            node = c["model"]["nodes"][0]["name"]
            med = best.get((c["name"], node, "auto", direction))
            fast = best.get((c["name"], node, "auto", direction + "_min"))
            if med is not None and fast is not None:
                return med, fast
    return None


def bound_ms(case, node_name, numel, copy_gbs):
    """Bytes a pooling forward must move (input read, output and indices written) over copy bandwidth."""
    n = next(n for n in case["model"]["nodes"] if n["name"] == node_name)
    a = n["attrs"]
    shape = case["shape"]
    spatial = shape[2:]
    if n["op"].startswith("Adaptive"):
        out = a["output_size"]
        out = out if isinstance(out, list) else [out] * len(spatial)
    elif n["op"] == "MaxUnpool2d":
        return None
    else:
        k = a["kernel_size"]
        s = a.get("stride", k)
        p = a.get("padding", 0)
        d = a.get("dilation", 1)
        ceil = a.get("ceil_mode", False)
        out = []
        for L in spatial:
            num = L + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)
            o = num // s + 1
            if ceil and (o - 1) * s >= L + p:
                o -= 1
            out.append(o)
    out_numel = shape[0] * shape[1]
    for o in out:
        out_numel *= o
    written = out_numel * (4 + (8 if a.get("return_indices") else 0))
    return (numel * 4 + written) / (copy_gbs * 1e6)


if __name__ == "__main__":
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(1 << 30))
    os.environ.setdefault("MALLOC_TRIM_THRESHOLD_", str(1 << 30))
    if "MININN_BENCH_REEXEC" not in os.environ:
        # glibc reads the malloc settings at start-up: re-run with them set.
        os.environ["MININN_BENCH_REEXEC"] = "1"
        os.execv(sys.executable, [sys.executable] + sys.argv)
    main()
