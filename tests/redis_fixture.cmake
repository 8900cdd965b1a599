# A redis-server on loopback for tests/storage (tools/redis/ctest-fixture.sh):
# <run>/url is a plain server, <run>/auth_url one with requirepass. The
# suite's tests find <run> as <build>/redis-run (the parent of ATDATA_STORAGE_RUN_DIR) (or take
# ATDATA_REDIS_URL from the environment) and skip when neither exists.
find_program(REDIS_SERVER_PROGRAM redis-server PATHS /usr/bin /usr/local/bin /usr/sbin)
find_program(PYTHON3_PROGRAM python3)
if(REDIS_SERVER_PROGRAM AND PYTHON3_PROGRAM AND EXISTS ${PROJECT_SOURCE_DIR}/tools/redis/ctest-fixture.sh)
  set(ATDATA_REDIS_RUN_DIR ${CMAKE_BINARY_DIR}/redis-run)
  add_test(NAME redis_start COMMAND ${PROJECT_SOURCE_DIR}/tools/redis/ctest-fixture.sh start ${ATDATA_REDIS_RUN_DIR})
  add_test(NAME redis_stop COMMAND ${PROJECT_SOURCE_DIR}/tools/redis/ctest-fixture.sh stop ${ATDATA_REDIS_RUN_DIR})
  set_tests_properties(redis_start PROPERTIES FIXTURES_SETUP redis LABELS storage
    ENVIRONMENT "REDIS_SERVER=${REDIS_SERVER_PROGRAM}")
  set_tests_properties(redis_stop PROPERTIES FIXTURES_CLEANUP redis LABELS storage)
  list(APPEND _storage_fixtures redis)
endif()
