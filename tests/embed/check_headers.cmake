# Compiles every public header on its own, twice included (the guard works),
# with -Wall -Wextra -Wpedantic -Werror, and fails if its preprocessed text
# reaches a dependency's header or type or a private mininn header.
#   cmake "-DCOMPILERS=g++;clang++" -DINCLUDE_DIR=include -DWORK_DIR=dir -P check_headers.cmake
cmake_minimum_required(VERSION 3.20)  # policies for a -P script
file(GLOB headers RELATIVE ${INCLUDE_DIR} ${INCLUDE_DIR}/mininn/*.h)
list(LENGTH headers count)
if(count EQUAL 0)
  message(FATAL_ERROR "no public headers in ${INCLUDE_DIR}/mininn")
endif()
file(MAKE_DIRECTORY ${WORK_DIR})

# Headers a public header may not include, and names its text may not hold.
set(forbidden_headers "nlohmann/" "fmt/" "dnnl" "oneapi/" "CLI/" "png.h" "jpeglib.h" "stb_image"
    "/framework/" "/ops/" "/graph/" "/api/" "/tools/")
set(forbidden_names "nlohmann" "fmt::" "dnnl" "CLI::" "png_" "jpeg_")

set(failures "")
foreach(header IN LISTS headers)
  string(MAKE_C_IDENTIFIER ${header} stem)
  set(source ${WORK_DIR}/${stem}.cpp)
  file(WRITE ${source} "#include <${header}>\n#include <${header}>\nint main() { return 0; }\n")
  foreach(compiler IN LISTS COMPILERS)
    execute_process(
      COMMAND ${compiler} -std=c++20 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -H -I${INCLUDE_DIR} ${source}
      RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE included)
    if(NOT status EQUAL 0)
      string(APPEND failures "${header} does not compile on its own with ${compiler}:\n${output}${included}\n")
      continue()
    endif()
    # -H lists every header opened, one per line, indented with dots.
    foreach(pattern IN LISTS forbidden_headers)
      string(FIND "${included}" "${pattern}" at)
      if(NOT at EQUAL -1)
        string(APPEND failures "${header} includes a private or dependency header (${pattern}):\n${included}\n")
      endif()
    endforeach()
  endforeach()
  # The header itself, comments stripped: no dependency type in a declaration.
  file(READ ${INCLUDE_DIR}/${header} text)
  string(REGEX REPLACE "//[^\n]*" "" code "${text}")
  foreach(name IN LISTS forbidden_names)
    string(FIND "${code}" "${name}" at)
    if(NOT at EQUAL -1)
      string(APPEND failures "${header} names a dependency's type (${name}) outside a comment\n")
    endif()
  endforeach()
endforeach()

if(failures)
  message(FATAL_ERROR "${failures}")
endif()
message(STATUS "${count} public headers compile alone and leak no dependency")
