#include "framework/strings.h"

#include <algorithm>
#include <cctype>

namespace mininn {
namespace {

// Case-insensitive edit distance: "maxpool2d" is one edit from "MaxPool2d"'s
// spirit, so it should be suggested.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  // Close by edit distance, or one a prefix of the other ("kernel" for
  // "kernel_size"); at most two suggestions.
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string w = lower(word);
  const size_t threshold = std::max<size_t>(2, word.size() / 3);
  std::vector<std::pair<size_t, std::string>> close;
  for (const std::string& candidate : candidates) {
    std::string c = lower(candidate);
    size_t distance = edit_distance(w, c);
    bool prefix = w.size() >= 3 && (c.rfind(w, 0) == 0 || w.rfind(c, 0) == 0);
    if (distance <= threshold || prefix) close.emplace_back(prefix ? 0 : distance, candidate);
  }
  if (close.empty()) return "";
  std::stable_sort(close.begin(), close.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (close.size() >= 2 && close[1].first == close[0].first)
    return " (did you mean '" + close[0].second + "' or '" + close[1].second + "'?)";
  return " (did you mean '" + close[0].second + "'?)";
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

}  // namespace mininn
