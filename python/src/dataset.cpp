// Dataset, loaders and batches. The pipeline runs on the C++ side with the
// GIL released; each batch crosses into Python as one object, and its arrays
// as numpy views of the batch's own buffers.

#include <optional>
#include <variant>

#include "atdata/atmosphere/schema_mapping.hpp"
#include "atdata/atmosphere/schema_record.hpp"
#include "atdata/dataset/dataset.hpp"
#include "atdata/dataset/shard_cache.hpp"
#include "atdata/error.hpp"
#include "common.hpp"

namespace atdata::python {
namespace {

using SchemaPtr = std::shared_ptr<const SampleSchema>;

// One decoded batch, shared by the Python object and the numpy arrays made
// from it (their bases keep the NDArray storage, not this object, alive).
class Batch {
 public:
  explicit Batch(DynamicBatch b) : b_(std::move(b)) {}

  std::size_t size() const noexcept { return b_.size(); }
  const std::vector<std::string>& names() const noexcept { return b_.field_names(); }
  bool has(const std::string& name) const {
    for (const auto& n : b_.field_names())
      if (n == name) return true;
    return false;
  }

  // Python atdata's aggregation: arrays stacked, anything else a list.
  py::object field(const std::string& name) const {
    if (b_.is_stacked(name)) return ndarray_to_numpy(b_.array(name), /*writeable=*/true);
    const auto& samples = b_.samples();
    py::list out(samples.size());
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const Value* v = samples[i].find(name);
      out[i] = v ? value_to_py(*v) : py::none();
    }
    return out;
  }

  // (address, nbytes) of the C++ buffer a stacked field lives in, so that
  // tests can show the numpy array is a view of it.
  py::tuple buffer(const std::string& name) const {
    const auto bytes = b_.array(name).bytes();
    return py::make_tuple(reinterpret_cast<std::uintptr_t>(bytes.data()), bytes.size());
  }

  py::dict sample(std::size_t i) const {
    if (i >= b_.size()) throw py::index_error("sample index out of range");
    return sample_dict(b_.samples()[i]);
  }

  static py::dict sample_dict(const DynamicSample& s) {
    py::dict out;
    for (const auto& f : s.fields()) out[py::str(f.name)] = value_to_py(f.value);
    return out;
  }

 private:
  DynamicBatch b_;
};

py::dict state_to_py(const IterationState& s) {
  py::dict d;
  d["shuffled"] = s.shuffled;
  d["seed"] = s.seed;
  d["epoch"] = s.epoch;
  d["shard_index"] = s.shard_index;
  d["samples_in_shard"] = s.samples_in_shard;
  d["samples_delivered"] = s.samples_delivered;
  return d;
}

std::optional<IterationState> state_from_py(const py::object& o) {
  if (o.is_none()) return std::nullopt;
  auto d = o.cast<py::dict>();
  IterationState s;
  auto get = [&](const char* k, auto& field) {
    if (d.contains(k)) field = d[k].cast<std::decay_t<decltype(field)>>();
  };
  get("shuffled", s.shuffled);
  get("seed", s.seed);
  get("epoch", s.epoch);
  get("shard_index", s.shard_index);
  get("samples_in_shard", s.samples_in_shard);
  get("samples_delivered", s.samples_delivered);
  return s;
}

py::dict stats_to_py(const LoaderStats& s) {
  py::dict d;
  d["bytes"] = s.bytes;
  d["samples"] = s.samples;
  d["items"] = s.items;
  d["shards_done"] = s.shards_done;
  d["shards_total"] = s.shards_total;
  d["shards_skipped"] = s.shards_skipped;
  d["in_flight"] = s.in_flight;
  d["retries"] = s.retries;
  d["buffered_bytes"] = s.buffered_bytes;
  d["seconds"] = s.seconds;
  d["samples_per_second"] = s.samples_per_second();
  d["bytes_per_second"] = s.bytes_per_second();
  return d;
}

// A batch loader or a sample loader. next() returns a Batch, a field dict,
// or None at the end.
class LoaderBox {
 public:
  using BatchLoader = DynamicDataset::BatchLoader;
  using SampleLoader = DynamicDataset::SampleLoader;

  explicit LoaderBox(BatchLoader l) : l_(std::in_place_type<BatchLoader>, std::move(l)) {}
  explicit LoaderBox(SampleLoader l) : l_(std::in_place_type<SampleLoader>, std::move(l)) {}
  LoaderBox(const LoaderBox&) = delete;
  LoaderBox& operator=(const LoaderBox&) = delete;
  ~LoaderBox() {
    // Stopping the pipeline joins its threads, which may be waiting on the
    // network: let other Python threads run meanwhile.
    if (PyGILState_Check()) {
      py::gil_scoped_release nogil;
      l_.emplace<std::monostate>();
    }
  }

