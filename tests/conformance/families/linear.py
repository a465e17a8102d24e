"""Linear (batched, unbatched, several leading dimensions, bias on and off,
PyTorch's default initialisation from the seed) and Flatten (every start/end
pair, negative dims, errors)."""

from __future__ import annotations


def cases(kit):
    for _ in range(40):
        n_in, n_out = kit.randint(1, 9), kit.randint(1, 7)
        lead = kit.choice([(), (kit.randint(1, 4),), (kit.randint(1, 3), kit.randint(1, 3))])
        attrs = {"in_features": n_in, "out_features": n_out}
        if kit.coin(0.3):
            attrs["bias"] = False
        yield kit.op_case("Linear", attrs, [kit.tensor((*lead, n_in))])
    for seed in (0, 3):  # the default initialisation, drawn from the model seed as torch draws it
        yield kit.op_case("Linear", {"in_features": 12, "out_features": 5}, [kit.tensor((2, 12))], params="default",
                          seed=seed)
    yield kit.op_case("Linear", {"in_features": 400, "out_features": 120}, [kit.tensor((8, 400))])
    yield kit.op_case("Linear", {"in_features": 4, "out_features": 3}, [kit.tensor((2, 5))])  # mismatch
    yield kit.op_case("Linear", {"in_features": 0, "out_features": 3}, [kit.tensor((2, 0))],
                      expect_error="(mininn refuses in_features=0; torch builds an empty layer)")

    for _ in range(30):
        rank = kit.randint(1, 5)
        shape = tuple(kit.randint(1, 4) for _ in range(rank))
        start = kit.randint(-rank, rank - 1)
        end = kit.randint(-rank, rank - 1)
        yield kit.op_case("Flatten", {"start_dim": start, "end_dim": end}, [kit.tensor(shape)])
    yield kit.op_case("Flatten", {}, [kit.tensor((2, 3, 4, 5))])
    yield kit.op_case("Flatten", {"start_dim": 0}, [kit.tensor((2, 3, 4))])
    yield kit.op_case("Flatten", {"start_dim": 3}, [kit.tensor((2, 3))])  # out of range
