#include "common.hpp"
namespace atdata::python {
void init_atmosphere(py::module_&) {}
}  // namespace atdata::python
