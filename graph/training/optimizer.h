// Optimizers with PyTorch 1.13's update formulas (torch.optim, the
// single-tensor path), step for step:
//
//   SGD    g = grad (+ weight_decay * p)
//          momentum: b = g on the first step, else b = momentum * b + (1 - dampening) * g
//                    g = nesterov ? g + momentum * b : b
//          p -= lr * g
//   Adam   g = grad (+ weight_decay * p)                   (L2 penalty in the gradient)
//   AdamW  p *= 1 - lr * weight_decay                       (decoupled weight decay)
//          m = beta1 * m + (1 - beta1) * g
//          v = beta2 * v + (1 - beta2) * g * g
//          (amsgrad: v_max = max(v_max, v), used for v below)
//          p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
// Parameters without a gradient are skipped, as torch skips p.grad = None.
#pragma once

#include "framework/tensor.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace mininn {

struct OptimizerOptions {
  enum Kind { Sgd, Adam, AdamW } kind = Sgd;
  double lr = 0.01;
  // SGD
  double momentum = 0, dampening = 0;
  bool nesterov = false;
  // Adam and AdamW
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool amsgrad = false;
  // Both: an L2 term in the gradient (SGD, Adam) or decoupled decay (AdamW).
  double weight_decay = 0;

  // Throws PyTorch's message for an invalid setting ("Invalid learning rate: -1").
  void validate() const;
  std::string describe() const;  // "SGD(lr=0.01, momentum=0.9)"
};

const char* optimizer_name(OptimizerOptions::Kind kind);  // "sgd", "adam", "adamw"

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // `params` are updated in place: the graph's parameter tensors themselves.
  static std::unique_ptr<Optimizer> create(const OptimizerOptions& options, std::vector<Tensor> params);
  // One update; `grads` has one entry per parameter (undefined: skipped).
  virtual void step(std::span<const Tensor> grads) = 0;
  int64_t steps() const { return steps_; }

 protected:
  int64_t steps_ = 0;
};

}  // namespace mininn
