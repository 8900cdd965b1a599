#pragma once
// Byte-level examples from the spec, shared by the core test suites.

#include <string>

#include "support/hex.hpp"

namespace atdata::test {

// The 140-byte .npy of float32 [1, 2, 3] (numpy's np.save; docs/format.md).
inline std::string npy_example_a_hex() {
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + std::string(60, ' ') + "\n";
  return "934e554d5059"
         "0100"
         "7600" +
         to_hex(bytes_of(header)) +
         "0000803f"
         "00000040"
         "00004040";
}

// The 218-byte packed sample of docs/format.md's worked example.
inline std::string worked_example_hex() {
  return "89"
         "a5696d616765"
         "c48c" +
         npy_example_a_hex() +
         "a56c6162656c"
         "a3636174"
         "a573636f7265"
         "cb3fe0000000000000"
         "a26f6b"
         "c3"
         "a3726177"
         "c4020001"
         "a474616773"
         "92a161a162"
         "a56578747261"
         "c0"
         "a5636f756e74"
         "cd012c"
         "a36e6567"
         "d0d8";
}

}  // namespace atdata::test
