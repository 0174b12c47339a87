# Project-wide warning set. Applied to our own targets only (vitrine_target_defaults),
# so third-party headers pulled in as SYSTEM never break the build.
set(VITRINE_WARNINGS
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wnull-dereference -Wdouble-promotion -Wformat=2
  -Wimplicit-fallthrough -Wmisleading-indentation)
if(VITRINE_WERROR)
  list(APPEND VITRINE_WARNINGS -Werror)
endif()

# Call on every Vitrine target: warnings, frame pointers (perf call graphs in every preset).
function(vitrine_target_defaults target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${VITRINE_WARNINGS}>
    $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra $<$<BOOL:${VITRINE_WERROR}>:-Werror>>
    -fno-omit-frame-pointer)
endfunction()

# Host-side executables link mimalloc (measured in bench_ringbus: see README).
function(vitrine_host_executable target)
  vitrine_target_defaults(${target})
  if(TARGET vitrine::mimalloc)
    target_link_libraries(${target} PRIVATE vitrine::mimalloc)
    if(TARGET vitrine::winpr_aligned_malloc)
      target_link_libraries(${target} PRIVATE vitrine::winpr_aligned_malloc)
    endif()
  endif()
endfunction()

# A GoogleTest program, registered with ctest (one ctest entry per TEST).
#   vitrine_add_test(NAME ROOM <room> SOURCES <...> [LIBS <...>] [LABELS <...>]
#                    [CI_ASAN] [CI_TSAN] [TIMEOUT <s>])
# ROOM becomes a label. CI_ASAN / CI_TSAN put the program into the `ci_asan` / `ci_tsan`
# aggregate targets that .ci/run builds and runs under the asan / tsan presets (label asan/tsan).
# Label `slow` marks soak runs: they run in a bounded form unless VITRINE_SOAK=1.
if(NOT TARGET ci_asan)
  add_custom_target(ci_asan)
  add_custom_target(ci_tsan)
endif()
function(vitrine_add_test name)
  cmake_parse_arguments(T "CI_ASAN;CI_TSAN" "ROOM;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  vitrine_target_defaults(${name})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  set(labels ${T_ROOM} ${T_LABELS})
  if(T_CI_ASAN)
    add_dependencies(ci_asan ${name})
    list(APPEND labels asan)
  endif()
  if(T_CI_TSAN)
    add_dependencies(ci_tsan ${name})
    list(APPEND labels tsan)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_LIST ${name}_TESTS
    PROPERTIES TIMEOUT ${T_TIMEOUT})
  # gtest_discover_tests cannot pass a list-valued property; label the discovered tests from a
  # file that ctest includes after the discovery results.
  set(label_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake)
  file(WRITE ${label_file}
    "if(DEFINED ${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${labels}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${label_file})
endfunction()

# A Google Benchmark program: bench/<room>/ -> bin/bench_<room>.
function(vitrine_add_bench name)
  cmake_parse_arguments(B "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${B_SOURCES})
  vitrine_host_executable(${name})
  target_link_libraries(${name} PRIVATE ${B_LIBS} benchmark::benchmark)
endfunction()

# Adds the listed sub-folders of the current folder that have a CMakeLists.txt, in order.
# Rooms with several parts (rdpmux/proto + rdpmux/host, guest/relay + guest/appserver, hv/*)
# use it so that each part owns its own list file.
function(vitrine_add_parts)
  foreach(part ${ARGN})
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${part}/CMakeLists.txt)
      add_subdirectory(${part})
    endif()
  endforeach()
endfunction()
