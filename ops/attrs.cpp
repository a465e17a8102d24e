#include "ops/attrs.h"

#include "framework/strings.h"

#include <fmt/format.h>

#include <limits>

namespace mininn {
namespace {

using nlohmann::json;

const char* kRankWords[] = {"zero", "one", "two", "three"};

bool is_int(const json& v) { return v.is_number_integer() || v.is_number_unsigned(); }

// An integer that fits int64 (nlohmann keeps large positives as unsigned).
bool fits_int64(const json& v) {
  return v.is_number_integer() && !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()));
}

std::string list_shape(const char* element, int rank) {
  return fmt::format("an {} or a list of {} {}s", element, rank >= 0 && rank <= 3 ? kRankWords[rank] : "?", element);
}

// Validates one value against its spec; returns an empty string when it fits,
// else what is wrong.
std::string validate(const AttrSpec& spec, const json& v, int rank) {
  if (v.is_null()) return spec.nullable ? "" : "must not be null";
  auto int_ok = [](const json& x) -> std::string {
    if (!is_int(x)) return "must be an integer";
    if (!fits_int64(x)) return "is out of the int64 range";
    return "";
  };
  auto list_of = [&](auto&& element_ok, const char* element) -> std::string {
    if (!v.is_array()) {
      std::string why = element_ok(v);
      return why.empty() ? "" : fmt::format("must be {}", list_shape(element, rank));
    }
    if (v.size() != 1 && v.size() != static_cast<size_t>(rank))
      return fmt::format("must be {}, but has {} entries", list_shape(element, rank), v.size());
    for (const json& x : v) {
      std::string why = element_ok(x);
      if (!why.empty()) return fmt::format("must be {} (entry {} {})", list_shape(element, rank), x.dump(), why);
    }
    return "";
  };
  switch (spec.type) {
    case AttrType::Int:
      return int_ok(v);
    case AttrType::Float:
      return v.is_number() ? "" : "must be a number";
    case AttrType::Bool:
      return v.is_boolean() ? "" : "must be true or false";
    case AttrType::String:
      if (!v.is_string()) return "must be a string";
      for (const std::string& choice : spec.choices)
        if (v.get<std::string>() == choice) return "";
      return fmt::format("must be one of {{{}}}, but got '{}'", join(spec.choices), v.get<std::string>());
    case AttrType::Ints:
      return list_of(int_ok, "int");
    case AttrType::Floats:
      return list_of([](const json& x) -> std::string { return x.is_number() ? "" : "must be a number"; }, "number");
    case AttrType::Sizes:
      return list_of([&](const json& x) -> std::string { return x.is_null() ? "" : int_ok(x); }, "int");
    case AttrType::Padding:
      if (v.is_string()) {
        std::string s = v.get<std::string>();
        if (s == "same" || s == "valid") return "";
        return fmt::format("invalid padding string '{}', should be one of {{'same', 'valid'}}", s);
      }
      return list_of(int_ok, "int");
    case AttrType::IntList:
      if (!v.is_array()) return "must be a list of ints";
      for (const json& x : v) {
        std::string why = int_ok(x);
        if (!why.empty()) return fmt::format("must be a list of ints (entry {} {})", x.dump(), why);
      }
      return "";
  }
  return "";
}

}  // namespace

const char* attr_type_name(AttrType type) {
  switch (type) {
    case AttrType::Int: return "int";
    case AttrType::Float: return "float";
    case AttrType::Bool: return "bool";
    case AttrType::String: return "string";
    case AttrType::Ints: return "int or list of ints";
    case AttrType::Floats: return "float or list of floats";
    case AttrType::Sizes: return "int or list of (int or null)";
    case AttrType::Padding: return "int, list of ints, \"same\" or \"valid\"";
    case AttrType::IntList: return "list of ints";
  }
  return "?";
}

