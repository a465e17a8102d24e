// mininn train: trains a classifier model on a labelled image set.
#include "framework/error.h"
#include "framework/file.h"
#include "graph/training/trainer.h"
#include "tools/commands.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include <unistd.h>

namespace mininn::cli {
namespace {

struct TrainCliOptions {
  std::string model, images, labels, val_images, val_labels, save, log_csv;
  std::optional<double> val_split, lr, weight_decay;
  std::string optimizer = "sgd";
  std::string backend = "auto";
  int epochs = 10;
  int64_t batch_size = 64;
  double momentum = 0, dampening = 0, eps = 1e-8;
  std::vector<double> betas = {0.9, 0.999};
  bool nesterov = false, amsgrad = false, quiet = false;
  uint64_t seed = 0;
};

// One line redrawn in place on a terminal: steps, loss, images/s.
class ProgressBar {
 public:
  explicit ProgressBar(int epochs) : epochs_(epochs), enabled_(isatty(STDERR_FILENO) == 1) {}

  void update(const StepReport& r) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (r.step != r.steps && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    constexpr int kWidth = 24;
    int filled = static_cast<int>(kWidth * r.step / r.steps);
    fmt::print(stderr, "\r\033[Kepoch {}/{} [{}{}] {}/{} steps  loss {:.4f}  {:.0f} images/s", r.epoch, epochs_,
               std::string(filled, '#'), std::string(kWidth - filled, '.'), r.step, r.steps, r.loss,
               r.seconds > 0 ? static_cast<double>(r.images) / r.seconds : 0.0);
    std::fflush(stderr);
  }

  void clear() {
    if (enabled_) fmt::print(stderr, "\r\033[K");
  }

 private:
  int epochs_;
  bool enabled_;
  std::chrono::steady_clock::time_point last_{};
};

OptimizerOptions optimizer_options(const TrainCliOptions& o) {
  OptimizerOptions opt;
  opt.kind = o.optimizer == "adam" ? OptimizerOptions::Adam : o.optimizer == "adamw" ? OptimizerOptions::AdamW
                                                                                      : OptimizerOptions::Sgd;
  // torch.optim's defaults: Adam/AdamW lr 1e-3, AdamW weight_decay 1e-2 (SGD has no default lr; mininn takes 0.01).
  opt.lr = o.lr.value_or(opt.kind == OptimizerOptions::Sgd ? 0.01 : 0.001);
  opt.weight_decay = o.weight_decay.value_or(opt.kind == OptimizerOptions::AdamW ? 0.01 : 0.0);
  if (opt.kind == OptimizerOptions::Sgd) {
    opt.momentum = o.momentum;
    opt.dampening = o.dampening;
    opt.nesterov = o.nesterov;
  } else {
    check(o.momentum == 0 && o.dampening == 0 && !o.nesterov, "--momentum, --dampening and --nesterov are SGD options");
    check(o.betas.size() == 2, "--betas takes two numbers, BETA1,BETA2");
    opt.beta1 = o.betas[0];
    opt.beta2 = o.betas[1];
    opt.eps = o.eps;
    opt.amsgrad = o.amsgrad;
  }
  return opt;
}

void train(const TrainCliOptions& o) {
  check(o.val_images.empty() == o.val_labels.empty(), "--val-images and --val-labels go together");
  check(o.val_images.empty() || !o.val_split, "give either --val-images/--val-labels or --val-split, not both");
  TrainOptions options;
  options.epochs = o.epochs;
  options.batch_size = o.batch_size;
  options.seed = o.seed;
  options.optimizer = optimizer_options(o);
  options.backend = parse_backend(o.backend);
  Trainer trainer(o.model, options);

  Dataset train_set = load_dataset(o.images, o.labels, "training set");
  Dataset val_set;
  std::string val_from;
  if (!o.val_images.empty()) {
    val_set = load_dataset(o.val_images, o.val_labels, "validation set");
    val_from = o.val_images;
  } else {
    double fraction = o.val_split.value_or(0.1);
    val_set = split_off(train_set, fraction);
    val_from = fmt::format("the last {}% of the training data{}", fraction * 100, o.val_split ? "" : " (default --val-split 0.1)");
  }
  check_dataset(train_set, trainer.sample_shape(), trainer.classes());
  check_dataset(val_set, trainer.sample_shape(), trainer.classes());

  int64_t trainable = 0;
  for (const Parameter& p : trainer.graph().params) trainable += p.trainable ? p.tensor.numel() : 0;
  fmt::print("model {}: {} classes, {} trainable parameters\n", o.model, trainer.classes(), trainable);
  fmt::print("training on {} images of {}, validating on {} ({})\n", train_set.size(),
             to_string(trainer.sample_shape()), val_set.size(), val_from);
  fmt::print("{}, batch {}, {} epoch{}, seed {}\n", options.optimizer.describe(), options.batch_size, options.epochs,
             options.epochs == 1 ? "" : "s", options.seed);
  std::fflush(stdout);

  // Written under a temporary name and renamed at the end, like every output:
  // a failed run leaves no half-written log in place of a previous one.
  std::unique_ptr<AtomicFile> log;
  if (!o.log_csv.empty()) {
    log = std::make_unique<AtomicFile>(o.log_csv);
    log->write("kind,epoch,step,train_loss,val_loss,val_accuracy,seconds\n");
  }
  ProgressBar bar(options.epochs);
  EvalReport val;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    EpochReport r = trainer.train_epoch(train_set, [&](const StepReport& s) {
      bar.update(s);
      if (log) log->write(fmt::format("step,{},{},{:.7g},,,{:.3f}\n", s.epoch, s.step, s.loss, s.seconds));
    });
    bar.clear();
    val = trainer.evaluate(val_set);
    fmt::print("epoch {}/{}: train loss {:.4f}, train accuracy {:.4f}, validation loss {:.4f}, validation accuracy "
               "{:.4f} ({:.1f} s, {:.0f} images/s)\n",
               epoch, options.epochs, r.loss, r.accuracy, val.loss, val.accuracy, r.seconds,
               static_cast<double>(r.images) / r.seconds);
    std::fflush(stdout);
    if (log) log->write(fmt::format("epoch,{},,{:.7g},{:.7g},{:.6f},{:.3f}\n", epoch, r.loss, val.loss, val.accuracy, r.seconds));
  }
  if (log) log->commit();
  if (!o.save.empty()) {
    trainer.save(o.save);
    fmt::print("saved the parameters and buffers to {}\n", o.save);
  }
  fmt::print("validation accuracy: {:.4f}\n", val.accuracy);
}

}  // namespace

