// Training a classifier described in JSON: the model's single float input
// takes a batch of images, its single float output is the logits
// (N, classes); the trainer appends a CrossEntropyLoss node fed by an int64
// labels input, and runs forward, backward and an optimizer step per batch.
//
//   Trainer trainer("lenet.json", options);
//   Dataset train = load_dataset("x.npy", "y.npy", "training set");
//   for (int e = 1; e <= options.epochs; ++e) {
//     EpochReport r = trainer.train_epoch(train, [](const StepReport&) {});
//     EvalReport v = trainer.evaluate(val);
//   }
//   trainer.save("weights.safetensors");
//
// Random draws come from one generator seeded with options.seed, in the
// order PyTorch's global generator serves an idiomatic training script (see
// docs/training.md): per epoch, a shuffled DataLoader's two draws (its base
// seed, then the seed of the generator its sampler shuffles with), then
// Dropout's masks batch by batch; evaluate() takes one draw (the validation
// DataLoader's base seed). So a PyTorch script can reproduce a run exactly.
#pragma once

#include "framework/rng.h"
#include "graph/executor.h"
#include "graph/training/dataset.h"
#include "graph/training/optimizer.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mininn {

struct TrainOptions {
  int epochs = 10;
  int64_t batch_size = 64;
  OptimizerOptions optimizer;
  uint64_t seed = 0;
  Backend backend = Backend::Auto;
};

struct StepReport {
  int epoch = 0;
  int64_t step = 0, steps = 0;     // 1-based step of this epoch, and how many there are
  double loss = 0;                 // this batch's mean loss
  int64_t images = 0, total = 0;   // images done this epoch, and the epoch's size
  double seconds = 0;              // since the epoch started
};

struct EvalReport {
  double loss = 0;      // mean cross-entropy per sample
  double accuracy = 0;  // fraction whose largest logit is the label's
  int64_t count = 0;
};

struct EpochReport {
  int epoch = 0;
  double loss = 0;      // mean training loss per sample (as computed during the epoch)
  double accuracy = 0;  // training accuracy during the epoch (training mode)
  int64_t images = 0;
  double seconds = 0;
};

class Trainer {
 public:
  Trainer(const std::string& model_path, TrainOptions options);
  ~Trainer();

  const Graph& graph() const { return *graph_; }
  const TrainOptions& options() const { return options_; }
  const Shape& sample_shape() const { return sample_shape_; }  // one image: the model input without its batch
  int64_t classes() const { return classes_; }
  Generator& generator() { return generator_; }

  // One pass over `data` in a fresh random order; `on_step` runs after each
  // optimizer step (progress output).
  EpochReport train_epoch(const Dataset& data, const std::function<void(const StepReport&)>& on_step = {});
  // Loss and accuracy in evaluation mode, in batches of options().batch_size.
  EvalReport evaluate(const Dataset& data);

  // Every parameter and buffer, named `<node>.<param>` as a PyTorch
  // state_dict names them, to a safetensors file.
  void save(const std::string& path) const;

 private:
  struct Slot;
  Slot& slot(bool training, int64_t batch);
  // Runs one batch (rows `order[begin, end)` of data); returns the mean loss and the number of correct predictions.
  std::pair<double, int64_t> run_batch(Slot& slot, const Dataset& data, const std::vector<int64_t>& order, int64_t begin,
                                       int64_t end, bool train);

  TrainOptions options_;
  std::shared_ptr<const Graph> graph_;
  Shape sample_shape_;
  int64_t classes_ = 0;
  int logits_value_ = -1, loss_value_ = -1;
  std::vector<int> trainable_;  // parameter ids the optimizer updates
  std::unique_ptr<Optimizer> optimizer_;
  Generator generator_;
  std::map<std::pair<bool, int64_t>, std::unique_ptr<Slot>> slots_;  // (training, batch) -> compiled graph
  int epoch_ = 0;
};

}  // namespace mininn
