# Every dependency comes from a Debian 12 package (scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# xxHash: xxh3 checksums of the bus header and of test/bench payloads.
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
add_library(vitrine::xxhash ALIAS PkgConfig::XXHASH)
# seccomp filters of vitrine-kvm (allow-list) and vitrine-vmm (deny-list after start-up)
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)
add_library(vitrine::seccomp ALIAS PkgConfig::SECCOMP)

# mimalloc: allocator for host-side executables.
find_package(mimalloc 2.0 QUIET)
if(mimalloc_FOUND)
  add_library(vitrine::mimalloc INTERFACE IMPORTED)
  target_link_libraries(vitrine::mimalloc INTERFACE mimalloc)
  # mimalloc 2.0.9 exports `_aligned_malloc(alignment, size)`, WinPR (FreeRDP) `_aligned_malloc(size,
  # alignment)`: in an executable that links both, FreeRDP binds to mimalloc's and overflows its
  # buffers (see winpr_aligned_malloc.cpp). An OBJECT library, so that the definition sits in each
  # executable itself, ahead of both shared libraries; vitrine_host_executable links it.
  pkg_check_modules(VITRINE_WINPR_ALLOC QUIET IMPORTED_TARGET winpr2)
  if(VITRINE_WINPR_ALLOC_FOUND)
    add_library(vitrine_winpr_aligned_malloc OBJECT ${CMAKE_CURRENT_LIST_DIR}/winpr_aligned_malloc.cpp)
    add_library(vitrine::winpr_aligned_malloc ALIAS vitrine_winpr_aligned_malloc)
    target_link_libraries(vitrine_winpr_aligned_malloc PUBLIC PkgConfig::VITRINE_WINPR_ALLOC)
    target_link_options(vitrine_winpr_aligned_malloc INTERFACE "LINKER:--export-dynamic-symbol=_aligned_malloc")
    vitrine_target_defaults(vitrine_winpr_aligned_malloc)
  endif()
endif()

if(VITRINE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(VITRINE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
