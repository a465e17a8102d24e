// Attribute schemas: an op declares each attribute once — name, type,
// default, one line of doc — and that table drives JSON validation, the
// error messages, the op reference in docs/ and `mininn inspect`.
#pragma once

#include "framework/error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mininn {

enum class AttrType {
  Int,        // 3
  Float,      // 0.5 (an integer is accepted)
  Bool,       // true
  String,     // one of AttrSpec::choices
  Ints,       // an int for every spatial dimension, or a list with one per dimension
  Floats,     // the same with numbers
  Sizes,      // Ints whose entries may be null (adaptive output_size: keep that size)
  Padding,    // Ints, or the string "same" or "valid"
  IntList,    // a list of ints of any length (the op checks it)
};

const char* attr_type_name(AttrType type);  // for docs: "int or list of ints", ...

struct AttrSpec {
  std::string name;
  AttrType type;
  std::string default_json;  // default as JSON text ("1", "null", "false"); empty = required
  std::string doc;
  std::vector<std::string> choices = {};  // for String
  bool nullable = false;                  // null is a meaningful value (stride: null = kernel_size)

  bool required() const { return default_json.empty(); }
};

// A node's attributes after validation against its schema, with defaults
// filled in. Accessors take the attribute's name; a name missing from the
// schema is a programming error and throws.
class Attrs {
 public:
  // Validates `given` (a JSON object, or null for "no attrs") against `specs`.
  // `path` is the JSON path of the attrs object ("nodes[2].attrs"), used in
  // every message. `spatial_rank` fixes the length of list attributes.
  Attrs(const std::vector<AttrSpec>& specs, const nlohmann::json& given, std::string path, int spatial_rank);

  bool is_null(std::string_view name) const;
  bool was_given(std::string_view name) const;
  int64_t integer(std::string_view name) const;
  double number(std::string_view name) const;
  bool boolean(std::string_view name) const;
  std::string string(std::string_view name) const;
  // Ints/Floats/Sizes attributes expanded to one entry per spatial dimension.
  std::vector<int64_t> ints(std::string_view name) const;
  std::vector<double> floats(std::string_view name) const;
  std::vector<std::optional<int64_t>> sizes(std::string_view name) const;
  std::vector<int64_t> list(std::string_view name) const;  // IntList as given
  const nlohmann::json& value(std::string_view name) const;

  // The JSON path of one attribute, and an Error located there.
  std::string path(std::string_view name) const;
  Error error(std::string_view name, const std::string& message) const;

  int spatial_rank() const { return spatial_rank_; }
  // Every attribute with its value, in schema order (for inspect and dot).
  std::string summary() const;

 private:
  struct Entry {
    const AttrSpec* spec;
    nlohmann::json value;
    bool given;
  };
  std::vector<Entry> entries_;
  std::string path_;
  int spatial_rank_;

  const Entry& find(std::string_view name) const;
};

}  // namespace mininn
