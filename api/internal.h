// What the public handles (include/mininn/) hold, shared by the api/ sources.
// Nothing here is installed: the facade's whole point is that the executor
// behind it can change without the public headers changing.
#pragma once

#include "framework/error.h"
#include "graph/executor.h"
#include "graph/graph.h"

#include <mininn/model.h>

#include <fmt/format.h>

#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace mininn {

struct Model::Impl {
  std::shared_ptr<Graph> graph;
};

struct Session::Impl {
  std::shared_ptr<Model::Impl> model;
  std::shared_ptr<const CompiledGraph> plan;
  std::unique_ptr<Execution> execution;  // after plan: destroyed first
  SessionOptions options;
  std::vector<TensorInfo> inputs, outputs;
  std::vector<Tensor> bound;  // per graph output: caller memory forward writes into, or undefined
  bool ran_forward = false, ran_backward = false;
};

namespace api {

// Runs a facade entry point so that only mininn::Error leaves the library:
// an allocation failure or an unexpected exception from inside becomes one.
template <typename Body>
decltype(auto) guarded(Body&& body) {
  try {
    return body();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Error("out of memory");
  } catch (const std::exception& e) {
    throw Error(fmt::format("internal error: {}", e.what()));
  }
}

// A name from a list, or an Error "<what> 'x' ... (did you mean 'y'?); <list_name>: a, b".
size_t find_name(const std::vector<std::string>& names, std::string_view name, const std::string& unknown,
                 const std::string& list_name);

}  // namespace api
}  // namespace mininn
