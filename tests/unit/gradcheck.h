// Finite-difference gradient checks of one op's backward, through the real
// graph machinery (parse_model, CompiledGraph, Execution).
//
//   GradCheck check{.op = "AvgPool2d", .attrs = {{"kernel_size", 3}, {"padding", 1}},
//                   .inputs = {{.shape = {2, 3, 7, 7}}}};
//   GradCheckReport report = run_gradcheck(check);
//   EXPECT_TRUE(report.ok()) << report.summary();
//
// The check builds a one-node model (inputs "in0", "in1", ..., outputs
// "out0", ...), draws the inputs, the parameters (given to the model as
// data) and an upstream gradient u for every float output, runs forward and
// backward, and compares every element of the analytic gradient of
//     L = sum over float outputs of u * output
// with respect to each float input and each parameter with the central
// difference (L(v + eps) - L(v - eps)) / (2 eps).
//
// Precision. Kernels compute in float32; L is summed in double from the
// float32 outputs, and only outputs that depend on the perturbed element
// change (the others are bit-identical in both runs and cancel exactly), so
// the difference quotient is off by about (rounding of those few outputs,
// ~2^-24 |u| |y| each) / eps. For ops linear in the perturbed value (conv,
// averages, unpooling; max pools while the argmax stays put) the central
// difference has no truncation error, so a large eps = 1e-2 is best: the
// noise is then ~1e-5, and the default tolerance |numeric - analytic| <=
// 1e-3 + 1e-3 |analytic| is ~100x above it. A real bug (a wrong divisor, a
// missed or extra tap, a gradient sent to the wrong cell) errs by a whole
// term, >= 1e-2 for the sizes tested, and fails. For smooth nonlinear ops
// the truncation error is ~eps^2/6 |f'''|; keep eps = 1e-2 for moderate
// curvature, or lower it (and raise atol) near a singularity.
//
// Max-type ops are differentiable only while the argmax cannot change:
// draw their inputs with Draw::Separated (distinct values at least 0.1
// apart, so +-eps never reorders a window). MaxUnpool's indices are an int64
// input given by value (GradInput::value); unique indices, since the
// gradient of a duplicate is a gather by definition (PyTorch #80204), not
// the derivative. Every check also reports the largest |analytic| seen: a
// test should require it to be clearly non-zero, or comparing zeros with
// zeros proves nothing.
#pragma once

#include "framework/error.h"
#include "framework/rng.h"
#include "graph/executor.h"
#include "ops/attrs.h"
#include "ops/registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mininn::testing {

enum class Draw {
  Normal,     // N(0, 1)
  Separated,  // distinct values >= 0.1 apart (a random permutation), for max-type ops
  Positive,   // U(0.5, 1.5), for ops defined on positive values (x^p)
};

struct GradInput {
  Shape shape{};
  Draw draw = Draw::Normal;
  Tensor value{};     // given values instead of a draw: required for int64 inputs (indices)
  bool check = true;  // compare this input's gradient (float inputs only)
};

struct GradCheck {
  std::string op{};                                   // "MaxPool2d"
  nlohmann::json attrs = nlohmann::json::object();    // {"kernel_size": 3}
  std::vector<GradInput> inputs{};
  bool check_params = true;  // parameters: drawn N(0, 0.5^2), compared like inputs
  Backend backend = Backend::Naive;
  uint64_t seed = 1;
  double eps = 1e-2;
  double atol = 1e-3, rtol = 1e-3;
  // For the harness's own tests: alters an analytic gradient (name, tensor)
  // before the comparison, to show that a wrong gradient is caught.
  std::function<void(const std::string&, Tensor&)> tamper{};
};

struct GradCheckReport {
  int compared = 0;             // derivatives compared
  int mismatches = 0;
  double max_abs_gradient = 0;  // the largest |analytic| compared
  double max_error = 0;         // the largest |numeric - analytic|
  std::string first_mismatch;   // "in0 element [0, 1, 2] (flat 5): analytic 0.25, numeric 0.5"

