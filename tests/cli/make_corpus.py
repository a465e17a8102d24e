#!/usr/bin/python3
"""Writes tests/cli/corpus/: malformed models and input files, and cases.json,
the list of command lines run_cli_tests.py runs against them.

Each case names the arguments (paths relative to the corpus folder), the exit
status expected (1: a bad model or input, 2: bad usage) and a phrase the one
`error:` line must contain. Run it again after changing it; the corpus is
committed so the tests need no numpy to build it.
"""
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
cases = []


def write(name, data):
    path = os.path.join(OUT, name)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return name


def model(name, body):
    return write(name, body if isinstance(body, str) else json.dumps(body, indent=1))


def case(name, args, expect, status=1, writes=(), env=None, json_stdout=None):
    entry = {"name": name, "args": args, "expect": expect, "status": status, "writes": list(writes)}
    if env:
        entry["env"] = env  # environment variables for this run
    if json_stdout:
        entry["json"] = json_stdout  # stdout must be one JSON object with these keys (run_cli_tests.py)
    cases.append(entry)


def pool_model(attrs, op="MaxPool2d", shape=(1, 1, 6, 6), outputs=("y",)):
    return {"inputs": [{"name": "x", "shape": list(shape)}],
            "nodes": [{"name": "p", "op": op, "inputs": ["x"], "outputs": list(outputs), "attrs": attrs}],
            "outputs": list(outputs)}


def conv_model(attrs, params=None, shape=(1, 1, 6, 6)):
    node = {"name": "c", "op": "Conv2d", "inputs": ["x"], "outputs": ["y"],
            "attrs": dict({"in_channels": 1, "out_channels": 1, "kernel_size": 3}, **attrs)}
    if params is not None:
        node["params"] = params
    return {"inputs": [{"name": "x", "shape": list(shape)}], "nodes": [node], "outputs": ["y"]}


