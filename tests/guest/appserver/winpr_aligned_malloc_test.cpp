// Built with mimalloc and vitrine::winpr_aligned_malloc (tests/guest/appserver/CMakeLists.txt):
// FreeRDP's `_aligned_malloc` must keep WinPR's contract in a mimalloc process, which RemoteFX
// needs (its tile pool asks _aligned_malloc(24672, 16); its decoder _aligned_malloc(16384, 16)).
// surface_encoder_test.cpp is compiled into the same program, so every codec test (RemoteFX
// encode and decode included) also runs under mimalloc.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <mimalloc.h>
#include <winpr/crt.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using AlignedMalloc = void* (*)(size_t, size_t);

TEST(WinprAlignedMalloc, ThisProgramRunsOnMimalloc) {
  void* p = std::malloc(64);
  ASSERT_NE(p, nullptr);
  // Otherwise the tests below prove nothing about mimalloc.
  EXPECT_TRUE(mi_is_in_heap_region(p)) << "malloc is not mimalloc's here";
  std::free(p);
}

TEST(WinprAlignedMalloc, TheProcessWideSymbolIsWinprsContract) {
  // Every library binds to the first definition in the global scope: ours, in the executable.
  const auto bound = reinterpret_cast<AlignedMalloc>(dlsym(RTLD_DEFAULT, "_aligned_malloc"));
  ASSERT_NE(bound, nullptr);
  EXPECT_EQ(bound, static_cast<AlignedMalloc>(&_aligned_malloc));
  for (const size_t size : {size_t{24672}, size_t{16384}, size_t{100}, size_t{1} << 20}) {
    void* p = bound(size, 16);
    ASSERT_NE(p, nullptr) << size;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
    // WinPR's header is in front of the block: its _aligned_msize knows the size.
    EXPECT_EQ(_aligned_msize(p, 16, 0), size);
    std::memset(p, 0xab, size);  // the whole block is ours (ASan would see an overflow)
    p = _aligned_realloc(p, size * 2, 16);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(static_cast<unsigned char*>(p)[size - 1], 0xab);
    _aligned_free(p);
  }
}

TEST(WinprAlignedMalloc, MimallocsOwnSymbolHasTheArgumentsSwapped) {
  // The cause, kept visible: mimalloc 2.0.9 exports _aligned_malloc(alignment, size).
  void* lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
  if (!lib) GTEST_SKIP() << "mimalloc is not a shared library here";
  const auto mi = reinterpret_cast<AlignedMalloc>(dlsym(lib, "_aligned_malloc"));
  if (!mi) {
    dlclose(lib);
    GTEST_SKIP() << "this mimalloc exports no _aligned_malloc: the fix is no longer needed";
  }
  void* p = mi(24672, 16);  // WinPR's meaning: 24672 bytes; mimalloc's: alignment 24672
  std::printf("mimalloc's _aligned_malloc(24672, 16) = %p (WinPR's contract: 24672 bytes)\n", p);
  EXPECT_EQ(p, nullptr) << "mimalloc changed its _aligned_malloc; re-check the comment in "
                           "cmake/winpr_aligned_malloc.cpp";
  std::free(p);
  dlclose(lib);
}

}  // namespace
