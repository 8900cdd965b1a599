#pragma once
// The Boost.Asio build every translation unit that includes atdata's headers
// must share. atdata compiles Asio (and Beast, and Asio's SSL support) once,
// inside its own libraries, with BOOST_ASIO_SEPARATE_COMPILATION; our headers
// instantiate Asio templates that call into that compiled copy. A translation
// unit built header-only would define a second copy of the same functions in
// the program. The atdata::atdata CMake target adds the definitions; see
// docs/architecture.md, "Using the installed package".

#if !defined(BOOST_ASIO_SEPARATE_COMPILATION) || defined(BOOST_ASIO_HEADER_ONLY)
#error "atdata: build with BOOST_ASIO_SEPARATE_COMPILATION (link the atdata::atdata CMake target)"
#endif
