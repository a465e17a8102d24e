// Conv2d: schema, shape rule and kernel choice.
#include "framework/error.h"
#include "ops/activation/activation.h"
#include "ops/conv/conv.h"
#include "ops/conv/onednn.h"
#include "ops/families.h"
#include "ops/init.h"
#include "ops/registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mininn {
namespace conv {

PaddingMode parse_padding_mode(const std::string& name) {
  if (name == "reflect") return PaddingMode::Reflect;
  if (name == "replicate") return PaddingMode::Replicate;
  if (name == "circular") return PaddingMode::Circular;
  return PaddingMode::Zeros;
}

namespace {

class NaiveConv2d final : public Kernel {
 public:
  NaiveConv2d(Geometry geometry, bool has_bias, PostOp post_op)
      : geometry_(geometry), has_bias_(has_bias), post_op_(post_op) {}

  void forward(const ForwardArgs& args) const override {
    naive_forward(geometry_, args.inputs[0].f32(), args.params[0].f32(), has_bias_ ? args.params[1].f32() : nullptr,
                  args.outputs[0].f32());
    activation::apply_post_op(post_op_, args.outputs[0].f32(), args.outputs[0].numel());
  }

  void backward(const BackwardArgs& args) const override {
    auto out = [](Tensor& t) { return t.defined() ? t.f32() : nullptr; };
    naive_backward(geometry_, args.inputs[0].f32(), args.params[0].f32(), args.grad_outputs[0].f32(),
                   out(args.grad_inputs[0]), out(args.grad_params[0]),
                   has_bias_ ? out(args.grad_params[1]) : nullptr);
  }

 private:
  Geometry geometry_;
  bool has_bias_;
  PostOp post_op_;  // a fused ReLU / LeakyReLU (inference only)
};

class Conv2d final : public Op {
 public:
  explicit Conv2d(const Attrs& attrs) {
    in_channels_ = attrs.integer("in_channels");
    out_channels_ = attrs.integer("out_channels");
    kernel_ = attrs.ints("kernel_size");
    stride_ = attrs.ints("stride");
    dilation_ = attrs.ints("dilation");
    groups_ = attrs.integer("groups");
    bias_ = attrs.boolean("bias");
    mode_ = parse_padding_mode(attrs.string("padding_mode"));

    if (groups_ <= 0) throw attrs.error("groups", "groups must be a positive integer");
    if (in_channels_ <= 0) throw attrs.error("in_channels", "in_channels must be a positive integer");
    if (out_channels_ <= 0) throw attrs.error("out_channels", "out_channels must be a positive integer");
    if (in_channels_ % groups_) throw attrs.error("in_channels", "in_channels must be divisible by groups");
    if (out_channels_ % groups_) throw attrs.error("out_channels", "out_channels must be divisible by groups");
    for (int64_t k : kernel_)
      if (k <= 0)
        throw attrs.error("kernel_size", fmt::format("kernel size should be greater than zero, but got "
                                                     "kernel_height: {} kernel_width: {}",
                                                     kernel_[0], kernel_[1]));
    for (int64_t s : stride_)
      if (s <= 0) throw attrs.error("stride", "non-positive stride is not supported");
    for (int64_t d : dilation_)
      if (d <= 0)
        throw attrs.error("dilation", fmt::format("dilation should be greater than zero, but got {}", dilation_));

    const nlohmann::json& padding = attrs.value("padding");
    if (padding.is_string()) {
      bool same = padding.get<std::string>() == "same";
      if (same && (stride_[0] != 1 || stride_[1] != 1))
        throw attrs.error("padding", "padding='same' is not supported for strided convolutions");
      for (int i = 0; i < 2; ++i) {
        int64_t total = same ? checked_mul(dilation_[i], kernel_[i] - 1, "padding='same'") : 0;
        pad_before_[i] = total / 2;  // the odd cell goes after, as PyTorch does
        pad_after_[i] = total - total / 2;
      }
    } else {
      std::vector<int64_t> pad = attrs.ints("padding");
      for (int i = 0; i < 2; ++i) {
        if (pad[i] < 0) throw attrs.error("padding", "negative padding is not supported");
        pad_before_[i] = pad_after_[i] = pad[i];
      }
    }
  }

