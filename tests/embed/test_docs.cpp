// The op catalog comes from the registry, and the docs cover every op in it.
#include <mininn/mininn.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string read(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(Ops, CatalogDescribesEveryAttribute) {
  std::vector<mininn::OpInfo> ops = mininn::available_ops();
  ASSERT_FALSE(ops.empty());
  mininn::OpInfo pool = mininn::find_op("MaxPool2d");
  EXPECT_EQ(pool.family, "pool");
  ASSERT_FALSE(pool.attributes.empty());
  EXPECT_EQ(pool.attributes[0].name, "kernel_size");
  EXPECT_TRUE(pool.attributes[0].required());
  EXPECT_EQ(pool.outputs, (std::vector<std::string>{"output", "indices"}));
  for (const mininn::AttrInfo& attr : pool.attributes)
    if (attr.name == "stride") {
      EXPECT_EQ(attr.default_value, "null");
      EXPECT_TRUE(attr.nullable);
    }
  try {
    mininn::find_op("Conv2D");
    FAIL();
  } catch (const mininn::Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'Conv2d'"), std::string::npos) << e.what();
  }
}

// Every op of the registry has its section, with every attribute, in the
// generated reference (the op_reference test also checks it is current).
TEST(Docs, EveryRegistryOpIsDocumented) {
  const std::filesystem::path docs = MININN_SOURCE_DIR "/docs";
  std::string reference = read(docs / "ops" / "reference.md");
  ASSERT_FALSE(reference.empty()) << "docs/ops/reference.md is missing";
  for (const mininn::OpInfo& op : mininn::available_ops()) {
    size_t section = reference.find("\n## " + op.name + "\n");
    EXPECT_NE(section, std::string::npos)
        << op.name << " is not in docs/ops/reference.md; regenerate it: build/mininn ops --markdown > docs/ops/reference.md";
    if (section == std::string::npos) continue;
    size_t end = reference.find("\n## ", section + 1);
    std::string body = reference.substr(section, end == std::string::npos ? std::string::npos : end - section);
    for (const mininn::AttrInfo& attr : op.attributes)
      EXPECT_NE(body.find("| `" + attr.name + "` |"), std::string::npos) << op.name << "." << attr.name << " undocumented";
  }
  // The guides the docs promise are there.
  for (const char* page : {"getting-started.md", "cpp-api.md", "cli.md", "model-format.md", "images/embed-graph.png"})
    EXPECT_TRUE(std::filesystem::exists(docs / page)) << "docs/" << page << " is missing";
}

}  // namespace
