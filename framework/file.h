// Whole-file reads with a size limit, and atomic writes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mininn {

// The whole file; an Error naming it when it is missing, unreadable or larger
// than `max_bytes`.
std::string read_file(const std::string& path, size_t max_bytes);

// Writes to "<path>.tmp-<random>" in the same folder, then renames it into
// place: a failed or interrupted write never leaves a half-written file.
void write_file_atomically(const std::string& path, std::string_view bytes);

// IEEE half and bfloat16 to float, every value exact (subnormals, inf, NaN).
float half_to_float(uint16_t bits);
float bfloat16_to_float(uint16_t bits);

}  // namespace mininn
