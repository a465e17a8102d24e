// The version of these headers, and the attribute that marks the symbols the
// shared library exports (everything else in libmininn.so stays hidden).
#pragma once

#define MININN_VERSION_MAJOR 0
#define MININN_VERSION_MINOR 1
#define MININN_VERSION_PATCH 0
#define MININN_VERSION_STRING "0.1.0"

#if defined(__GNUC__) || defined(__clang__)
#define MININN_API __attribute__((visibility("default")))
#else
#define MININN_API
#endif

namespace mininn {

// The version of the library linked at run time ("0.1.0"); with a shared
// library it may differ from MININN_VERSION_STRING, the headers' version.
MININN_API const char* version();

}  // namespace mininn
