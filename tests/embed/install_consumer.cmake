# Installs the build into a temporary prefix, then builds examples/embed the
# way an outside project would — find_package(mininn) with the shared and
# with the static library, and pkg-config — and runs each build.
#   cmake -DBUILD_DIR=build -DSOURCE_DIR=. -DWORK_DIR=dir -DCXX=c++ -DLIBDIR=lib [-DBUILD_TYPE=Release] [-DSANITIZE=ON]
#         -P install_consumer.cmake
cmake_minimum_required(VERSION 3.20)  # policies for a -P script
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT status EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${status}): ${command}\n${output}")
  endif()
  set(last_output "${output}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The installed tree: public headers only, both libraries, package files.
file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
foreach(expected include/mininn/mininn.h ${LIBDIR}/libmininn.a ${LIBDIR}/pkgconfig/mininn.pc
        ${LIBDIR}/cmake/mininn/mininnConfig.cmake ${LIBDIR}/cmake/mininn/mininnConfigVersion.cmake bin/mininn)
  if(NOT expected IN_LIST installed)
    message(FATAL_ERROR "the install lacks ${expected}; it has:\n${installed}")
  endif()
endforeach()
foreach(file IN LISTS installed)
  if(file MATCHES "^include/" AND NOT file MATCHES "^include/mininn/[a-z_]+\\.h$")
    message(FATAL_ERROR "a private file is installed: ${file}")
  endif()
endforeach()
file(GLOB shared ${prefix}/${LIBDIR}/libmininn.so.*.*.*)
if(NOT shared)
  message(FATAL_ERROR "no versioned libmininn.so in ${prefix}/${LIBDIR}")
endif()
# libmininn.so exports the mininn namespace only (no oneDNN, fmt or JSON
# symbols, no internals) and records its own dependencies.
run(nm -D --defined-only -C ${shared})
string(REGEX MATCHALL "\n[0-9a-f]+ [A-Za-z] [^\n]*" symbols "\n${last_output}")
foreach(symbol IN LISTS symbols)
  if(NOT symbol MATCHES " (mininn::|typeinfo for mininn::|typeinfo name for mininn::|vtable for mininn::)")
    message(FATAL_ERROR "libmininn.so exports a symbol outside the public API:${symbol}")
  endif()
endforeach()
run(readelf -d ${shared})
foreach(needed libdnnl libgomp libpng libjpeg libfmt)
  string(FIND "${last_output}" "[${needed}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "libmininn.so does not record its dependency ${needed}:\n${last_output}")
  endif()
endforeach()

set(flags "")
if(SANITIZE)
  set(flags "-fsanitize=address,undefined -fno-omit-frame-pointer")
endif()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

foreach(variant shared static)
  set(build ${WORK_DIR}/example-${variant})
  if(variant STREQUAL "static")
    set(static ON)
  else()
    set(static OFF)
  endif()
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples/embed -B ${build} -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_BUILD_TYPE=${BUILD_TYPE} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_CXX_FLAGS=${flags}
      -DMININN_EMBED_STATIC=${static})
  run(${CMAKE_COMMAND} --build ${build})
  run(${build}/embed_example)
  message(STATUS "examples/embed (${variant}):\n${last_output}")
endforeach()

# pkg-config, with no CMake at all.
set(ENV{PKG_CONFIG_PATH} ${prefix}/${LIBDIR}/pkgconfig)
run(pkg-config --cflags --libs mininn)
string(STRIP "${last_output}" pkg_flags)
separate_arguments(pkg_flags UNIX_COMMAND "${pkg_flags}")
separate_arguments(extra UNIX_COMMAND "${flags}")
run(${CXX} -std=c++20 -O1 ${extra} -DEMBED_MODEL="${SOURCE_DIR}/examples/embed/model.json"
    ${SOURCE_DIR}/examples/embed/main.cpp ${pkg_flags} -Wl,-rpath,${prefix}/${LIBDIR} -o ${WORK_DIR}/embed_pkgconfig)
run(${WORK_DIR}/embed_pkgconfig)
message(STATUS "examples/embed (pkg-config): ok")
