# Every dependency comes from a Debian 12 package (scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# xxHash: xxh3 checksums of the bus header and of test/bench payloads.
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
add_library(vitrine::xxhash ALIAS PkgConfig::XXHASH)

# mimalloc: allocator for host-side executables.
find_package(mimalloc 2.0 QUIET)
if(mimalloc_FOUND)
  add_library(vitrine::mimalloc INTERFACE IMPORTED)
  target_link_libraries(vitrine::mimalloc INTERFACE mimalloc)
endif()

if(VITRINE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(VITRINE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
