// AtmosphereClient and AtmosphereIndex as blocking Python objects. Each
// object owns the io_context its calls run on; a call releases the GIL for
// its whole network round trip and holds the object's lock, so Python
// threads may share one client (calls on it are serialised).

#include <boost/asio/io_context.hpp>
#include <mutex>

#include "atdata/atmosphere/dataset_loader.hpp"
#include "atdata/atmosphere/index.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/dataset/dataset.hpp"
#include "atdata/io/blocking.hpp"
#include "common.hpp"

namespace atdata::python {
namespace {

namespace am = atdata::atmosphere;

class Client {
 public:
  Client(const std::string& base_url, const std::string& plc_url)
      : client_(std::make_unique<atproto::AtmosphereClient>(io_.get_executor(), options(base_url, plc_url))),
        index_(*client_) {}

  // The environment's settings (ATDATA_PLC_URL, ...), then the arguments.
  static atproto::AtmosphereClientOptions options(const std::string& base_url, const std::string& plc_url) {
    auto o = atproto::AtmosphereClient::options_from_env();
    o.base_url = base_url;
    if (!plc_url.empty()) o.identity.plc_url = plc_url;
    return o;
  }
  ~Client() {
    // The client's pooled connections close on its own context.
    py::gil_scoped_release nogil;
    std::lock_guard lock(mu_);
    index_.reset();
    client_.reset();
  }

  // Runs `make()`'s awaitable on the object's context without the GIL.
  template <class F>
  auto run(F make) {
    py::gil_scoped_release nogil;
    std::lock_guard lock(mu_);
    return atdata::run_blocking(io_, make());
  }

  atproto::AtmosphereClient& client() { return *client_; }
  am::AtmosphereIndex& index() { return *index_; }

