// Restores WinPR's `_aligned_malloc` in executables that link mimalloc and FreeRDP.
// cmake/VitrineDeps.cmake builds it as the object library vitrine::winpr_aligned_malloc, and
// vitrine_host_executable (hence vitrine_add_bench) links it into every host executable.
//
// The bug it fixes: two libraries export the same symbol with different contracts.
//   WinPR 2.11 (winpr/crt.h):      void* _aligned_malloc(size_t size, size_t alignment)
//     -- the MSVC contract; the block carries a header that WinPR's _aligned_free,
//        _aligned_realloc, _aligned_recalloc and _aligned_msize read.
//   mimalloc 2.0.9 (alloc-override.c): void* _aligned_malloc(size_t alignment, size_t size)
//     -- the arguments swapped, no WinPR header.
// An executable linked with mimalloc looks mimalloc up before libwinpr2 (DT_NEEDED order), so
// every FreeRDP/WinPR call binds to mimalloc's version:
//   * RemoteFX's tile buffer pool asks _aligned_malloc(24672, 16): "16 bytes aligned to 24672"
//     is refused (not a power of two) -> BufferPool_Take returns NULL -> "rfx_encode_message:
//     failed". That was the symptom (bench_appserver, RemoteFX under mimalloc).
//   * a power-of-two size such as the RemoteFX decoder's _aligned_malloc(16384, 16) succeeds as
//     16 bytes aligned to 16384, into which FreeRDP then writes 16 KiB. mimalloc pads such
//     blocks, but about half of them (measured, 4 KiB..1 MiB) stay shorter than FreeRDP asked:
//     heap overflows; and WinPR's _aligned_free finds no header in front of the block.
// A definition in the executable itself comes first in the dynamic linker's lookup scope, ahead
// of every shared library, so the one below wins for the whole process whatever the link order.
// It forwards to _aligned_offset_malloc, which only WinPR exports: the block is WinPR's, with
// its header, exactly as libwinpr2's own _aligned_malloc does, so all its _aligned_* functions
// keep working. (CMake also exports the symbol explicitly: --export-dynamic-symbol.)
#include <winpr/crt.h>

extern "C" WINPR_API void* _aligned_malloc(size_t size, size_t alignment) {
  return _aligned_offset_malloc(size, alignment, 0);
}
