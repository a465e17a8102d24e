# The installable library: libmininn.so and libmininn.a from mininn_core's
# objects (compiled once), the public headers, a CMake package
# (find_package(mininn) -> mininn::mininn) and a pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The public header states the version too; keep the two in step.
file(STRINGS ${PROJECT_SOURCE_DIR}/include/mininn/config.h MININN_HEADER_VERSION
     REGEX "^#define MININN_VERSION_STRING \"[^\"]*\"")
string(REGEX REPLACE ".*\"([^\"]*)\".*" "\\1" MININN_HEADER_VERSION "${MININN_HEADER_VERSION}")
if(NOT MININN_HEADER_VERSION STREQUAL PROJECT_VERSION)
  message(FATAL_ERROR "include/mininn/config.h says ${MININN_HEADER_VERSION}, CMakeLists.txt says ${PROJECT_VERSION}")
endif()

# Everything the library uses is a private detail: consumers of the shared
# library link libmininn.so alone (it records its own dependencies); the
# static library passes them on as link-only dependencies.
set(MININN_LINK_DEPENDENCIES DNNL::dnnl OpenMP::OpenMP_CXX PNG::PNG JPEG::JPEG fmt::fmt)

add_library(mininn_shared SHARED $<TARGET_OBJECTS:mininn_core>)
add_library(mininn_static STATIC $<TARGET_OBJECTS:mininn_core>)
foreach(target mininn_shared mininn_static)
  target_include_directories(${target} INTERFACE
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${target} INTERFACE cxx_std_20)
  target_link_libraries(${target} PRIVATE ${MININN_LINK_DEPENDENCIES})
  set_target_properties(${target} PROPERTIES OUTPUT_NAME mininn)
endforeach()
# 0.x: any minor version may change the ABI, so it is part of the soname.
set_target_properties(mininn_shared PROPERTIES EXPORT_NAME mininn VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set_target_properties(mininn_static PROPERTIES EXPORT_NAME mininn_static)
target_link_options(mininn_shared PRIVATE -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/mininn.map)
set_property(TARGET mininn_shared APPEND PROPERTY LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/mininn.map)
if(NOT MININN_SANITIZE)  # sanitizer runtimes resolve their symbols from the executable
  target_link_options(mininn_shared PRIVATE -Wl,--no-undefined)
endif()

# The installed names work in a build tree too (add_subdirectory, FetchContent).
add_library(mininn::mininn ALIAS mininn_shared)
add_library(mininn::mininn_static ALIAS mininn_static)

set(MININN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mininn)
install(TARGETS mininn_shared EXPORT mininnTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS mininn_static EXPORT mininnStaticTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS mininn RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/mininn DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(EXPORT mininnTargets NAMESPACE mininn:: DESTINATION ${MININN_CMAKE_DIR})
install(EXPORT mininnStaticTargets NAMESPACE mininn:: DESTINATION ${MININN_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/mininnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/mininnConfig.cmake INSTALL_DESTINATION ${MININN_CMAKE_DIR})
# Before 1.0 only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mininnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mininnConfig.cmake ${PROJECT_BINARY_DIR}/mininnConfigVersion.cmake
  DESTINATION ${MININN_CMAKE_DIR})

# pkg-config: relocatable, the prefix found from the .pc file's own folder.
set(MININN_PC_PREFIX "\${pcfiledir}")
string(REPLACE "/" ";" MININN_LIBDIR_PARTS "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
foreach(part IN LISTS MININN_LIBDIR_PARTS)
  string(APPEND MININN_PC_PREFIX "/..")
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/mininn.pc.in ${PROJECT_BINARY_DIR}/mininn.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/mininn.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