  py::object next() {
    if (auto* b = std::get_if<BatchLoader>(&l_)) {
      std::optional<DynamicBatch> item;
      {
        py::gil_scoped_release nogil;
        item = b->next_blocking();
      }
      if (!item) return py::none();
      return py::cast(std::make_shared<Batch>(std::move(*item)));
    }
    auto& s = std::get<SampleLoader>(l_);
    std::optional<DynamicSample> item;
    {
      py::gil_scoped_release nogil;
      item = s.next_blocking();
    }
    if (!item) return py::none();
    return Batch::sample_dict(*item);
  }

  // The loader is only empty inside the destructor.
  template <class F>
  auto with_loader(F f) const {
    if (const auto* b = std::get_if<BatchLoader>(&l_)) return f(*b);
    return f(std::get<SampleLoader>(l_));
  }

  bool batched() const noexcept { return std::holds_alternative<BatchLoader>(l_); }
  py::dict state() const {
    return with_loader([](const auto& l) { return state_to_py(l.state()); });
  }
  py::dict stats() const {
    return with_loader([](const auto& l) { return stats_to_py(l.stats()); });
  }
  std::vector<std::string> shards() const {
    return with_loader([](const auto& l) { return l.shards(); });
  }

 private:
  std::variant<std::monostate, BatchLoader, SampleLoader> l_;
};

struct PyPrefetch {
  std::size_t shards_in_flight;
  std::size_t read_ahead_bytes;
  std::size_t queue_depth;
  std::size_t decode_threads;
  int max_retries;
  bool skip_bad_shards;
};

std::unique_ptr<DynamicDataset> make_dataset(std::string url, SchemaPtr schema, std::size_t rank,
                                             std::size_t world_size, const PyPrefetch& p,
                                             std::optional<std::string> cache_dir,
                                             std::uint64_t cache_max_bytes,
                                             std::optional<std::string> metadata_url) {
  if (world_size == 0) throw InvalidArgument("world_size must be at least 1");
  if (rank >= world_size) {
    throw InvalidArgument("rank " + std::to_string(rank) + " is not below world_size " +
                          std::to_string(world_size));
  }
  DatasetOptions o;
  o.rank = rank;
  o.world_size = world_size;
  o.prefetch.shards_in_flight = p.shards_in_flight;
  o.prefetch.read_ahead_bytes = p.read_ahead_bytes;
  o.prefetch.queue_depth = p.queue_depth;
  o.prefetch.decode_threads = p.decode_threads;
  o.prefetch.max_retries = p.max_retries;
  o.prefetch.on_shard_error = p.skip_bad_shards ? ShardErrorPolicy::skip : ShardErrorPolicy::raise;
  if (cache_dir)
    o.cache = std::make_shared<ShardCache>(
        ShardCacheOptions().with_dir(*cache_dir).with_max_bytes(cache_max_bytes));
  if (metadata_url) o.metadata_url = *metadata_url;
  return std::make_unique<DynamicDataset>(std::move(url), std::move(schema), std::move(o));
}

std::size_t batch_size_of(const py::object& batch_size) {
  const auto n = batch_size.cast<long long>();
  if (n <= 0) throw InvalidArgument("batch_size must be positive or None, not " + std::to_string(n));
  return static_cast<std::size_t>(n);
}

}  // namespace

