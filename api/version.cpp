#include <mininn/config.h>

namespace mininn {

const char* version() { return MININN_VERSION_STRING; }

}  // namespace mininn
