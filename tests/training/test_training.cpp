// Training against PyTorch 1.13 (references written by gen_training_cases.py):
// BatchNorm2d and Dropout in training mode, 20-step trajectories with every
// optimizer; and the trainer's input checks.
#include "framework/error.h"
#include "framework/npy.h"
#include "framework/safetensors.h"
#include "graph/executor.h"
#include "graph/training/trainer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace mininn {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kCases = MININN_TRAINING_CASES;

Tensor load(const fs::path& folder, const std::string& name) { return read_npy((folder / (name + ".npy")).string()); }

json read_json(const fs::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

// max |got - want| / max |want|: the error relative to the tensor's scale.
double relative_error(const Tensor& got, const Tensor& want) {
  EXPECT_EQ(got.shape(), want.shape());
  if (got.shape() != want.shape()) return INFINITY;
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    diff = std::max(diff, std::abs(double(got.f32()[i]) - want.f32()[i]));
    scale = std::max(scale, std::abs(double(want.f32()[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

void expect_identical(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < got.numel(); ++i)
    ASSERT_EQ(got.f32()[i], want.f32()[i]) << what << " differs at flat index " << i;
}

std::shared_ptr<const Graph> one_node(const std::string& op, const json& attrs, const Shape& shape, const json& params,
                                      const fs::path& base, uint64_t seed = 0) {
  json model = {{"seed", seed},
                {"inputs", {{{"name", "x"}, {"shape", shape}}}},
                {"nodes", {{{"name", "node"}, {"op", op}, {"inputs", {"x"}}, {"outputs", {"y"}}, {"attrs", attrs},
                            {"params", params}}}},
                {"outputs", {"y"}}};
  return std::make_shared<const Graph>(parse_model(model.dump(), op + " test model", base.string()));
}

TEST(TrainingMode, BatchNormUsesBatchStatisticsAndUpdatesRunningStatistics) {
  for (const char* name : {"momentum", "cumulative", "1d", "1d_sequence"}) {
    SCOPED_TRACE(name);
    const fs::path folder = kCases / "batchnorm" / name;
    Tensor x = load(folder, "x");
    json setting = read_json(folder / "attrs.json");
    auto graph = one_node(setting["op"], setting["attrs"], x.shape(),
                          {{"weight", {{"npy", "weight.npy"}}}, {"bias", {{"npy", "bias.npy"}}}}, folder);
    CompiledGraph plan(graph, {x.shape()}, {Backend::Auto, true, true});
    Execution run(plan);
    run.forward({x});
    EXPECT_LT(relative_error(run.output(0), load(folder, "y")), 1e-5);
    run.backward({{graph->outputs[0], load(folder, "g")}});
    EXPECT_LT(relative_error(run.grad(graph->inputs[0].value), load(folder, "dx")), 1e-5);
    EXPECT_LT(relative_error(run.param_grad(graph->find_param("node.weight")), load(folder, "dweight")), 1e-5);
    EXPECT_LT(relative_error(run.param_grad(graph->find_param("node.bias")), load(folder, "dbias")), 1e-5);
    auto buffer = [&](const char* b) { return graph->params[graph->find_param(std::string("node.") + b)].tensor; };
    EXPECT_LT(relative_error(buffer("running_mean"), load(folder, "running_mean_1")), 1e-6);
    EXPECT_LT(relative_error(buffer("running_var"), load(folder, "running_var_1")), 1e-6);
    run.forward({load(folder, "x2")});
    run.forward({load(folder, "x3")});
    EXPECT_LT(relative_error(buffer("running_mean"), load(folder, "running_mean_3")), 1e-6);
    EXPECT_LT(relative_error(buffer("running_var"), load(folder, "running_var_3")), 1e-6);
    EXPECT_EQ(buffer("num_batches_tracked").i64()[0], load(folder, "num_batches_tracked").i64()[0]);

    // Evaluation mode normalises with the running statistics and leaves them alone.
    CompiledGraph eval(graph, {x.shape()}, {Backend::Auto, false, false});
    Execution eval_run(eval);
    Tensor before = buffer("running_mean").clone();
    eval_run.forward({x});
    expect_identical(buffer("running_mean"), before, "running_mean after an evaluation forward");
    EXPECT_EQ(buffer("num_batches_tracked").i64()[0], 3);
  }
}

TEST(TrainingMode, DropoutDrawsTorchsMaskBitForBit) {
  for (const char* name : {"half", "p03", "p09"}) {
    SCOPED_TRACE(name);
    const fs::path folder = kCases / "dropout" / name;
    json attrs = read_json(folder / "attrs.json");
    Tensor x = load(folder, "x");
    auto graph = one_node("Dropout", {{"p", attrs["p"]}}, x.shape(), json::object(), folder, attrs["seed"].get<uint64_t>());
    CompiledGraph plan(graph, {x.shape()}, {Backend::Auto, true, true});
    Execution run(plan);
    run.forward({x});
    expect_identical(run.output(0), load(folder, "y"), "dropout output");
    run.backward({{graph->outputs[0], load(folder, "g")}});
    expect_identical(run.grad(graph->inputs[0].value), load(folder, "dx"), "dropout gradient");

    CompiledGraph eval(graph, {x.shape()}, {Backend::Auto, false, false});
    Execution eval_run(eval);
    eval_run.forward({x});
    expect_identical(eval_run.output(0), x, "evaluation-mode dropout");
  }
}

// The same model, initial weights, batches and Dropout masks as the PyTorch
// script: every step's loss and the final state_dict within 1e-4 relative.
TEST(Trajectory, TwentyStepsAgreeWithPyTorchForEveryOptimizer) {
  const fs::path folder = kCases / "trajectory";
  json settings = read_json(folder / "settings.json");
  Dataset train = load_dataset((folder / "x.npy").string(), (folder / "y.npy").string(), "training set");
  Dataset val = load_dataset((folder / "val_x.npy").string(), (folder / "val_y.npy").string(), "validation set");
  for (const char* config : {"sgd_momentum", "sgd_nesterov", "adam", "adamw_amsgrad"}) {
    SCOPED_TRACE(config);
    const fs::path expected = folder / config;
    json opt = read_json(expected / "optimizer.json");
    TrainOptions options;
    options.epochs = settings["epochs"];
    options.batch_size = settings["batch"];
    options.seed = settings["train_seed"];
    std::string kind = opt["kind"];
    options.optimizer.kind = kind == "sgd" ? OptimizerOptions::Sgd : kind == "adam" ? OptimizerOptions::Adam
                                                                                    : OptimizerOptions::AdamW;
    options.optimizer.lr = opt["lr"];
    options.optimizer.momentum = opt.value("momentum", 0.0);
    options.optimizer.nesterov = opt.value("nesterov", false);
    options.optimizer.amsgrad = opt.value("amsgrad", false);
    options.optimizer.weight_decay = opt.value("weight_decay", kind == "adamw" ? 0.01 : 0.0);

    Trainer trainer((folder / "model.json").string(), options);
    std::vector<double> losses;
    std::vector<std::pair<double, double>> evaluations;
    for (int epoch = 0; epoch < options.epochs; ++epoch) {
      trainer.train_epoch(train, [&](const StepReport& s) { losses.push_back(s.loss); });
      EvalReport r = trainer.evaluate(val);
      evaluations.emplace_back(r.loss, r.accuracy);
    }
    Tensor want_losses = read_npy((expected / "losses.npy").string());  // float64 -> float32
    ASSERT_EQ(static_cast<int64_t>(losses.size()), want_losses.numel());
    double worst_loss = 0;
    for (size_t i = 0; i < losses.size(); ++i) {
      double want = want_losses.f32()[i];
      worst_loss = std::max(worst_loss, std::abs(losses[i] - want) / std::abs(want));
    }
    EXPECT_LT(worst_loss, 1e-4);
    Tensor want_val = read_npy((expected / "val.npy").string());
    for (size_t e = 0; e < evaluations.size(); ++e) {
      EXPECT_NEAR(evaluations[e].first, want_val.f32()[2 * e], 1e-4 * std::abs(want_val.f32()[2 * e])) << "epoch " << e + 1;
      EXPECT_FLOAT_EQ(static_cast<float>(evaluations[e].second), want_val.f32()[2 * e + 1]) << "epoch " << e + 1;
    }
    double worst_weight = 0;
    for (const Parameter& p : trainer.graph().params) {
      Tensor want = load(expected, p.name);
      if (p.tensor.dtype() == DType::Int64) {
        EXPECT_EQ(p.tensor.i64()[0], want.i64()[0]) << p.name;
        continue;
      }
      double error = relative_error(p.tensor, want);
      EXPECT_LT(error, 1e-4) << p.name;
      worst_weight = std::max(worst_weight, error);
    }
    std::printf("trajectory %-14s: 20 steps, worst loss error %.2e relative, worst final weight error %.2e relative\n",
                config, worst_loss, worst_weight);
  }
}

// Saved weights hold every parameter and buffer under its state_dict name,
// and a model naming the file as its weights loads them.
TEST(Trainer, SavedWeightsLoadBackAsTheModelsWeights) {
  const fs::path folder = kCases / "trajectory";
  Dataset train = load_dataset((folder / "x.npy").string(), (folder / "y.npy").string(), "training set");
  TrainOptions options;
  options.epochs = 1;
  Trainer trainer((folder / "model.json").string(), options);
  trainer.train_epoch(train);
  const fs::path dir = fs::temp_directory_path() / "mininn_training_save";
  fs::create_directories(dir);
  trainer.save((dir / "w.safetensors").string());
  auto saved = read_safetensors((dir / "w.safetensors").string());
  std::vector<std::string> names;
  for (const auto& [name, t] : saved) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"bn.bias", "bn.num_batches_tracked", "bn.running_mean", "bn.running_var",
                                             "bn.weight", "conv.weight", "fc.bias", "fc.weight"}));
  EXPECT_EQ(saved["bn.num_batches_tracked"].dtype(), DType::Int64);
  EXPECT_EQ(saved["bn.num_batches_tracked"].i64()[0], 3);  // 140 samples in batches of 64

  json model = read_json(folder / "model.json");
  model["weights"] = "w.safetensors";
  std::ofstream(dir / "model.json") << model.dump();
  Graph loaded = load_model((dir / "model.json").string());
  for (const Parameter& p : trainer.graph().params) {
    int id = loaded.find_param(p.name);
    ASSERT_GE(id, 0) << p.name;
    EXPECT_EQ(loaded.params[id].source, "w.safetensors");
    ASSERT_EQ(std::memcmp(loaded.params[id].tensor.raw(), p.tensor.raw(), p.tensor.nbytes()), 0) << p.name;
  }
}

// ------------------------------------------------------------------ bad input

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mininn_bad_input_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string npy(const std::string& name, const Tensor& t) {
    std::string path = (dir_ / name).string();
    write_npy(path, t);
    return path;
  }
  std::string file(const std::string& name, const std::string& bytes, bool gzip = false) {
    std::string path = (dir_ / name).string();
    if (gzip) {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
      gzclose(f);
    } else {
      std::ofstream(path, std::ios::binary) << bytes;
    }
    return path;
  }
  static Tensor images(int64_t n) { return Tensor::full({n, 1, 8, 8}, 0.5f); }
  static Tensor labels(std::vector<int64_t> values) {
    Tensor t = Tensor::empty({static_cast<int64_t>(values.size())}, DType::Int64);
    std::copy(values.begin(), values.end(), t.i64());
    return t;
  }
  static std::string idx_header(unsigned char type, std::vector<uint32_t> dims) {
    std::string out = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
    for (uint32_t d : dims)
      for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((d >> shift) & 0xff);
    return out;
  }

  // The message of the Error `body` throws ("" if none).
  template <typename Body>
  static std::string error_of(Body&& body) {
    try {
      body();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(BadInput, MismatchedCountsEmptySetsAndWrongDtypesAreClearErrors) {
  std::string message = error_of([&] { load_dataset(npy("x.npy", images(3)), npy("y.npy", labels({0, 1})), "training set"); });
  EXPECT_NE(message.find("3 images but 2 labels"), std::string::npos) << message;

  message = error_of([&] { load_dataset(npy("x.npy", images(0)), npy("y.npy", labels({})), "training set"); });
  EXPECT_NE(message.find("training set is empty"), std::string::npos) << message;

  message = error_of([&] { load_dataset(npy("x.npy", images(2)), npy("y.npy", Tensor::full({2}, 1.0f)), "training set"); });
  EXPECT_NE(message.find("labels must be integer class indices"), std::string::npos) << message;

  message = error_of([&] { load_dataset(npy("x.npy", labels({1, 2, 3})), npy("y.npy", labels({1})), "training set"); });
  EXPECT_NE(message.find("training takes float images"), std::string::npos) << message;

  message = error_of([&] { load_dataset(npy("x.npy", images(2)), npy("y.npy", Tensor::zeros({2, 1}, DType::Int64)), "training set"); });
  EXPECT_NE(message.find("expected one label per image"), std::string::npos) << message;

  message = error_of([&] { load_dataset((dir_ / "missing.npy").string(), npy("y.npy", labels({1})), "training set"); });
  EXPECT_NE(message.find("missing.npy"), std::string::npos) << message;
}

TEST_F(BadInput, LabelsOutOfRangeAndImagesOfAnotherShapeNameTheSample) {
  Dataset data = load_dataset(npy("x.npy", images(3)), npy("y.npy", labels({0, 7, 1})), "training set");
  std::string message = error_of([&] { check_dataset(data, {1, 8, 8}, 5); });
  EXPECT_NE(message.find("label 7 (sample 1) is out of range: the model has 5 classes, so labels must be 0 to 4"),
            std::string::npos)
      << message;
  data = load_dataset(npy("x.npy", images(3)), npy("y.npy", labels({0, -1, 1})), "training set");
  EXPECT_NE(error_of([&] { check_dataset(data, {1, 8, 8}, 5); }).find("label -1 (sample 1)"), std::string::npos);
  data = load_dataset(npy("x.npy", images(3)), npy("y.npy", labels({0, 1, 1})), "training set");
  message = error_of([&] { check_dataset(data, {1, 28, 28}, 5); });
  EXPECT_NE(message.find("each image is [1, 8, 8], but the model's input takes [1, 28, 28]"), std::string::npos) << message;
  Tensor bad = images(3);
  bad.f32()[70] = NAN;
  data = load_dataset(npy("x.npy", bad), npy("y.npy", labels({0, 1, 1})), "training set");
  EXPECT_NE(error_of([&] { check_dataset(data, {1, 8, 8}, 5); }).find("image 1 holds a non-finite value"), std::string::npos);
}

TEST_F(BadInput, IdxFilesGzippedOrNotAndTheirErrors) {
  std::string pixels = idx_header(0x08, {2, 2, 3}) + std::string("\x00\x01\x02\x03\x04\x05\xff\x10\x20\x30\x40\x50", 12);
  std::string labels_idx = idx_header(0x08, {2}) + std::string("\x03\x01", 2);
  for (bool gzip : {false, true}) {
    Dataset data = load_dataset(file("x", pixels, gzip), file("y", labels_idx, gzip), "training set");
    EXPECT_EQ(data.images.shape(), (Shape{2, 1, 2, 3}));
    EXPECT_EQ(data.images.f32()[6], 1.0f);
    EXPECT_EQ(data.images.f32()[1], 1.0f / 255.0f);
    EXPECT_EQ(data.labels.i64()[0], 3);
  }
  std::string truncated = pixels.substr(0, pixels.size() - 3);
  for (bool gzip : {false, true}) {
    std::string message = error_of([&] { load_dataset(file("t", truncated, gzip), file("y", labels_idx), "training set"); });
    EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  }
  std::string message = error_of([&] { load_dataset(file("x", pixels), file("f", idx_header(0x0D, {2}) + std::string(8, '\0')), "training set"); });
  EXPECT_NE(message.find("holds float32 values, but integers (labels) are needed"), std::string::npos) << message;
  message = error_of([&] { load_dataset(file("x", pixels + "extra"), file("y", labels_idx), "training set"); });
  EXPECT_NE(message.find("more data than its dimensions"), std::string::npos) << message;
  message = error_of([&] { load_dataset(file("x", idx_header(0x07, {2})), file("y", labels_idx), "training set"); });
  EXPECT_NE(message.find("unknown IDX element type 0x07"), std::string::npos) << message;
}

TEST_F(BadInput, ValidationSplitIsTheTailAndItsBoundsAreChecked) {
  Dataset data = load_dataset(npy("x.npy", images(10)), npy("y.npy", labels({0, 1, 2, 3, 4, 0, 1, 2, 3, 4})), "training set");
  Dataset val = split_off(data, 0.3);
  EXPECT_EQ(data.size(), 7);
  EXPECT_EQ(val.size(), 3);
  EXPECT_EQ(val.labels.i64()[0], 2);
  EXPECT_NE(error_of([&] { split_off(data, 1.5); }).find("--val-split must be between 0 and 1"), std::string::npos);
}

TEST_F(BadInput, ModelsTheTrainerCannotTrainAreRefusedWithTheReason) {
  auto model = [&](const std::string& name, const json& doc) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << doc.dump();
    return path;
  };
  json two_outputs = {{"inputs", {{{"name", "x"}, {"shape", {nullptr, 4}}}}},
                      {"nodes", {{{"name", "fc"}, {"op", "Linear"}, {"inputs", {"x"}}, {"outputs", {"y"}},
                                  {"attrs", {{"in_features", 4}, {"out_features", 3}}}},
                                 {{"name", "relu"}, {"op", "ReLU"}, {"inputs", {"y"}}, {"outputs", {"z"}}}}},
                      {"outputs", {"y", "z"}}};
  std::string message = error_of([&] { Trainer(model("two.json", two_outputs), {}); });
  EXPECT_NE(message.find("exactly one output (the logits), but it has 2"), std::string::npos) << message;
  json flat = two_outputs;
  flat["outputs"] = {"z"};
  flat["nodes"][1]["op"] = "Flatten";
  flat["nodes"][1]["attrs"] = {{"start_dim", 0}};
  flat["inputs"][0]["shape"] = {2, 4};
  message = error_of([&] { Trainer(model("flat.json", flat), {}); });
  EXPECT_NE(message.find("must be float32 logits (N, classes)"), std::string::npos) << message;
  TrainOptions bad;
  bad.optimizer.lr = -1;
  json ok = two_outputs;
  ok["outputs"] = {"y"};
  EXPECT_NE(error_of([&] { Trainer(model("ok.json", ok), bad); }).find("Invalid learning rate: -1"), std::string::npos);
}

}  // namespace
}  // namespace mininn