Attrs::Attrs(const std::vector<AttrSpec>& specs, const json& given, std::string path, int spatial_rank)
    : path_(std::move(path)), spatial_rank_(spatial_rank) {
  if (!given.is_null() && !given.is_object()) throw Error("must be an object of attributes", {path_});
  std::vector<std::string> names;
  for (const AttrSpec& spec : specs) names.push_back(spec.name);
  if (given.is_object()) {
    for (const auto& [key, value] : given.items()) {
      bool known = false;
      for (const AttrSpec& spec : specs) known = known || spec.name == key;
      if (!known) {
        std::string options = names.empty() ? "it takes none" : "it takes: " + join(names);
        throw Error(fmt::format("unknown attribute '{}'{}; {}", key, did_you_mean(key, names), options),
                    {path_ + "." + key});
      }
    }
  }
  for (const AttrSpec& spec : specs) {
    bool present = given.is_object() && given.contains(spec.name);
    if (!present && spec.required()) throw Error(fmt::format("missing required attribute '{}'", spec.name), {path_});
    json value = present ? given.at(spec.name) : json::parse(spec.default_json);
    if (present) {
      std::string why = validate(spec, value, spatial_rank);
      if (!why.empty()) throw Error(fmt::format("{} {}", spec.name, why), {path_ + "." + spec.name});
    }
    entries_.push_back({&spec, std::move(value), present});
  }
}

const Attrs::Entry& Attrs::find(std::string_view name) const {
  for (const Entry& entry : entries_)
    if (entry.spec->name == name) return entry;
  throw Error(fmt::format("internal error: attribute '{}' is not in the op's schema", name), {path_});
}

bool Attrs::is_null(std::string_view name) const { return find(name).value.is_null(); }
bool Attrs::was_given(std::string_view name) const { return find(name).given; }
const json& Attrs::value(std::string_view name) const { return find(name).value; }

int64_t Attrs::integer(std::string_view name) const { return find(name).value.get<int64_t>(); }
double Attrs::number(std::string_view name) const { return find(name).value.get<double>(); }
bool Attrs::boolean(std::string_view name) const { return find(name).value.get<bool>(); }
std::string Attrs::string(std::string_view name) const { return find(name).value.get<std::string>(); }

std::vector<int64_t> Attrs::ints(std::string_view name) const {
  const nlohmann::json& v = find(name).value;
  if (!v.is_array()) return std::vector<int64_t>(spatial_rank_, v.get<int64_t>());
  if (v.size() == 1) return std::vector<int64_t>(spatial_rank_, v[0].get<int64_t>());
  return v.get<std::vector<int64_t>>();
}

std::vector<double> Attrs::floats(std::string_view name) const {
  const nlohmann::json& v = find(name).value;
  if (!v.is_array()) return std::vector<double>(spatial_rank_, v.get<double>());
  if (v.size() == 1) return std::vector<double>(spatial_rank_, v[0].get<double>());
  return v.get<std::vector<double>>();
}

std::vector<std::optional<int64_t>> Attrs::sizes(std::string_view name) const {
  const nlohmann::json& v = find(name).value;
  auto entry = [](const nlohmann::json& x) -> std::optional<int64_t> {
    if (x.is_null()) return std::nullopt;
    return x.get<int64_t>();
  };
  if (!v.is_array()) return std::vector<std::optional<int64_t>>(spatial_rank_, entry(v));
  if (v.size() == 1) return std::vector<std::optional<int64_t>>(spatial_rank_, entry(v[0]));
  std::vector<std::optional<int64_t>> out;
  for (const nlohmann::json& x : v) out.push_back(entry(x));
  return out;
}

std::vector<int64_t> Attrs::list(std::string_view name) const { return find(name).value.get<std::vector<int64_t>>(); }

std::string Attrs::path(std::string_view name) const { return path_ + "." + std::string(name); }

Error Attrs::error(std::string_view name, const std::string& message) const { return Error(message, {path(name)}); }

std::string Attrs::summary() const {
  std::string out;
  for (const Entry& entry : entries_) {
    if (!out.empty()) out += ", ";
    out += entry.spec->name + "=" + entry.value.dump();
  }
  return out;
}

}  // namespace mininn
