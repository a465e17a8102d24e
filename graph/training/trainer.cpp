#include "graph/training/trainer.h"

#include "framework/error.h"
#include "framework/file.h"
#include "framework/safetensors.h"
#include "graph/spec.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <numeric>

namespace mininn {
namespace {

// Names the trainer adds to the model; a model may not use them itself.
constexpr const char* kLabels = "mininn.labels";
constexpr const char* kLoss = "mininn.loss";

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

struct Trainer::Slot {
  std::unique_ptr<CompiledGraph> plan;
  std::unique_ptr<Execution> execution;
  Tensor images, labels, seed;  // batch buffers, and the loss's upstream gradient (1)
};

Trainer::~Trainer() = default;

Trainer::Trainer(const std::string& model_path, TrainOptions options) : options_(options), generator_(options.seed) {
  check(options_.epochs >= 1, "--epochs must be at least 1, but got {}", options_.epochs);
  check(options_.batch_size >= 1, "--batch-size must be at least 1, but got {}", options_.batch_size);
  options_.optimizer.validate();

  // The model as written, with every check `mininn run` makes.
  Graph model = load_model(model_path);
  check(model.inputs.size() == 1 && model.values[model.inputs[0].value].desc.dtype == DType::Float32,
        "{}: training needs a model with exactly one float32 input (the images), but it has {} input{}", model_path,
        model.inputs.size(), model.inputs.size() == 1 ? " of another type" : "s");
  check(model.outputs.size() == 1, "{}: training needs a model with exactly one output (the logits), but it has {}",
        model_path, model.outputs.size());
  const Value& input = model.values[model.inputs[0].value];
  const Value& output = model.values[model.outputs[0]];
  check(input.desc.shape.size() >= 2,
        "{}: the input '{}' is {}; training needs a batched input (N, C, H, W) whose first dimension is the batch",
        model_path, input.name, to_string(input.desc.shape));
  check(output.desc.dtype == DType::Float32 && output.desc.shape.size() == 2,
        "{}: the output '{}' must be float32 logits (N, classes), but it is {}", model_path, output.name,
        to_string(output.desc));
  for (const char* name : {kLabels, kLoss})
    check(model.find_value(name) < 0 && model.find_node(name) < 0, "{}: the name '{}' is reserved for training",
          model_path, name);

  // The training graph: a null batch, plus labels -> CrossEntropyLoss.
  nlohmann::json document = nlohmann::json::parse(read_file(model_path, size_t{256} << 20));
  std::string base = std::filesystem::path(model_path).parent_path().string();
  ModelSpec spec = parse_model_spec(document, model_path, base.empty() ? "." : base);
  spec.inputs[0].shape[0] = kDynamic;
  spec.inputs[0].requires_grad = false;  // no gradient for the images themselves
  spec.inputs.push_back({kLabels, {kDynamic}, DType::Int64, false, "(training labels)"});
  NodeSpec loss;
  loss.name = kLoss;
  loss.op = "CrossEntropyLoss";
  loss.inputs = {output.name, kLabels};
  loss.outputs = {kLoss};
  loss.path = "(training loss)";
  spec.nodes.push_back(loss);
  spec.outputs = {output.name, kLoss};
  try {
    graph_ = std::make_shared<const Graph>(build_graph(spec));
  } catch (const Error& e) {
    Error::Where where = e.where();
    where.path = model_path + ": " + where.path;
    throw Error(e.message(), where);
  }

  sample_shape_.assign(input.desc.shape.begin() + 1, input.desc.shape.end());
  classes_ = output.desc.shape[1];
  check(classes_ >= 1, "{}: the logits have no classes", model_path);
  logits_value_ = graph_->outputs[0];
  loss_value_ = graph_->outputs[1];
  std::vector<Tensor> trainable;
  for (size_t p = 0; p < graph_->params.size(); ++p)
    if (graph_->params[p].trainable) {
      trainable_.push_back(static_cast<int>(p));
      trainable.push_back(graph_->params[p].tensor);  // shares the storage: updates are seen by every plan
    }
  check(!trainable.empty(), "{}: the model has no trainable parameters", model_path);
  optimizer_ = Optimizer::create(options_.optimizer, std::move(trainable));
}

Trainer::Slot& Trainer::slot(bool training, int64_t batch) {
  std::unique_ptr<Slot>& slot = slots_[{training, batch}];
  if (slot) return *slot;
  slot = std::make_unique<Slot>();
  Shape images = sample_shape_;
  images.insert(images.begin(), batch);
  slot->plan = std::make_unique<CompiledGraph>(graph_, std::vector<Shape>{images, {batch}},
                                               CompileOptions{options_.backend, training, training});
  slot->execution = std::make_unique<Execution>(*slot->plan);
  slot->execution->use_generator(generator_);
  slot->images = Tensor::empty(images);
  slot->labels = Tensor::empty({batch}, DType::Int64);
  slot->seed = Tensor::full({}, 1.0f);
  return *slot;
}

std::pair<double, int64_t> Trainer::run_batch(Slot& slot, const Dataset& data, const std::vector<int64_t>& order,
                                              int64_t begin, int64_t end, bool train) {
  const size_t sample_bytes = static_cast<size_t>(data.sample_numel()) * sizeof(float);
  const auto* source = static_cast<const std::byte*>(data.images.raw());
  auto* images = static_cast<std::byte*>(slot.images.raw());
  for (int64_t i = begin; i < end; ++i) {
    int64_t row = order.empty() ? i : order[i];
    std::memcpy(images + (i - begin) * sample_bytes, source + row * sample_bytes, sample_bytes);
    slot.labels.i64()[i - begin] = data.labels.i64()[row];
  }
  Execution& run = *slot.execution;
  run.forward({slot.images, slot.labels});
  const double loss = run.value(loss_value_).f32()[0];

  const Tensor& logits = run.value(logits_value_);
  int64_t correct = 0;
  for (int64_t r = 0; r < end - begin; ++r) {
    const float* row = logits.f32() + r * classes_;
    correct += (std::max_element(row, row + classes_) - row) == slot.labels.i64()[r];
  }
  if (train) {
    run.backward({{loss_value_, slot.seed}});
    std::vector<Tensor> grads;
    grads.reserve(trainable_.size());
    for (int p : trainable_) grads.push_back(run.param_grad(p));
    optimizer_->step(grads);
  }
  return {loss, correct};
}

EpochReport Trainer::train_epoch(const Dataset& data, const std::function<void(const StepReport&)>& on_step) {
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = data.size();
  check(n > 0, "{} is empty", data.name);
  ++epoch_;
  // torch.utils.data.DataLoader(shuffle=True): the iterator draws its base
  // seed, the sampler draws a seed for its own generator and shuffles with it.
  generator_.random64();
  Generator shuffle(generator_.random64() % (uint64_t{1} << 63));
  std::vector<int64_t> order(static_cast<size_t>(n));
  shuffle.randperm(order);

  const int64_t batch = std::min(options_.batch_size, n);
  const int64_t steps = (n + batch - 1) / batch;
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t begin = step * batch, end = std::min(n, begin + batch);
    Slot* plan = nullptr;
    try {
      plan = &slot(true, end - begin);
    } catch (const Error& e) {
      if (end - begin != 1) throw;
      throw Error(e.message() + fmt::format(" (the last batch holds 1 of the {} samples: a --batch-size that leaves "
                                            "more avoids it)",
                                            n),
                  e.where());
    }
    auto [loss, right] = run_batch(*plan, data, order, begin, end, true);
    loss_sum += loss * static_cast<double>(end - begin);
    correct += right;
    if (on_step) on_step({epoch_, step + 1, steps, loss, end, n, seconds_since(start)});
  }
  return {epoch_, loss_sum / static_cast<double>(n), static_cast<double>(correct) / static_cast<double>(n), n,
          seconds_since(start)};
}

EvalReport Trainer::evaluate(const Dataset& data) {
  const int64_t n = data.size();
  check(n > 0, "{} is empty", data.name);
  generator_.random64();  // the DataLoader iterator's base seed
  const int64_t batch = std::min(options_.batch_size, n);
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t begin = 0; begin < n; begin += batch) {
    const int64_t end = std::min(n, begin + batch);
    auto [loss, right] = run_batch(slot(false, end - begin), data, {}, begin, end, false);
    loss_sum += loss * static_cast<double>(end - begin);
    correct += right;
  }
  return {loss_sum / static_cast<double>(n), static_cast<double>(correct) / static_cast<double>(n), n};
}

void Trainer::save(const std::string& path) const {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const Parameter& p : graph_->params) tensors.emplace_back(p.name, p.tensor);
  write_safetensors(path, tensors);
}

}  // namespace mininn