  bool ok() const { return compared > 0 && mismatches == 0; }
  std::string summary() const {
    return fmt::format("{} derivatives compared, {} mismatch{}{}{}; max |gradient| {:.3g}, max error {:.3g}", compared,
                       mismatches, mismatches == 1 ? "" : "es", first_mismatch.empty() ? "" : ", first: ",
                       first_mismatch, max_abs_gradient, max_error);
  }
};

namespace gradcheck_detail {

inline nlohmann::json nested(const float* data, const Shape& shape, size_t dim) {
  if (dim == shape.size()) return *data;
  nlohmann::json list = nlohmann::json::array();
  int64_t stride = 1;
  for (size_t d = dim + 1; d < shape.size(); ++d) stride *= shape[d];
  for (int64_t i = 0; i < shape[dim]; ++i) list.push_back(nested(data + i * stride, shape, dim + 1));
  return list;
}

inline std::string flat_index(const Shape& shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return fmt::format("[{}]", fmt::join(index, ", "));
}

inline void draw(Tensor& t, Draw kind, Generator& generator) {
  std::span<float> values = t.floats();
  if (kind == Draw::Normal) return generator.normal(values, 0.0, 1.0);
  if (kind == Draw::Positive) return generator.uniform(values, 0.5, 1.5);
  std::vector<int64_t> order(values.size());
  generator.randperm(order);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = 0.1f * static_cast<float>(order[i] - static_cast<int64_t>(values.size() / 2));
}

// One model and its compiled plan, for given parameter values.
class Model {
 public:
  Model(const GradCheck& check, const std::vector<Tensor>& inputs, const std::vector<std::pair<std::string, Tensor>>& params,
        int outputs) {
    using nlohmann::json;
    json model = {{"format", "mininn/1"}, {"inputs", json::array()}, {"outputs", json::array()}};
    json node = {{"name", "node"}, {"op", check.op}, {"attrs", check.attrs}, {"inputs", json::array()},
                 {"outputs", json::array()}, {"params", json::object()}};
    for (size_t i = 0; i < inputs.size(); ++i) {
      json entry = {{"name", fmt::format("in{}", i)}, {"shape", inputs[i].shape()}};
      if (inputs[i].dtype() == DType::Int64) entry["dtype"] = "int64";
      model["inputs"].push_back(entry);
      node["inputs"].push_back(entry["name"]);
    }
    for (int o = 0; o < outputs; ++o) {
      node["outputs"].push_back(fmt::format("out{}", o));
      model["outputs"].push_back(fmt::format("out{}", o));
    }
    for (const auto& [name, value] : params) node["params"][name] = {{"data", nested(value.f32(), value.shape(), 0)}};
    model["nodes"] = json::array({node});
    graph = std::make_shared<const Graph>(parse_model(model.dump(), "gradcheck model", "."));
    std::vector<Shape> shapes;
    for (const Tensor& t : inputs) shapes.push_back(t.shape());
    plan = std::make_unique<CompiledGraph>(graph, shapes, CompileOptions{check.backend, false, true});
    execution = std::make_unique<Execution>(*plan);
  }

  // Forward; copies of every output.
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) {
    execution->forward(inputs);
    std::vector<Tensor> out;
    for (size_t o = 0; o < graph->outputs.size(); ++o) out.push_back(execution->output(o).clone());
    return out;
  }

  std::shared_ptr<const Graph> graph;
  std::unique_ptr<CompiledGraph> plan;
  std::unique_ptr<Execution> execution;
};

// sum(u * (plus - minus)) over the seeded outputs, in double.
inline double weighted_difference(const std::vector<Tensor>& plus, const std::vector<Tensor>& minus,
                                  const std::vector<Tensor>& upstream) {
  double sum = 0;
  for (size_t o = 0; o < upstream.size(); ++o) {
    if (!upstream[o].defined()) continue;
    const float *a = plus[o].f32(), *b = minus[o].f32(), *u = upstream[o].f32();
    for (int64_t i = 0; i < upstream[o].numel(); ++i) sum += double(u[i]) * (double(a[i]) - double(b[i]));
  }
  return sum;
}

}  // namespace gradcheck_detail

