# What the libraries need to build and to be linked: included by the build
# and by the installed package's config (so consumers need exactly these).
# Every dependency comes from a Debian 12 package (scripts/setup-deps.sh).
# Test-only dependencies (GoogleTest, libarchive) are found in tests/.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json url)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(BZip2 REQUIRED)
find_package(LibLZMA REQUIRED)
find_package(xsimd REQUIRED)
# Debian's xsimd config names an `xtl` link dependency that is header-only and
# not installed (only needed for xtl complex support, which we do not use).
if(NOT TARGET xtl)
  add_library(xtl INTERFACE IMPORTED)
endif()
find_package(PkgConfig REQUIRED)
pkg_check_modules(libzstd REQUIRED IMPORTED_TARGET libzstd)
# secp256k1 (K-256) signature verification, several times faster than
# OpenSSL's generic prime-curve code for that curve.
pkg_check_modules(libsecp256k1 REQUIRED IMPORTED_TARGET libsecp256k1)
# The discovery catalogue (atmosphere/catalogue.cpp) stores records in SQLite
# with its FTS5 full-text index (Debian's libsqlite3 is built with it).
pkg_check_modules(sqlite3 REQUIRED IMPORTED_TARGET sqlite3)
