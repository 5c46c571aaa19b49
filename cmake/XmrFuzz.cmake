# XMR_BUILD_FUZZERS: instruments every target for libFuzzer (coverage feedback) and with
# AddressSanitizer + UndefinedBehaviorSanitizer (UB aborts, so libFuzzer records it as a crash);
# tests/fuzz/CMakeLists.txt then links each fuzz target with libFuzzer's main. Clang only, and
# without the CUDA backend (nvcc code cannot be instrumented this way).
if(XMR_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR
      "XMR_BUILD_FUZZERS=ON needs clang (libFuzzer is part of clang), but the C++ compiler is "
      "${CMAKE_CXX_COMPILER_ID} (${CMAKE_CXX_COMPILER}). Configure a fresh build directory with "
      "-DCMAKE_CXX_COMPILER=clang++, or use the preset: cmake --preset fuzz")
  endif()
  if(XMR_ENABLE_CUDA)
    message(FATAL_ERROR
      "XMR_BUILD_FUZZERS=ON needs XMR_ENABLE_CUDA=OFF (the CUDA backend cannot be built with "
      "libFuzzer/ASan instrumentation); configure with -DXMR_ENABLE_CUDA=OFF or the 'fuzz' preset")
  endif()
  if(XMR_SANITIZE)
    message(FATAL_ERROR "XMR_BUILD_FUZZERS=ON already builds with address,undefined; leave "
                        "XMR_SANITIZE (${XMR_SANITIZE}) empty")
  endif()
  add_compile_options(
      $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link,address,undefined>
      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=undefined>
      $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>
      $<$<COMPILE_LANGUAGE:CXX>:-g>)
  add_link_options(-fsanitize=address,undefined)
  message(STATUS "xmr: XMR_BUILD_FUZZERS=ON (libFuzzer + address,undefined on all code)")
endif()
