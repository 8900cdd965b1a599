// The discovery catalogue (a SQLite file `atdata watch --db` keeps), for
// queries from Python.

#include "atdata/atmosphere/catalogue.hpp"

#include "atdata/atmosphere/datetime.hpp"
#include "atdata/error.hpp"
#include "common.hpp"

namespace atdata::python {
namespace {

namespace am = atdata::atmosphere;

am::RecordKind kind_of(const std::string& k) {
  for (auto kind : {am::RecordKind::schema, am::RecordKind::dataset, am::RecordKind::lens}) {
    if (am::to_string(kind) == k) return kind;
  }
  throw InvalidArgument("kind must be 'schema', 'dataset' or 'lens', not '" + k + "'");
}

py::dict entry_to_py(const am::CatalogueEntry& e) {
  py::dict d;
  d["uri"] = e.uri.str();
  d["did"] = e.did;
  d["collection"] = e.collection;
  d["rkey"] = e.rkey;
  d["cid"] = e.cid;
  d["kind"] = std::string(am::to_string(e.kind));
  d["name"] = e.name;
  d["description"] = e.description;
  d["tags"] = e.tags;
  d["schema_ref"] = e.schema_ref;
  d["schema_version"] = e.schema_version;
  d["lens_source"] = e.lens_source;
  d["lens_target"] = e.lens_target;
  d["record"] = json_to_py(e.record);
  d["time"] = am::format_created_at(e.time);
  return d;
}

}  // namespace

void init_catalogue(py::module_& m) {
  py::class_<am::Catalogue>(m, "Catalogue",
                            "The discovery catalogue: a SQLite file kept by `atdata watch --db`.")
      .def(py::init([](const std::string& path, bool read_only) {
             am::CatalogueOptions o(path);
             o.read_only = read_only;
             return am::Catalogue::open(o);
           }),
           py::arg("path"), py::arg("read_only") = true)
      .def(
          "search",
          [](const am::Catalogue& c, std::optional<std::string> text, std::optional<std::string> kind,
             std::optional<std::string> did, std::optional<std::string> schema_uri,
             std::optional<std::string> tag, std::optional<std::string> name, std::size_t limit) {
            am::CatalogueQuery q;
            q.text = std::move(text);
            if (kind) q.kind = kind_of(*kind);
            q.did = std::move(did);
            q.schema_uri = std::move(schema_uri);
            q.tag = std::move(tag);
            q.name = std::move(name);
            q.limit = limit;
            std::vector<am::CatalogueEntry> found;
            {
              py::gil_scoped_release nogil;
              found = c.search(q);
            }
            py::list out;
            for (const auto& e : found) out.append(entry_to_py(e));
            return out;
          },
          py::arg("text") = py::none(), py::arg("kind") = py::none(), py::arg("did") = py::none(),
          py::arg("schema_uri") = py::none(), py::arg("tag") = py::none(), py::arg("name") = py::none(),
          py::arg("limit") = 100,
          "Entries matching every given filter (text: full text over name, description and tags).")
      .def(
          "get",
          [](const am::Catalogue& c, const std::string& uri) -> py::object {
            auto e = c.get(am::AtUri(uri));
            return e ? py::object(entry_to_py(*e)) : py::object(py::none());
          },
          py::arg("uri"))
      .def("__len__", &am::Catalogue::size)
      .def("counts", [](const am::Catalogue& c) {
        auto n = c.counts();
        py::dict d;
        d["schemas"] = n.schemas;
        d["datasets"] = n.datasets;
        d["lenses"] = n.lenses;
        return d;
      });
}

}  // namespace atdata::python
