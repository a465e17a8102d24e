// examples/embed: mininn inside another program, linked from an install.
//
// Runs model.json and the same network built in C++, on the same caller-owned
// images, forward and backward, and exits non-zero unless both give the same
// outputs and gradients bit for bit.
#include <mininn/mininn.h>

#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#ifndef EMBED_MODEL
#define EMBED_MODEL "model.json"
#endif

namespace {

// model.json, written in code.
mininn::Model build_in_code() {
  mininn::ModelBuilder net("embed");
  net.seed(42);
  net.input("image", {mininn::kDynamic, 1, 12, 12});
  net.add("conv", "Conv2d", {"image"}, {"features"},
          {{"in_channels", 1}, {"out_channels", 4}, {"kernel_size", 3}, {"padding", 1}});
  net.add("pool", "MaxPool2d", {"features"}, {"pooled", "argmax"}, {{"kernel_size", 2}, {"return_indices", true}});
  net.add("unpool", "MaxUnpool2d", {"pooled", "argmax"}, {"restored"}, {{"kernel_size", 2}});
  net.add("summary", "AdaptiveAvgPool2d", {"pooled"}, {"summary"}, {{"output_size", 1}});
  std::vector<float> bias = {0.1f, -0.1f, 0.2f, 0.0f};
  net.parameter("conv.bias", mininn::Tensor::wrap(std::span(bias), {4}));
  net.output("restored").output("argmax").output("summary");
  return net.build();
}

int mismatches = 0;

void compare(const std::string& what, const mininn::Tensor& a, const mininn::Tensor& b) {
  bool same = a.desc() == b.desc() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
  std::printf("  %-22s %-24s %s\n", what.c_str(), mininn::to_string(a.desc()).c_str(), same ? "identical" : "DIFFERENT");
  mismatches += same ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : EMBED_MODEL;
  try {
    mininn::Model from_file = mininn::Model::load(path);
    mininn::Model from_code = build_in_code();

    // Two 12x12 images in the program's own buffer, wrapped, not copied.
    std::vector<float> pixels(2 * 12 * 12);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>((i * 7919) % 255) / 255.0f;
    mininn::Tensor images = mininn::Tensor::wrap(std::span(pixels), {2, 1, 12, 12});

    mininn::SessionOptions options{.batch = 2, .backward = true};
    mininn::Session file_session = from_file.compile(options);
    mininn::Session code_session = from_code.compile(options);
    for (const mininn::NodeInfo& node : file_session.nodes())
      std::printf("node %-8s %-18s %s%s%s\n", node.name.c_str(), node.op.c_str(), node.forward_backend.c_str(),
                  node.fallback_reason.empty() ? "" : ": ", node.fallback_reason.c_str());

    file_session.forward({images});
    code_session.forward({images});
    std::printf("forward (JSON model vs builder model):\n");
    for (const mininn::TensorInfo& output : file_session.outputs())
      compare(output.name, file_session.output(output.name), code_session.output(output.name));

    file_session.backward();  // d(sum of float outputs)
    code_session.backward();
    std::printf("backward:\n");
    compare("grad image", file_session.grad("image"), code_session.grad("image"));
    for (const mininn::ParameterInfo& p : from_file.parameters())
      compare("grad " + p.name, file_session.param_grad(p.name), code_session.param_grad(p.name));

    // Parameters and gradients by their state_dict names.
    mininn::Tensor bias = from_file.parameter("conv.bias");
    mininn::Tensor weight_grad = file_session.param_grad("conv.weight");
    std::printf("conv.bias = [%g, %g, %g, %g], d/d conv.weight[0] = %g\n", bias.floats()[0], bias.floats()[1],
                bias.floats()[2], bias.floats()[3], weight_grad.floats()[0]);
  } catch (const mininn::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  if (mismatches) {
    std::fprintf(stderr, "error: %d result(s) differ between the JSON model and the builder model\n", mismatches);
    return 1;
  }
  std::printf("the JSON model and the builder model agree\n");
  return 0;
}