void init_dataset(py::module_& m) {
  py::class_<SampleSchema, std::shared_ptr<SampleSchema>>(m, "Schema",
                                                          "A run-time sample type: named, versioned fields.")
      .def(py::init([](const std::string& name, const py::list& fields, const std::string& version) {
             return std::make_shared<SampleSchema>(schema_from_py(name, fields, version));
           }),
           py::arg("name"), py::arg("fields"), py::arg("version") = "1.0.0")
      .def_static(
          "from_record",
          [](const py::object& record) {
            auto r = atmosphere::SchemaRecord::from_record(py_to_json(record));
            return std::make_shared<SampleSchema>(atmosphere::to_sample_schema(r));
          },
          py::arg("record"), "The sample type of a published schema record (a dict).")
      .def(
          "to_record",
          [](const SampleSchema& s, const std::string& description) {
            atmosphere::SchemaPublishOptions o;
            o.description = description;
            return json_to_py(atmosphere::schema_record_from(s, o).to_record());
          },
          py::arg("description") = "", "The schema record this type publishes as (a dict).")
      .def_property_readonly("name", &SampleSchema::name)
      .def_property_readonly("version", &SampleSchema::version)
      .def_property_readonly("fields", [](const SampleSchema& s) { return schema_fields_to_py(s); })
      .def("__eq__", [](const SampleSchema& a, const SampleSchema& b) { return a == b; })
      .def("__repr__", [](const SampleSchema& s) {
        std::string out = "Schema(" + s.name() + "@" + s.version() + ": ";
        for (std::size_t i = 0; i < s.size(); ++i) {
          const auto& f = s.field(i);
          out += (i ? ", " : "") + f.name + ": " + f.type.describe() + (f.optional ? "?" : "");
        }
        return out + ")";
      });

  py::class_<Batch, std::shared_ptr<Batch>>(m, "_Batch")
      .def("__len__", &Batch::size)
      .def_property_readonly("field_names", &Batch::names)
      .def("has_field", &Batch::has)
      .def("field", &Batch::field, py::arg("name"))
      .def("sample", &Batch::sample, py::arg("index"))
      .def("_buffer", &Batch::buffer, py::arg("name"));

  py::class_<LoaderBox>(m, "_Loader")
      .def("next", &LoaderBox::next)
      .def_property_readonly("batched", &LoaderBox::batched)
      .def_property_readonly("state", &LoaderBox::state)
      .def_property_readonly("stats", &LoaderBox::stats)
      .def_property_readonly("shards", &LoaderBox::shards);

  py::class_<DynamicDataset>(m, "_Dataset")
      .def(py::init([](std::string url, SchemaPtr schema, std::size_t rank, std::size_t world_size,
                       std::size_t shards_in_flight, std::size_t read_ahead_bytes, std::size_t queue_depth,
                       std::size_t decode_threads, int max_retries, bool skip_bad_shards,
                       std::optional<std::string> cache_dir, std::uint64_t cache_max_bytes,
                       std::optional<std::string> metadata_url) {
             PyPrefetch p{shards_in_flight, read_ahead_bytes, queue_depth,
                          decode_threads,   max_retries,      skip_bad_shards};
             return make_dataset(std::move(url), std::move(schema), rank, world_size, p, std::move(cache_dir),
                                 cache_max_bytes, std::move(metadata_url));
           }),
           py::arg("url"), py::arg("schema"), py::arg("rank"), py::arg("world_size"),
           py::arg("shards_in_flight"), py::arg("read_ahead_bytes"), py::arg("queue_depth"),
           py::arg("decode_threads"), py::arg("max_retries"), py::arg("skip_bad_shards"),
           py::arg("cache_dir"), py::arg("cache_max_bytes"), py::arg("metadata_url"))
      .def_property_readonly("url", &DynamicDataset::url)
      .def_property_readonly(
          "schema", [](const DynamicDataset& d) { return std::const_pointer_cast<SampleSchema>(d.schema()); })
      .def("list_shards", &DynamicDataset::list_shards)
      .def("metadata",
           [](const DynamicDataset& d) -> py::object {
             std::optional<Value> v;
             {
               py::gil_scoped_release nogil;
               v = d.metadata();
             }
             return v ? value_to_py(*v) : py::none();
           })
      .def(
          "ordered",
          [](const DynamicDataset& d, const py::object& batch_size, const py::object& resume) {
            auto r = state_from_py(resume);
            if (batch_size.is_none()) return std::make_unique<LoaderBox>(d.ordered(unbatched, r));
            return std::make_unique<LoaderBox>(d.ordered(batch_size_of(batch_size), r));
          },
          py::arg("batch_size"), py::arg("resume"))
      .def(
          "shuffled",
          [](const DynamicDataset& d, std::size_t buffer_shards, std::size_t buffer_samples,
             std::uint64_t seed, std::uint64_t epoch, const py::object& batch_size,
             const py::object& resume) {
            ShuffleOptions s{buffer_shards, buffer_samples, seed, epoch};
            auto r = state_from_py(resume);
            if (batch_size.is_none()) return std::make_unique<LoaderBox>(d.shuffled(s, unbatched, r));
            return std::make_unique<LoaderBox>(d.shuffled(s, batch_size_of(batch_size), r));
          },
          py::arg("buffer_shards"), py::arg("buffer_samples"), py::arg("seed"), py::arg("epoch"),
          py::arg("batch_size"), py::arg("resume"));
}

}  // namespace atdata::python
