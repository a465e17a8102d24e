# Compares docs/ops/reference.md with what `mininn ops --markdown` prints from
# the op registry; with -DUPDATE=ON writes it instead.
#   cmake -DTOOL=build/mininn -DREFERENCE=docs/ops/reference.md [-DUPDATE=ON] -P check_reference.cmake
cmake_minimum_required(VERSION 3.20)  # policies for a -P script
execute_process(COMMAND ${TOOL} ops --markdown RESULT_VARIABLE status OUTPUT_VARIABLE generated ERROR_VARIABLE error)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${TOOL} ops --markdown failed: ${error}")
endif()
if(UPDATE)
  file(WRITE ${REFERENCE} "${generated}")
  message(STATUS "wrote ${REFERENCE}")
  return()
endif()
if(NOT EXISTS ${REFERENCE})
  message(FATAL_ERROR "${REFERENCE} is missing; generate it: cmake --build <build> --target op_reference")
endif()
file(READ ${REFERENCE} committed)
if(NOT committed STREQUAL generated)
  # Name the ops that differ, so the message says what drifted.
  string(REGEX MATCHALL "\n## [A-Za-z0-9_]+" want "${generated}")
  string(REGEX MATCHALL "\n## [A-Za-z0-9_]+" have "${committed}")
  set(missing ${want})
  list(REMOVE_ITEM missing ${have})
  set(extra ${have})
  list(REMOVE_ITEM extra ${want})
  string(REPLACE "\n## " " " missing "${missing}")
  string(REPLACE "\n## " " " extra "${extra}")
  message(FATAL_ERROR "${REFERENCE} is not what the op registry generates"
    "\n  ops missing from the docs:${missing}\n  ops the registry no longer has:${extra}"
    "\n  (other differences are attributes, types, defaults or docs)"
    "\nRegenerate it: cmake --build <build> --target op_reference  (or: mininn ops --markdown > docs/ops/reference.md)")
endif()
message(STATUS "${REFERENCE} matches the op registry")