def bad_model(name, body, expect):
    case(name, ["run", model(name + ".json", body), "--random-inputs", "0", "--output-dir", "{out}"], expect)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))

    # --- malformed models ---------------------------------------------------
    bad_model("empty", "", "invalid JSON")
    bad_model("not_json", "hello", "invalid JSON")
    bad_model("truncated_json", '{"inputs": [{"name": "x", "shape": [1, 1', "invalid JSON")
    write("invalid_utf8.json", b'{"name": "\xff\xfe", "inputs": [], "nodes": [], "outputs": ["x"]}')
    case("invalid_utf8", ["run", "invalid_utf8.json", "--random-inputs", "0", "--output-dir", "{out}"], "invalid JSON")
    bad_model("top_level_list", "[1, 2, 3]", "must be a JSON object")
    bad_model("unknown_top_key", {"inputs": [], "nodez": [], "outputs": ["x"]}, "did you mean 'nodes'")
    bad_model("missing_nodes", {"inputs": [], "outputs": ["x"]}, "missing required key 'nodes'")
    bad_model("nodes_not_list", {"inputs": [], "nodes": {}, "outputs": ["x"]}, "nodes: must be a list")
    bad_model("node_not_object", {"inputs": [], "nodes": [3], "outputs": ["x"]}, "nodes[0]: must be an object")
    m = pool_model({"kernel_size": 2}); del m["nodes"][0]["op"]
    bad_model("node_missing_op", m, "missing required key 'op'")
    m = pool_model({"kernel_size": 2}); m["nodes"][0]["op"] = "MaxPooling2d"
    bad_model("unknown_op", m, "unknown op 'MaxPooling2d'")
    bad_model("unknown_attr", pool_model({"kernel_size": 2, "strides": 2}), "did you mean 'stride'")
    bad_model("attr_wrong_type", pool_model({"kernel_size": "2"}), "kernel_size must be an int or a list of two ints")
    bad_model("attr_wrong_length", pool_model({"kernel_size": [2, 2, 2]}), "has 3 entries")
    bad_model("attr_missing", pool_model({}), "missing required attribute 'kernel_size'")
    bad_model("attr_bool_for_int", pool_model({"kernel_size": True}), "kernel_size must be")
    m = pool_model({"kernel_size": 2}); m["nodes"].append(dict(m["nodes"][0], outputs=["z"]))
    bad_model("duplicate_node", m, "duplicate node name 'p'")
    m = pool_model({"kernel_size": 2}); m["nodes"][0]["outputs"] = ["x"]; m["outputs"] = ["x"]
    bad_model("duplicate_value", m, "value 'x' is already defined")
    m = pool_model({"kernel_size": 2}); m["nodes"][0]["inputs"] = ["image"]
    bad_model("undefined_input", m, "input 'image' is not a graph input or any node's output")
    bad_model("cycle", {"inputs": [{"name": "x", "shape": [1, 1, 4, 4]}], "nodes": [
        {"name": "a", "op": "MaxPool2d", "inputs": ["b"], "outputs": ["a"], "attrs": {"kernel_size": 1}},
        {"name": "b", "op": "MaxPool2d", "inputs": ["a"], "outputs": ["b"], "attrs": {"kernel_size": 1}}],
        "outputs": ["a"]}, "cycle")
    bad_model("wrong_output_count", pool_model({"kernel_size": 2}, outputs=("y", "i")), "produces 1 output")
    bad_model("wrong_input_count", pool_model({"kernel_size": 2}, op="MaxUnpool2d"), "MaxUnpool2d takes 2 inputs")
    bad_model("conv_channels", conv_model({"in_channels": 3}), "to have 3 channels, but got 1 channels instead")
    bad_model("pad_over_half", pool_model({"kernel_size": 2, "padding": 2}), "pad should be at most half of kernel size")
    bad_model("output_too_small", pool_model({"kernel_size": 7}), "Output size is too small")
    bad_model("zero_stride", pool_model({"kernel_size": 2, "stride": 0}), "stride should not be zero")
    bad_model("negative_dilation", pool_model({"kernel_size": 2, "dilation": -1}), "dilation should be greater than zero")
    bad_model("dilated_window_in_padding", pool_model({"kernel_size": 2, "padding": 1, "dilation": 3}, shape=(1, 1, 2, 2)),
              "wholly in the padding")
    bad_model("conv_groups", conv_model({"groups": 2}), "in_channels must be divisible by groups")
    bad_model("conv_same_strided", conv_model({"padding": "same", "stride": 2}), "padding='same' is not supported for strided")
    bad_model("conv_padding_mode", conv_model({"padding_mode": "mirror"}), "padding_mode must be one of")
    bad_model("conv_kernel_too_big", conv_model({"kernel_size": 9}), "Kernel size can't be greater than actual input size")
    bad_model("conv_reflect_too_wide", conv_model({"padding": 6, "padding_mode": "reflect"}), "Padding size should be less than")
    bad_model("avg_divisor_zero", pool_model({"kernel_size": 2, "divisor_override": 0}, op="AvgPool2d"), "divisor must be not zero")
    bad_model("adaptive_negative", pool_model({"output_size": [-1, 2]}, op="AdaptiveAvgPool2d"),
              "elements of output_size must be greater than or equal to 0")
    bad_model("unpool_output_size", {"inputs": [{"name": "x", "shape": [1, 1, 2, 2]}, {"name": "i", "shape": [1, 1, 2, 2], "dtype": "int64"}],
                                     "nodes": [{"name": "u", "op": "MaxUnpool2d", "inputs": ["x", "i"], "outputs": ["y"],
                                                "attrs": {"kernel_size": 2, "output_size": [9, 9]}}], "outputs": ["y"]},
              "invalid output_size")
    bad_model("unknown_param", conv_model({}, {"bias2": {"data": [1]}}), "Conv2d has no parameter 'bias2'")
    bad_model("param_data_length", conv_model({}, {"weight": {"data": [1, 2, 3]}}), "must be a list of 1 entries")
    bad_model("param_data_not_number", conv_model({"kernel_size": 1}, {"weight": {"data": [["x"]]}}), "must be")
    bad_model("param_npy_missing", conv_model({}, {"weight": {"npy": "no_such.npy"}}), "no_such.npy")
    np.save(os.path.join(OUT, "weight_2x2.npy"), np.ones((1, 1, 2, 2), np.float32))
    bad_model("param_npy_shape", conv_model({}, {"weight": {"npy": "weight_2x2.npy"}}), "weight_2x2.npy has shape [1, 1, 2, 2]")
    bad_model("param_init_unknown", conv_model({}, {"weight": {"init": "he_uniform"}}), "unknown init 'he_uniform'")
    bad_model("param_two_sources", conv_model({}, {"weight": {"init": "zeros", "data": [0]}}), "exactly one of")
    m = conv_model({}); m["weights"] = "no_such.safetensors"
    bad_model("weights_missing", m, "no_such.safetensors")
    write("corrupt.safetensors", struct.pack("<Q", 1 << 40) + b"{}")
    m = conv_model({}); m["weights"] = "corrupt.safetensors"
    bad_model("weights_corrupt", m, "corrupt safetensors")
    header = json.dumps({"c.weight": {"dtype": "F32", "shape": [1, 1, 3, 3], "data_offsets": [0, 36]}}).encode()
    write("truncated.safetensors", struct.pack("<Q", len(header)) + header + b"\0" * 20)
    m = conv_model({}); m["weights"] = "truncated.safetensors"
    bad_model("weights_truncated", m, "truncated")
    bad_model("shape_overflow", pool_model({"kernel_size": 1}, shape=(1 << 40, 1 << 40, 1 << 40, 1)), "overflows")
    bad_model("shape_over_limit", pool_model({"kernel_size": 1}, shape=(100000, 100000, 100, 100)), "over the limit")
    bad_model("deep_nesting", '{"inputs": [], "nodes": [], "outputs": ["x"], "name": ' + "[" * 500 + "]" * 500 + "}",
              "nested deeper than")
    m = pool_model({"kernel_size": 2}); m["inputs"][0]["dtype"] = "float64"
    bad_model("input_dtype", m, "must be \"float32\" or \"int64\"")
    bad_model("null_inner_dim", pool_model({"kernel_size": 2}, shape=(1, None, 6, 6)), "only the leading (batch) dimension may be null")
    m = pool_model({"kernel_size": 2}); m["outputs"] = ["z"]
    bad_model("unknown_output", m, "'z' is not a graph input")
    m = pool_model({"kernel_size": 2}); m["outputs"] = []
    bad_model("no_outputs", m, "at least one output")
    m = pool_model({"kernel_size": 2}); m["seed"] = -1
    bad_model("negative_seed", m, "seed: must be a non-negative integer")
    m = pool_model({"kernel_size": 2}); m["format"] = "onnx"
    bad_model("wrong_format", m, "unsupported format 'onnx'")
    case("missing_model", ["run", "no_such_model.json", "--random-inputs", "0"], "no such model file")
    case("model_is_directory", ["inspect", "."], "no such model file")

    # --- bad input files ----------------------------------------------------
    good = model("good_pool.json", pool_model({"kernel_size": 2}))
    unpool = model("good_unpool.json", {
        "inputs": [{"name": "x", "shape": [1, 1, 2, 2]}, {"name": "i", "shape": [1, 1, 2, 2], "dtype": "int64"}],
        "nodes": [{"name": "u", "op": "MaxUnpool2d", "inputs": ["x", "i"], "outputs": ["y"], "attrs": {"kernel_size": 2}}],
        "outputs": ["y"]})
    np.save(os.path.join(OUT, "x_6x6.npy"), np.arange(36, dtype=np.float32).reshape(1, 1, 6, 6))
    np.save(os.path.join(OUT, "x_5x5.npy"), np.zeros((1, 1, 5, 5), np.float32))
    np.save(os.path.join(OUT, "x_2x2.npy"), np.ones((1, 1, 2, 2), np.float32))
    np.save(os.path.join(OUT, "i_float.npy"), np.zeros((1, 1, 2, 2), np.float32))
    np.save(os.path.join(OUT, "i_out_of_range.npy"), np.array([0, 1, 2, 16], np.int64).reshape(1, 1, 2, 2))
    np.save(os.path.join(OUT, "i_negative.npy"), np.array([0, -1, 2, 3], np.int64).reshape(1, 1, 2, 2))
    full = open(os.path.join(OUT, "x_6x6.npy"), "rb").read()
    write("truncated_data.npy", full[:-10])
    write("truncated_header.npy", full[:30])
    write("bad_magic.npy", b"\x93NUMPX" + full[6:])
    np.save(os.path.join(OUT, "big_endian.npy"), np.zeros((1, 1, 6, 6), ">f4"))
    np.save(os.path.join(OUT, "fortran.npy"), np.asfortranarray(np.zeros((2, 3), np.float32)))
    np.save(os.path.join(OUT, "object.npy"), np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(os.path.join(OUT, "complex.npy"), np.zeros((1, 1, 6, 6), np.complex64))
    write("huge_shape.npy", b"\x93NUMPY\x01\x00" + b"v\x00" + (b"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"
                                                                  .ljust(117) + b"\n"))
    write("not_an_image.png", b"this is not a png at all")
    from PIL import Image
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(os.path.join(OUT, "gray_5x5.png"))
    Image.fromarray(np.zeros((6, 6, 3), np.uint8)).save(os.path.join(OUT, "rgb_6x6.jpg"), quality=90)
    jpeg = open(os.path.join(OUT, "rgb_6x6.jpg"), "rb").read()
    write("truncated.jpg", jpeg[: len(jpeg) // 2])
    png = open(os.path.join(OUT, "gray_5x5.png"), "rb").read()
    write("truncated.png", png[: len(png) // 2])
    write("empty.npy", b"")
    write("notes.txt", "not a tensor")

    def bad_input(name, path, expect, m=good, input_name="x", extra=()):
        case(name, ["run", m, "--input", f"{input_name}={path}", "--output-dir", "{out}", *extra], expect)

    bad_input("input_missing_file", "no_such.npy", "no_such.npy")
    bad_input("input_truncated_data", "truncated_data.npy", "truncated_data.npy")
    bad_input("input_truncated_header", "truncated_header.npy", "truncated_header.npy")
    bad_input("input_bad_magic", "bad_magic.npy", "bad_magic.npy")
    bad_input("input_big_endian", "big_endian.npy", "big-endian")
    bad_input("input_fortran", "fortran.npy", "fortran")
    bad_input("input_object", "object.npy", "object")
    bad_input("input_complex", "complex.npy", "complex.npy")
    bad_input("input_huge_shape", "huge_shape.npy", "huge_shape.npy")
    bad_input("input_empty_npy", "empty.npy", "empty.npy")
    bad_input("input_wrong_shape", "x_5x5.npy", "the model declares shape [1, 1, 6, 6], but got [1, 1, 5, 5]")
    bad_input("input_not_an_image", "not_an_image.png", "not_an_image.png")
    bad_input("input_image_wrong_size", "gray_5x5.png", "but got [1, 1, 5, 5]")
    bad_input("input_truncated_jpeg", "truncated.jpg", "truncated.jpg")
    bad_input("input_truncated_png", "truncated.png", "truncated.png")
    bad_input("input_unknown_extension", "notes.txt", "unsupported file type '.txt'")
    bad_input("input_unknown_name", "x_6x6.npy", "not an input of the model", input_name="image")
    case("input_not_given", ["run", good, "--output-dir", "{out}"], "input 'x' float32[1, 1, 6, 6] is not given")
    case("input_malformed_flag", ["run", good, "--input", "x_6x6.npy"], "--input expects NAME=PATH")
    case("input_twice", ["run", good, "--input", "x=x_6x6.npy", "--input", "x=x_6x6.npy"], "names 'x' twice")
    case("indices_float", ["run", unpool, "--input", "x=x_2x2.npy", "--input", "i=i_float.npy", "--output-dir", "{out}"],
         "i_float.npy")
    case("indices_out_of_range", ["run", unpool, "--input", "x=x_2x2.npy", "--input", "i=i_out_of_range.npy",
                                  "--output-dir", "{out}"], "Found an invalid max index: 16")
    case("indices_negative", ["run", unpool, "--input", "x=x_2x2.npy", "--input", "i=i_negative.npy",
                              "--output-dir", "{out}"], "Found an invalid max index: -1")
    case("indices_random", ["run", unpool, "--random-inputs", "1"], "int64 and cannot be random")
    case("grad_output_wrong_shape", ["run", good, "--input", "x=x_6x6.npy", "--backward", "--grad-output", "y=x_6x6.npy",
                                     "--output-dir", "{out}"], "the gradient of 'y' must be float32[1, 1, 3, 3]")
    case("grad_output_without_backward", ["run", good, "--input", "x=x_6x6.npy", "--grad-output", "y=x_6x6.npy"],
         "--grad-output needs --backward")
    case("grad_output_not_an_output", ["run", good, "--input", "x=x_6x6.npy", "--backward", "--grad-output", "x=x_6x6.npy",
                                       "--output-dir", "{out}"], "not an output of the model")

    # --- runs that must succeed (and write these files) ----------------------
    case("good_run", ["run", good, "--input", "x=x_6x6.npy", "--output-dir", "{out}", "--png"], "", status=0,
         writes=["y.npy", "y.png"])
    case("good_backward", ["run", good, "--input", "x=x_6x6.npy", "--output-dir", "{out}", "--backward"], "", status=0,
         writes=["y.npy", "grad/x.npy"])

    case("good_inspect", ["inspect", good], "", status=0)

    # --- bench: one JSON object with the timings and memory ----------------
    bench_keys = ["model", "backend", "threads", "batch", "iterations", "warmup", "forward_ms_median", "forward_ms_min",
                  "peak_bytes", "peak_rss_bytes", "memory.weights_bytes", "memory.arena_bytes",
                  "memory.unplanned_bytes", "memory.output_bytes", "memory.input_bytes", "nodes[].name", "nodes[].op",
                  "nodes[].backend.forward", "nodes[].forward_ms_median"]
    backward_keys = ["backward_ms_median", "backward_ms_min", "nodes[].backend.backward", "nodes[].backward_ms_median"]
    case("good_bench", ["bench", good, "--iterations", "3", "--warmup", "1"], "", status=0)
    case("good_bench_json", ["bench", good, "--iterations", "3", "--json"], "", status=0,
         json_stdout={"keys": bench_keys, "absent": backward_keys, "equals": {"iterations": 3, "batch": 1}})
    case("good_bench_backward_json", ["bench", good, "--iterations", "2", "--backward", "--json", "--backend", "naive"],
         "", status=0, json_stdout={"keys": bench_keys + backward_keys, "equals": {"backend": "naive"}})
    dynamic = model("good_dynamic_batch.json", pool_model({"kernel_size": 2}, shape=(None, 1, 6, 6)))
    case("good_bench_batch", ["bench", dynamic, "--batch", "3", "--iterations", "2", "--json"], "", status=0,
         json_stdout={"keys": bench_keys, "equals": {"batch": 3, "memory.input_bytes": 3 * 36 * 4}})
    case("good_bench_int64_input", ["bench", unpool, "--iterations", "2", "--backward", "--json"], "", status=0,
         json_stdout={"keys": bench_keys + backward_keys})
    case("good_threads_bench", ["--threads", "1", "bench", good, "--iterations", "2", "--json"], "", status=0,
         json_stdout={"equals": {"threads": 1}})
    case("good_threads_after", ["run", good, "--input", "x=x_6x6.npy", "--output-dir", "{out}", "--threads", "1"], "",
         status=0, writes=["y.npy"])
    case("bench_missing_model", ["bench", "no_such_model.json"], "no such model file")
    bad_model_file = model("bench_bad_model.json", pool_model({"kernel_size": 7}))
    case("bench_bad_model", ["bench", bad_model_file], "Output size is too small")

    # --- resource limits, and what fuzzing found ----------------------------
    # Flags and environment variables set the limits (docs/model-format.md);
    # a model over them is refused before anything large is allocated.
    case("limit_graph_flag", ["run", good, "--random-inputs", "0", "--output-dir", "{out}", "--max-graph-bytes", "100"],
         "the model needs 180 bytes, over the limit of 100 bytes per graph")
    case("limit_graph_flag_first", ["--max-graph-bytes", "300", "run", good, "--random-inputs", "0", "--output-dir",
                                    "{out}", "--backward"], "the compiled graph needs 360 bytes, over the limit of 300")
    case("limit_tensor_flag", ["run", good, "--input", "x=x_6x6.npy", "--output-dir", "{out}", "--max-tensor-bytes",
                               "100"], "over the limit of 100 bytes")
    case("limit_tensor_env", ["run", good, "--input", "x=x_6x6.npy", "--output-dir", "{out}"],
         "over the limit of 100 bytes", env={"MININN_MAX_TENSOR_BYTES": "100"})
    case("limit_graph_env", ["inspect", good], "over the limit of 300 bytes per graph", env={"MININN_MAX_GRAPH_BYTES": "300"})
    case("limit_bad_size", ["run", good, "--max-graph-bytes", "lots"], "lots", status=2)
    big_conv = conv_model({"in_channels": 4096, "out_channels": 4096, "kernel_size": 11, "padding": 5},
                          shape=(1, 4096, 8, 8))
    case("limit_8gb_weight", ["run", model("weight_8gb.json", big_conv), "--random-inputs", "0", "--output-dir", "{out}",
                              "--max-graph-bytes", "1G"], "the largest part: parameter c.weight")
    bad_model("json_number_overflow", '{"seed": 1e999, "inputs": [], "nodes": [], "outputs": ["x"]}',
              "invalid JSON: number overflow parsing '1e999'")
    bad_model("pool_window_overflow", pool_model({"kernel_size": 4611686018427387903, "dilation": 4}, op="MaxPool1d",
                                                 shape=(1, 1, 8)), "spans more than 2^62")
    bad_model("avg_padding_overflow", pool_model({"kernel_size": 9223372036854775807, "padding": 4611686018427387903},
                                                 op="AvgPool1d", shape=(1, 1, 8)), "spans more than 2^62")
    bad_model("conv_padding_overflow", conv_model({"kernel_size": 1, "padding": 4611686018427387903}),
              "overflows int64")
    bad_model("conv_same_overflow", conv_model({"kernel_size": 4611686018427387903, "dilation": 3, "padding": "same"}),
              "overflows int64")
    bad_model("unpool_size_overflow", {
        "inputs": [{"name": "x", "shape": [1, 1, 8]}, {"name": "i", "shape": [1, 1, 8], "dtype": "int64"}],
        "nodes": [{"name": "u", "op": "MaxUnpool1d", "inputs": ["x", "i"], "outputs": ["y"],
                   "attrs": {"kernel_size": 4611686018427387903, "stride": 4611686018427387903}}],
        "outputs": ["y"]}, "overflows int64")
    bad_model("adaptive_size_overflow", pool_model({"output_size": 4611686018427387903}, op="AdaptiveAvgPool2d",
                                                   shape=(1, 1, 8, 8)), "overflows int64")

    # --- bad usage (exit 2) -------------------------------------------------
    case("usage_no_command", [], "", status=2)
    case("usage_unknown_flag", ["run", good, "--frobnicate"], "frobnicate", status=2)
    case("usage_bad_backend", ["run", good, "--backend", "cuda"], "cuda", status=2)
    case("usage_bench_iterations_zero", ["bench", good, "--iterations", "0"], "--iterations: must be a whole number of at least 1",
         status=2)
    case("usage_bench_warmup_negative", ["bench", good, "--warmup", "-1"], "--warmup: must be a whole number of at least 0",
         status=2)
    case("usage_bench_no_model", ["bench"], "model is required", status=2)
    case("usage_threads_zero", ["--threads", "0", "inspect", good], "--threads: must be a whole number from 1 to 1024",
         status=2)
    case("usage_threads_not_a_number", ["bench", good, "--threads", "many"], "--threads: must be", status=2)

    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print(f"make_corpus: {len(cases)} cases in {OUT}")


if __name__ == "__main__":
    sys.exit(main())
