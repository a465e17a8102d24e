"""The golden values of the spec (section 11 and the worked examples of
sections 3-6 and 9). The generator checks that torch still gives them, then
the cases check mininn against torch as usual."""

from __future__ import annotations

import numpy as np

x16 = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
nan, inf = float("nan"), float("inf")


def arr(values, dtype=np.float32):
    return np.array(values, dtype=dtype)


def golden(kit, op, attrs, x, output, indices=None, params="random", extra_inputs=()):
    case = kit.op_case(op, attrs, [x, *extra_inputs], params=params)
    about = case.about
    if case.error is not None:
        raise AssertionError(f"golden {about}: torch raised {case.error}")
    got = case.files["out_output.npy"]
    np.testing.assert_allclose(got, arr(output).reshape(got.shape), rtol=0, atol=1e-4, equal_nan=True,
                               err_msg=f"torch no longer gives the spec's golden values for {about}")
    if indices is not None:
        np.testing.assert_array_equal(case.files["out_indices.npy"], arr(indices, np.int64).reshape(got.shape),
                                      err_msg=f"torch no longer gives the spec's golden indices for {about}")
    case.about = f"golden: {about}"
    return case


def cases(kit):
    # Section 11.
    yield golden(kit, "MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "return_indices": True}, x16, [[5, 7], [13, 15]], [[5, 7], [13, 15]])
    yield golden(kit, "AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, x16, [[1.1111, 2.6667], [5.6667, 10.0]])
    yield golden(kit, "AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}, x16, [[2.5, 4.0], [8.5, 10.0]])
    yield golden(kit, "AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, x16,
                 [[1.1111, 2.6667, 1.6667], [5.6667, 10, 5.5], [4.1667, 7, 3.75]])
    yield golden(kit, "AdaptiveAvgPool2d", {"output_size": [3, 3]}, x16, [[2.5, 3.5, 4.5], [6.5, 7.5, 8.5], [10.5, 11.5, 12.5]])
    yield golden(kit, "AdaptiveMaxPool2d", {"output_size": [3, 3], "return_indices": True}, x16,
                 [[5, 6, 7], [9, 10, 11], [13, 14, 15]], [[5, 6, 7], [9, 10, 11], [13, 14, 15]])
    ones5 = np.ones((1, 1, 5), np.float32)
    yield golden(kit, "AvgPool1d", {"kernel_size": 3, "stride": 2, "padding": 1}, ones5, [0.6667, 1, 0.6667])
    yield golden(kit, "AvgPool1d", {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}, ones5, [1, 1, 1])
    ones6 = np.ones((1, 1, 6, 6), np.float32)
    p = [0.4444, 0.6667, 0.6667, 0.3333]
    yield golden(kit, "AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, ones6,
                 [p, [0.6667, 1, 1, 0.5], [0.6667, 1, 1, 0.5], [0.3333, 0.5, 0.5, 0.25]])
    yield golden(kit, "MaxPool1d", {"kernel_size": 2, "stride": 2, "ceil_mode": True, "return_indices": True}, arr([[[5, 4, 3, 2, 1]]]), [5, 3, 1], [0, 2, 4])
    yield golden(kit, "MaxPool2d", {"kernel_size": 2, "stride": 1, "padding": 0, "dilation": 2}, np.arange(25, dtype=np.float32).reshape(1, 1, 5, 5),
                 [[12, 13, 14], [17, 18, 19], [22, 23, 24]])
    pooled, where = arr([[[[7, 9], [17, 19]]]]), arr([[[[6, 8], [16, 18]]]], np.int64)
    restored = np.zeros(25, np.float32)
    restored[[6, 8, 16, 18]] = [7, 9, 17, 19]
    yield golden(kit, "MaxUnpool2d", {"kernel_size": 2, "stride": 2, "output_size": [5, 5]}, pooled, restored, extra_inputs=[where])
    # Section 3: padding is -inf; ties; NaN; all -inf; PyTorch's corner tests.
    yield golden(kit, "MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, -np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3), [[-1, -2], [-4, -5]])
    yield golden(kit, "MaxPool1d", {"kernel_size": 5, "return_indices": True}, arr([[[1, 3, 3, 2, 3]]]), [3], [1])
    yield golden(kit, "MaxPool1d", {"kernel_size": 5, "return_indices": True}, arr([[[1, nan, 5, nan, 2]]]), [nan], [3])
    yield golden(kit, "MaxPool2d", {"kernel_size": 3, "stride": 1, "padding": 1, "return_indices": True}, np.full((1, 1, 3, 3), -inf, np.float32),
                 np.full((3, 3), -inf), [[0, 0, 1], [0, 0, 1], [3, 3, 4]])
    yield golden(kit, "MaxPool1d", {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": 2}, arr([[1, 2]]), [[2, 1]])
    yield golden(kit, "MaxPool1d", {"kernel_size": 2, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True}, arr([[1, 2]]), [[2, 2]])
    yield golden(kit, "MaxPool2d", {"kernel_size": 2, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True, "return_indices": True},
                 arr([[[[-1, -2], [-3, -4]]]]), np.full((2, 2), -4.0), np.full((2, 2), 3))
    # Section 4: the ceil overhang is never counted; divisor_override beats count_include_pad.
    yield golden(kit, "AvgPool1d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, arr([[[1, 2, 3, 4, 5, 6]]]), [1, 3, 5, 3])
    yield golden(kit, "AvgPool2d", {"kernel_size": 2, "stride": 3, "ceil_mode": True}, np.arange(49, dtype=np.float32).reshape(1, 1, 7, 7),
                 [[4, 7, 9.5], [25, 28, 30.5], [42.5, 45.5, 48]])
    yield golden(kit, "AvgPool2d", {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False, "divisor_override": 2},
                 np.ones((1, 1, 3, 3), np.float32), [[2, 3, 2], [3, 4.5, 3], [2, 3, 2]])
    # Section 5: upsampling windows; non-divisible windows.
    yield golden(kit, "AdaptiveMaxPool1d", {"output_size": 5, "return_indices": True}, arr([[[1, 2, 3]]]), [1, 2, 2, 3, 3], [0, 1, 1, 2, 2])
    yield golden(kit, "AdaptiveMaxPool2d", {"output_size": [2, 4], "return_indices": True}, np.arange(30, dtype=np.float32).reshape(1, 1, 5, 6),
                 [[13, 14, 16, 17], [25, 26, 28, 29]], [[13, 14, 16, 17], [25, 26, 28, 29]])
    # Section 6: duplicate indices, the last write wins.
    yield golden(kit, "MaxUnpool2d", {"kernel_size": 2}, arr([[[[1, 2], [3, 4]]]]), [[4, 0, 0, 0], [0, 3, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]],
                 extra_inputs=[arr([[[[5, 5], [5, 0]]]], np.int64)])
    # Section 9: 'same' puts the extra cell after.
    tap = {"weight": arr([[[[0, 0], [0, 1]]]])}
    yield golden(kit, "Conv2d", {"in_channels": 1, "out_channels": 1, "kernel_size": 2, "padding": "same", "bias": False},
                 np.arange(1, 10, dtype=np.float32).reshape(1, 1, 3, 3), [[5, 6, 0], [8, 9, 0], [0, 0, 0]], params=tap)