 private:
  boost::asio::io_context io_;
  std::mutex mu_;
  std::unique_ptr<atproto::AtmosphereClient> client_;
  std::optional<am::AtmosphereIndex> index_;
};

py::dict entry_to_py(const am::AtmosphereIndexEntry& e) {
  py::dict d;
  d["uri"] = e.uri().str();
  d["name"] = e.name();
  d["schema_ref"] = e.schema_ref();
  d["data_urls"] = e.data_urls();
  d["metadata"] = e.metadata() ? json_to_py(*e.metadata()) : py::object(py::none());
  d["record"] = json_to_py(e.record().to_record());
  return d;
}

py::dict schema_listed_to_py(const am::Listed<am::SchemaRecord>& l) {
  py::dict d;
  d["uri"] = l.uri().str();
  d["cid"] = l.cid();
  d["record"] = json_to_py(l.record().to_record());
  return d;
}

am::DatasetPublishOptions publish_options(std::string name, const std::string& schema_ref,
                                          const std::string& description,
                                          const std::vector<std::string>& tags, const std::string& license,
                                          const py::object& metadata, const std::string& metadata_url) {
  am::DatasetPublishOptions o(std::move(name));
  o.schema_ref = schema_ref;
  o.description = description;
  o.tags = tags;
  o.license = license;
  o.metadata_url = metadata_url;
  if (!metadata.is_none()) o.metadata = py_to_json(metadata).as_object();
  return o;
}

}  // namespace

void init_atmosphere(py::module_& m) {
  py::class_<Client>(m, "_Client")
      .def(py::init<const std::string&, const std::string&>(), py::arg("base_url"), py::arg("plc_url"))
      .def(
          "login",
          [](Client& c, std::string id, std::string pw) {
            c.run([&] { return c.client().login(std::move(id), std::move(pw)); });
          },
          py::arg("identifier"), py::arg("password"))
      .def(
          "login_with_session",
          [](Client& c, std::string s) {
            c.run([&] { return c.client().login_with_session(std::move(s)); });
          },
          py::arg("session"))
      .def("export_session", [](Client& c) { return c.client().export_session(); })
      .def("logout", [](Client& c) { c.client().logout(); })
      .def_property_readonly("is_authenticated", [](Client& c) { return c.client().is_authenticated(); })
      .def_property_readonly("did", [](Client& c) { return c.client().did(); })
      .def_property_readonly("handle", [](Client& c) { return c.client().handle(); })
      .def_property_readonly("service_url", [](Client& c) { return c.client().service_url(); })
      .def(
          "get_record",
          [](Client& c, std::string repo, std::string collection, std::string rkey) {
            auto r = c.run([&] {
              return c.client().get_record(std::move(repo), std::move(collection), std::move(rkey));
            });
            py::dict d;
            d["uri"] = r.uri;
            d["cid"] = r.cid;
            d["value"] = json_to_py(r.value);
            return d;
          },
          py::arg("repo"), py::arg("collection"), py::arg("rkey"))
      // Index
      .def(
          "publish_schema",
          [](Client& c, std::shared_ptr<SampleSchema> schema, std::string version, std::string description,
             const py::object& metadata) {
            am::SchemaPublishOptions o;
            o.version = std::move(version);
            o.description = std::move(description);
            if (!metadata.is_none()) o.metadata = py_to_json(metadata).as_object();
            SampleSchema s(schema->name(), schema->fields(), o.version);
            auto uri =
                c.run([&] { return c.index().schema_publisher().publish(std::move(s), std::move(o)); });
            return uri.str();
          },
          py::arg("schema"), py::arg("version"), py::arg("description"), py::arg("metadata"))
      .def(
          "insert_dataset",
          [](Client& c, std::vector<std::string> urls, std::shared_ptr<SampleSchema> schema, std::string name,
             const std::string& schema_ref, const std::string& description,
             const std::vector<std::string>& tags, const std::string& license, const py::object& metadata,
             const std::string& metadata_url) {
            auto o = publish_options(std::move(name), schema_ref, description, tags, license, metadata,
                                     metadata_url);
            std::optional<SampleSchema> s;
            if (schema) s = *schema;
            auto e = c.run(
                [&] { return c.index().insert_dataset_urls(std::move(urls), std::move(o), std::move(s)); });
            return entry_to_py(e);
          },
          py::arg("urls"), py::arg("schema"), py::arg("name"), py::arg("schema_ref"), py::arg("description"),
          py::arg("tags"), py::arg("license"), py::arg("metadata"), py::arg("metadata_url"))
      .def(
          "publish_with_blobs",
          [](Client& c, std::vector<std::string> paths, const std::string& schema_ref, std::string name,
             const std::string& description, const std::vector<std::string>& tags, const std::string& license,
             const py::object& metadata) {
            auto o = publish_options(std::move(name), schema_ref, description, tags, license, metadata, "");
            auto uri = c.run([&] {
              return c.index().dataset_publisher().publish_with_blob_files(
                  std::move(paths), am::AtUri(schema_ref), std::move(o));
            });
            return uri.str();
          },
          py::arg("paths"), py::arg("schema_ref"), py::arg("name"), py::arg("description"), py::arg("tags"),
          py::arg("license"), py::arg("metadata"))
      .def(
          "get_dataset",
          [](Client& c, const std::string& uri) {
            return entry_to_py(c.run([&] { return c.index().get_dataset(am::AtUri(uri)); }));
          },
          py::arg("uri"))
      .def(
          "list_datasets",
          [](Client& c, std::string repo) {
            auto es = c.run([&] { return c.index().list_datasets(std::move(repo)); });
            py::list out;
            for (const auto& e : es) out.append(entry_to_py(e));
            return out;
          },
          py::arg("repo"))
      .def(
          "get_schema",
          [](Client& c, const std::string& uri) {
            return json_to_py(c.run([&] { return c.index().get_schema(am::AtUri(uri)); }).to_record());
          },
          py::arg("uri"))
      .def(
          "list_schemas",
          [](Client& c, std::string repo) {
            auto ls = c.run([&] { return c.index().list_schemas(std::move(repo)); });
            py::list out;
            for (const auto& l : ls) out.append(schema_listed_to_py(l));
            return out;
          },
          py::arg("repo"))
      .def(
          "decode_schema",
          [](Client& c, const std::string& uri) {
            auto s = c.run([&] { return c.index().decode_schema(am::AtUri(uri)); });
            return std::make_shared<SampleSchema>(*s);
          },
          py::arg("uri"))
      .def(
          "shard_urls",
          [](Client& c, const std::string& uri) {
            return c.run([&] { return c.index().dataset_loader().get_shard_urls(am::AtUri(uri)); });
          },
          py::arg("uri"))
      .def(
          "load_dataset",
          [](Client& c, const std::string& uri, std::shared_ptr<SampleSchema> schema) {
            auto ds = c.run([&] {
              return c.index().dataset_loader().to_dynamic_dataset(am::AtUri(uri), std::move(schema));
            });
            return std::make_unique<DynamicDataset>(std::move(ds));
          },
          py::arg("uri"), py::arg("schema"));
}

}  // namespace atdata::python
