"""ReLU, LeakyReLU, Sigmoid, Tanh, Softmax and LogSoftmax: every rank from 1
to 5, negative and legacy (null) softmax dims, special values (NaN, +-inf)
forward, and the errors torch raises."""

from __future__ import annotations

ELEMENTWISE = [("ReLU", {}), ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.2}),
               ("LeakyReLU", {"negative_slope": -1.5}), ("Sigmoid", {}), ("Tanh", {})]


def random_shape(kit):
    rank = kit.randint(1, 5)
    return tuple(kit.randint(1, 5) for _ in range(rank))


def cases(kit):
    for op, attrs in ELEMENTWISE:
        for _ in range(12):
            shape = random_shape(kit)
            yield kit.op_case(op, attrs, [kit.tensor(shape) * 3])
        # NaN and infinities pass through as torch passes them (forward only:
        # the gradient at +-inf is a matter of the formula, checked above).
        yield kit.op_case(op, attrs, [kit.tensor((2, 3, 4), "special")], backward=False)
        yield kit.op_case(op, attrs, [kit.tensor((4, 5), "inf")], backward=False)
    # Ties at zero: ReLU's and LeakyReLU's gradient at exactly 0 is torch's choice (0, slope).
    for op, attrs in ELEMENTWISE[:5]:
        yield kit.op_case(op, attrs, [kit.tensor((3, 6), "ints") - 1.0])

    for op in ("Softmax", "LogSoftmax"):
        for _ in range(25):
            shape = random_shape(kit)
            rank = len(shape)
            dim = kit.choice([None, kit.randint(-rank, rank - 1)])
            yield kit.op_case(op, {"dim": dim}, [kit.tensor(shape) * 4])
        yield kit.op_case(op, {"dim": 1}, [kit.tensor((3, 7)) * 60])  # large logits: stable
        yield kit.op_case(op, {"dim": -1}, [kit.tensor((2, 5), "neginf")], backward=False)
        yield kit.op_case(op, {"dim": 2}, [kit.tensor((2, 3))])  # out of range
        yield kit.op_case(op, {"dim": -3}, [kit.tensor((2, 3))])
    yield kit.op_case("LeakyReLU", {"negative_slope": "x"}, [kit.tensor((2, 3))],
                      expect_error="(mininn refuses a non-number negative_slope when loading; torch fails later)")