  std::vector<ParamDecl> params() const override {
    // Checked: the attributes come from the model file (a hostile kernel_size
    // must be an error, not an overflow).
    int64_t fan_in = checked_mul(checked_mul(in_channels_ / groups_, kernel_[0], "fan_in"), kernel_[1], "fan_in");
    std::vector<ParamDecl> out = {
        {"weight", {out_channels_, in_channels_ / groups_, kernel_[0], kernel_[1]},
         {DefaultInit::Uniform, default_weight_bound(fan_in)}}};
    if (bias_) out.push_back({"bias", {out_channels_}, {DefaultInit::Uniform, default_bias_bound(fan_in)}});
    return out;
  }

  std::vector<TensorDesc> infer(const std::vector<TensorDesc>& inputs) const override {
    const TensorDesc& input = inputs[0];
    const Shape& shape = input.shape;
    check(shape.size() == 3 || shape.size() == 4,
          "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: {}", to_string(shape));
    check(input.dtype == DType::Float32, "conv2d: expected a float32 input, but got {}", dtype_name(input.dtype));
    Shape batched = shape.size() == 3 ? Shape{1, shape[0], shape[1], shape[2]} : shape;
    Shape weight = params()[0].shape;
    check(batched[1] == in_channels_,
          "Given groups={}, weight of size {}, expected input{} to have {} channels, but got {} channels instead",
          groups_, to_string(weight), to_string(batched), in_channels_, batched[1]);
    for (int i = 0; i < 2; ++i) {
      int64_t size = batched[2 + i];
      check(size > 0, "conv2d: expected non-empty spatial dimensions, but got input of size {}", to_string(shape));
      int64_t pad = std::max(pad_before_[i], pad_after_[i]);
      if (mode_ == PaddingMode::Reflect)
        check(pad < size,
              "Padding size should be less than the corresponding input dimension, but got: padding ({}, {}) at "
              "dimension {} of input {} (padding_mode='reflect')",
              pad_before_[i], pad_after_[i], 2 + i, to_string(shape));
      if (mode_ == PaddingMode::Circular)
        check(pad <= size, "Padding value causes wrapping around more than once (padding_mode='circular', padding "
                           "{} on a dimension of size {})",
              pad, size);
    }
    // In 128 bits: padding, kernel_size and dilation may be anything a
    // model file says, and int64 arithmetic on them could wrap.
    using Wide = __int128;
    Wide padded_h = Wide(batched[2]) + pad_before_[0] + pad_after_[0];
    Wide padded_w = Wide(batched[3]) + pad_before_[1] + pad_after_[1];
    Wide span_h = Wide(dilation_[0]) * (kernel_[0] - 1) + 1, span_w = Wide(dilation_[1]) * (kernel_[1] - 1) + 1;
    auto clamp64 = [](Wide v) { return static_cast<int64_t>(v > INT64_MAX ? Wide(INT64_MAX) : v); };
    check(padded_h - span_h < INT64_MAX && padded_w - span_w < INT64_MAX,
          "conv2d: the output size overflows int64 (padding {} and {})", pad_before_[0], pad_before_[1]);
    check(padded_h >= span_h && padded_w >= span_w,
          "Calculated padded input size per channel: ({} x {}). Kernel size: ({} x {}). Kernel size can't be greater "
          "than actual input size",
          clamp64(padded_h), clamp64(padded_w), clamp64(span_h), clamp64(span_w));
    Geometry g = geometry(shape);
    Shape out = shape;
    out[out.size() - 3] = out_channels_;
    out[out.size() - 2] = g.out_h;
    out[out.size() - 1] = g.out_w;
    return {TensorDesc{DType::Float32, out}};
  }

