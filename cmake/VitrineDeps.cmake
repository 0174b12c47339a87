# Every dependency comes from a Debian 12 package (scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# xxHash: xxh3 checksums of the bus header and of test/bench payloads.
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
add_library(vitrine::xxhash ALIAS PkgConfig::XXHASH)
# seccomp filters of vitrine-kvm (allow-list) and vitrine-vmm (deny-list after start-up)
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)
add_library(vitrine::seccomp ALIAS PkgConfig::SECCOMP)

# FreeRDP decodes everything the guest's RDP server sends, so a FreeRDP with known decoder holes
# is a hole in the host. 2.11.7 is the 2.x release with the fixes of the published decoder CVEs
# (2.11.0: CVE-2023-39350..39356, -40181..40589; 2.11.5: CVE-2024-22211; 2.11.6: CVE-2024-32039..
# 32460 in the clear, planar, ncrush, zgfx and interleaved codecs; 2.11.7: CVE-2024-32658..32660).
# Debian 12 ships 2.11.7. Refuse older builds; -DVITRINE_ALLOW_OLD_FREERDP=ON for a trusted guest.
set(VITRINE_FREERDP_MIN_VERSION 2.11.7)
option(VITRINE_ALLOW_OLD_FREERDP "Build against a FreeRDP 2 older than ${VITRINE_FREERDP_MIN_VERSION}" OFF)
pkg_check_modules(VITRINE_FREERDP_VERSION QUIET freerdp2)
if(VITRINE_FREERDP_VERSION_FOUND AND VITRINE_FREERDP_VERSION_VERSION VERSION_LESS VITRINE_FREERDP_MIN_VERSION)
  if(VITRINE_ALLOW_OLD_FREERDP)
    message(WARNING "FreeRDP ${VITRINE_FREERDP_VERSION_VERSION} lacks decoder CVE fixes of ${VITRINE_FREERDP_MIN_VERSION}: "
                    "only for guests you trust")
  else()
    message(FATAL_ERROR "FreeRDP ${VITRINE_FREERDP_VERSION_VERSION} is older than ${VITRINE_FREERDP_MIN_VERSION}, the 2.x "
                        "release that fixed the published decoder CVEs; the guest's RDP server could exploit it. "
                        "Install FreeRDP >= ${VITRINE_FREERDP_MIN_VERSION} (Debian 12: apt-get install freerdp2-dev) "
                        "or configure with -DVITRINE_ALLOW_OLD_FREERDP=ON for a guest you trust.")
  endif()
endif()

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