Runner add_train(CLI::App& app) {
  auto o = std::make_shared<TrainCliOptions>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a classifier (one float input, logits (N, classes) out) with cross-entropy on labelled images");
  cmd->add_option("model", o->model, "the model file (JSON)")->required();
  cmd->add_option("--images", o->images, "training images: .npy float32 (N, C, H, W) or an IDX file (.gz or not)")
      ->required();
  cmd->add_option("--labels", o->labels, "training labels: .npy int64 (N) or an IDX file")->required();
  cmd->add_option("--val-images", o->val_images, "validation images (same formats)");
  cmd->add_option("--val-labels", o->val_labels, "validation labels (same formats)");
  cmd->add_option("--val-split", o->val_split,
                  "validate on this fraction of the training data, taken from its end (default 0.1 without --val-images)");
  cmd->add_option("--epochs", o->epochs, "passes over the training data (default 10)");
  cmd->add_option("--batch-size", o->batch_size, "images per step (default 64)");
  cmd->add_option("--optimizer", o->optimizer, "sgd (default), adam or adamw")
      ->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  cmd->add_option("--lr", o->lr, "learning rate (default 0.01 for sgd, 0.001 for adam and adamw)");
  cmd->add_option("--momentum", o->momentum, "SGD momentum (default 0)");
  cmd->add_option("--dampening", o->dampening, "SGD dampening (default 0)");
  cmd->add_flag("--nesterov", o->nesterov, "SGD with Nesterov momentum");
  cmd->add_option("--weight-decay", o->weight_decay, "L2 penalty (sgd, adam) or decoupled decay (adamw; default 0.01)");
  cmd->add_option("--betas", o->betas, "Adam's BETA1,BETA2 (default 0.9,0.999)")->delimiter(',')->expected(2);
  cmd->add_option("--eps", o->eps, "Adam's epsilon (default 1e-8)");
  cmd->add_flag("--amsgrad", o->amsgrad, "Adam/AdamW with AMSGrad");
  cmd->add_option("--seed", o->seed, "seeds shuffling and Dropout (default 0)");
  cmd->add_option("--save", o->save, "write the trained parameters and buffers to this safetensors file");
  cmd->add_option("--log-csv", o->log_csv, "write every step's loss and every epoch's summary to this CSV file");
  add_backend_option(cmd, o->backend);
  return [o] { train(*o); };
}

}  // namespace mininn::cli
