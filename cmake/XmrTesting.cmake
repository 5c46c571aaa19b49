include(GoogleTest)
# xmr_add_test_dir(area lib...): one test binary xmr_<area>_tests from tests/unit/<area>/*_test.cc
# (plus tests/common), linked with the given libraries. Tests run with the repository root as
# working directory so they can read tests/data/.
function(xmr_add_test_dir area)
  file(GLOB _srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/unit/${area}/*_test.cc)
  if(NOT _srcs)
    return()
  endif()
  file(GLOB _common CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/common/*.cc)
  set(_t xmr_${area}_tests)
  add_executable(${_t} ${_srcs} ${_common})
  target_include_directories(${_t} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${_t} PRIVATE ${ARGN} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${_t} PRIVATE XMR_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                           XMR_BINARY_DIR="${PROJECT_BINARY_DIR}")
  xmr_set_warnings(${_t})
  gtest_discover_tests(${_t} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS ${area})
endfunction()