  std::unique_ptr<Kernel> make_kernel(const KernelConfig& config) const override {
    Geometry g = geometry(config.inputs[0].shape);
    return pick_kernel(
        config, [&](std::string& why) { return onednn::make_conv2d(g, bias_, config, why); },
        [&] { return std::make_unique<NaiveConv2d>(g, bias_, config.post_op); });
  }

  // Either kernel applies a fused ReLU / LeakyReLU (KernelConfig::post_op).
  bool accepts_post_op() const override { return true; }

 private:
  Geometry geometry(const Shape& shape) const {
    bool batched = shape.size() == 4;
    Geometry g;
    g.batch = batched ? (shape[0] == kDynamic ? 1 : shape[0]) : 1;
    g.in_channels = in_channels_;
    g.out_channels = out_channels_;
    g.groups = groups_;
    g.in_h = shape[shape.size() - 2];
    g.in_w = shape[shape.size() - 1];
    g.kernel_h = kernel_[0];
    g.kernel_w = kernel_[1];
    g.stride_h = stride_[0];
    g.stride_w = stride_[1];
    g.dilation_h = dilation_[0];
    g.dilation_w = dilation_[1];
    g.pad_top = pad_before_[0];
    g.pad_bottom = pad_after_[0];
    g.pad_left = pad_before_[1];
    g.pad_right = pad_after_[1];
    g.mode = mode_;
    auto out_size = [](int64_t in, int64_t before, int64_t after, int64_t k, int64_t s, int64_t d) {
      // Wide for the same reason as in infer, which has checked the result fits.
      __int128 span = __int128(d) * (k - 1) + 1;
      __int128 padded = __int128(in) + before + after;
      return padded < span ? int64_t{0} : static_cast<int64_t>((padded - span) / s + 1);
    };
    g.out_h = out_size(g.in_h, g.pad_top, g.pad_bottom, g.kernel_h, g.stride_h, g.dilation_h);
    g.out_w = out_size(g.in_w, g.pad_left, g.pad_right, g.kernel_w, g.stride_w, g.dilation_w);
    return g;
  }

  int64_t in_channels_, out_channels_, groups_;
  std::vector<int64_t> kernel_, stride_, dilation_;
  int64_t pad_before_[2] = {0, 0}, pad_after_[2] = {0, 0};
  bool bias_;
  PaddingMode mode_;
};

}  // namespace
}  // namespace conv

void register_conv_ops(Registry& registry) {
  registry.add({"Conv2d",
                "conv",
                "2-d convolution (cross-correlation) with groups, dilation and four padding modes",
                2,
                {{"in_channels", AttrType::Int, "", "channels of the input"},
                 {"out_channels", AttrType::Int, "", "channels of the output"},
                 {"kernel_size", AttrType::Ints, "", "the size of the kernel"},
                 {"stride", AttrType::Ints, "1", "the step of the kernel"},
                 {"padding", AttrType::Padding, "0",
                  "padding on both sides, or \"same\" (stride 1; an odd total puts the extra cell after) or "
                  "\"valid\" (none)"},
                 {"dilation", AttrType::Ints, "1", "the spacing between kernel elements"},
                 {"groups", AttrType::Int, "1", "blocked connections: in and out channels split into this many groups"},
                 {"bias", AttrType::Bool, "true", "add a learnable bias"},
                 {"padding_mode", AttrType::String, "\"zeros\"", "how the padding is filled",
                  {"zeros", "reflect", "replicate", "circular"}}},
                {{"input", "(N, C_in, H, W) or unbatched (C_in, H, W) float32"}},
                {"output"},
                [](const Attrs& attrs) { return std::make_unique<conv::Conv2d>(attrs); }});
}

}  // namespace mininn
