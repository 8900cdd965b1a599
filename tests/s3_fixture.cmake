# The S3-compatible server on loopback for tests/storage (tools/s3): <run>/url,
# access_key, secret_key, bucket, and the fault proxy in front of it at
# <run>/faultproxy/url. The suite's tests find <run> as
# <build>/s3-run (the parent of ATDATA_STORAGE_RUN_DIR) (or take ATDATA_S3_RUN_DIR from the
# environment) and skip when neither exists.
find_program(NODE_PROGRAM node)
if(NODE_PROGRAM AND EXISTS ${PROJECT_SOURCE_DIR}/tools/s3/ctest-fixture.sh)
  set(ATDATA_S3_RUN_DIR ${CMAKE_BINARY_DIR}/s3-run)
  add_test(NAME s3_start COMMAND ${PROJECT_SOURCE_DIR}/tools/s3/ctest-fixture.sh start ${ATDATA_S3_RUN_DIR})
  add_test(NAME s3_stop COMMAND ${PROJECT_SOURCE_DIR}/tools/s3/ctest-fixture.sh stop ${ATDATA_S3_RUN_DIR})
  set_tests_properties(s3_start PROPERTIES FIXTURES_SETUP s3 LABELS storage TIMEOUT 300)
  set_tests_properties(s3_stop PROPERTIES FIXTURES_CLEANUP s3 LABELS storage)
  list(APPEND _storage_fixtures s3)
endif()
