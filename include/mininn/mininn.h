// mininn: a small C++20 deep-learning framework with PyTorch's semantics.
//
// Load a network written in JSON, or build the same one in code with
// torch.nn's names; compile it for input shapes and a backend; run it
// forward and backward on your own memory; read gradients by name.
//
//   #include <mininn/mininn.h>
//
//   // 1. A model: from a file (docs/model-format.md) ...
//   mininn::Model model = mininn::Model::load("net.json");
//   // ... or built in code, the same graph with the same checks:
//   mininn::ModelBuilder net("net");
//   net.input("image", {1, 1, 28, 28});
//   net.add("conv", "Conv2d", {"image"}, {"features"},
//           {{"in_channels", 1}, {"out_channels", 4}, {"kernel_size", 3}});
//   net.add("pool", "MaxPool2d", {"features"}, {"pooled"}, {{"kernel_size", 2}});
//   net.output("pooled");
//   model = net.build();
//
//   // 2. Compile once: shapes inferred, a kernel chosen for every node.
//   mininn::Session session = model.compile({.backend = mininn::Backend::Auto, .backward = true});
//
//   // 3. Run on caller memory (wrapped, not copied) or on library tensors.
//   std::vector<float> pixels(28 * 28);
//   session.forward({mininn::Tensor::wrap(std::span(pixels), {1, 1, 28, 28})});
//   mininn::Tensor pooled = session.output("pooled");      // float32[1, 4, 13, 13]
//
//   // 4. Back-propagate (ones for every float output, or your gradients)
//   //    and read gradients and parameters by name.
//   session.backward();
//   mininn::Tensor dw = session.param_grad("conv.weight");  // float32[4, 1, 3, 3]
//   mininn::Tensor w  = model.parameter("conv.weight");
//
// Every failure is a mininn::Error naming the JSON path, node and op:
//   nodes[1].attrs.kernel: node 'pool' (MaxPool2d): unknown attribute 'kernel' (did you mean 'kernel_size'?); ...
//
// The headers:
//   mininn/tensor.h   Tensor, DType, Shape: dense float32/int64 arrays, owned or wrapped
//   mininn/model.h    Model (load, parameters), Session (forward, backward, gradients, dot)
//   mininn/builder.h  ModelBuilder, AttrValue: networks in code
//   mininn/ops.h      available_ops(): every op and attribute, from the registry
//   mininn/error.h    Error, the one exception type
//   mininn/backend.h  Backend: auto, onednn, naive
//   mininn/config.h   version, export macro
//
// Guide: docs/cpp-api.md. Link with find_package(mininn) -> mininn::mininn,
// or pkg-config --cflags --libs mininn.
#pragma once

#include <mininn/backend.h>
#include <mininn/builder.h>
#include <mininn/config.h>
#include <mininn/error.h>
#include <mininn/model.h>
#include <mininn/ops.h>
#include <mininn/tensor.h>
