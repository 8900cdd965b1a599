// The extension module behind the atdata_cpp package (see atdata_cpp/__init__.py).

#include "common.hpp"

PYBIND11_MODULE(_atdata_cpp, m) {
  m.doc() = "C++ core of atdata_cpp: datasets, loaders, schemas and the ATProto client.";
  atdata::python::init_errors(m);
  atdata::python::init_dataset(m);
  atdata::python::init_atmosphere(m);
  atdata::python::init_catalogue(m);
}