inline GradCheckReport run_gradcheck(const GradCheck& check) {
  using namespace gradcheck_detail;
  Generator generator(check.seed);
  const OpSchema* schema = registry().find(check.op);
  if (!schema) throw Error(fmt::format("gradcheck: unknown op '{}'", check.op));
  std::unique_ptr<Op> op = schema->create(Attrs(schema->attrs, check.attrs, "attrs", schema->spatial_rank));
  const int outputs = op->num_outputs();

  std::vector<Tensor> inputs;
  for (const GradInput& in : check.inputs) {
    if (in.value.defined()) {
      inputs.push_back(in.value.clone());
      continue;
    }
    Tensor t = Tensor::empty(in.shape);
    draw(t, in.draw, generator);
    inputs.push_back(t);
  }
  // The parameters' shapes come from the op; their values are drawn here.
  std::vector<std::pair<std::string, Tensor>> params;
  for (const ParamDecl& decl : op->params()) {
    Tensor t = Tensor::empty(decl.shape);
    generator.normal(t.floats(), 0.0, 0.5);
    params.emplace_back(decl.name, t);
  }

  Model model(check, inputs, params, outputs);
  const Graph& g = *model.graph;
  std::vector<Tensor> upstream(outputs);
  std::vector<std::pair<int, Tensor>> seeds;
  model.run(inputs);  // the forward pass backward needs
  for (int o = 0; o < outputs; ++o) {
    int v = g.outputs[o];
    if (!g.values[v].requires_grad) continue;  // int64 indices, or nothing upstream needs it
    upstream[o] = Tensor::empty(model.plan->desc(v).shape);
    generator.normal(upstream[o].floats(), 0.0, 1.0);
    seeds.emplace_back(v, upstream[o]);
  }
  model.execution->backward(seeds);

  GradCheckReport report;
  // Compares `analytic` with central differences over every element of
  // `value`, which `rerun` reads (it is perturbed in place).
  auto compare = [&](const std::string& name, const Tensor& gradient, Tensor& value,
                     const std::function<std::vector<Tensor>()>& rerun) {
    Tensor analytic = gradient.defined() ? gradient.clone() : Tensor::zeros(value.shape());
    if (check.tamper) check.tamper(name, analytic);
    float* v = value.f32();
    for (int64_t i = 0; i < value.numel(); ++i) {
      const float saved = v[i];
      const float up = static_cast<float>(saved + check.eps), down = static_cast<float>(saved - check.eps);
      v[i] = up;
      std::vector<Tensor> plus = rerun();
      v[i] = down;
      std::vector<Tensor> minus = rerun();
      v[i] = saved;
      // Divide by the step actually taken (float rounding of v +- eps).
      double numeric = weighted_difference(plus, minus, upstream) / (double(up) - double(down));
      double a = analytic.f32()[i], error = std::fabs(numeric - a);
      ++report.compared;
      report.max_abs_gradient = std::max(report.max_abs_gradient, std::fabs(a));
      report.max_error = std::max(report.max_error, error);
      if (error > check.atol + check.rtol * std::fabs(a) && report.mismatches++ == 0)
        report.first_mismatch = fmt::format("{} element {} (flat {}): analytic {:.6g}, numeric {:.6g}", name,
                                            flat_index(value.shape(), i), i, a, numeric);
    }
  };

  // Inputs: the same compiled model on perturbed inputs.
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (inputs[k].dtype() != DType::Float32 || !check.inputs[k].check) continue;
    compare(fmt::format("in{}", k), model.execution->grad(g.inputs[k].value), inputs[k], [&] { return model.run(inputs); });
  }
  // Parameters: a model rebuilt with each perturbed value (kernels may have
  // prepared the weights when they were compiled).
  if (check.check_params) {
    for (size_t p = 0; p < params.size(); ++p) {
      const std::string name = "node." + params[p].first;
      compare(name, model.execution->param_grad(g.find_param(name)), params[p].second,
              [&] { return Model(check, inputs, params, outputs).run(inputs); });
    }
  }
  return report;
}

}  // namespace mininn::testing
