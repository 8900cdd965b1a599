// The C++ blocks of docs/samples.md, compiled and run (CTest: snippet_samples).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "snippet_support.hpp"

// [snippet samples-typed]
#include "atdata/core/sample.hpp"

struct ImageSample {
  atdata::NDArray image;
  std::string label;
  std::optional<double> score;    // Python `float | None`
  std::vector<std::string> tags;  // Python `list[str]`
};
BOOST_DESCRIBE_STRUCT(ImageSample, (), (image, label, score, tags))

// [end samples-typed]

#include "atdata/core/dynamic_sample.hpp"
#include "atdata/core/sample_batch.hpp"
#include "atdata/core/value.hpp"

namespace {

using snippet::check;

ImageSample make_sample(int i) {
  std::vector<std::uint8_t> pixels(2 * 3);
  for (std::size_t k = 0; k < pixels.size(); ++k) pixels[k] = static_cast<std::uint8_t>(i * 10 + k);
  ImageSample s;
  s.image = atdata::NDArray::from_span(std::span<const std::uint8_t>(pixels), {2, 3});
  s.label = "cat-" + std::to_string(i);
  if (i % 2 == 0) s.score = 0.5 * i;
  s.tags = {"a", "b"};
  return s;
}

bool same(const ImageSample& a, const ImageSample& b) {
  return a.image == b.image && a.label == b.label && a.score == b.score && a.tags == b.tags;
}

void typed(const ImageSample& sample) {
  std::vector<std::byte> buffer;
  const atdata::SharedBytes shared = atdata::SharedBytes::copy_of(atdata::pack(sample));
  const std::span<const std::byte> span = shared.span();
  // [snippet samples-typed]
  std::vector<std::byte> bytes = atdata::pack(sample);  // == Python sample.packed
  atdata::pack_into(sample, buffer);                    // append to a reused buffer
  ImageSample s = atdata::unpack<ImageSample>(shared);  // SharedBytes: zero-copy
  ImageSample t = atdata::unpack<ImageSample>(span);    // span: owning copies
  atdata::unpack_into(shared, s);                       // reuse s's storage
  // [end samples-typed]
  check(bytes == buffer, "pack_into appends what pack returns");
  check(same(s, sample) && same(t, sample), "unpack gives the packed sample back");
  const auto inside = [&](const atdata::NDArray& a) {
    return a.bytes().data() >= shared.data() && a.bytes().data() < shared.data() + shared.size();
  };
  check(inside(s.image) && !inside(t.image), "SharedBytes decode is zero-copy, span decode copies");
}

void dynamic(const atdata::SharedBytes& shared) {
  // [snippet samples-dynamic]
  auto schema = std::make_shared<const atdata::SampleSchema>(
      "ImageSample",
      std::vector<atdata::FieldDef>{
          {"image", atdata::FieldType::ndarray("uint8"), false},
          {"label", atdata::FieldType::primitive(atdata::FieldKind::str), false},
          {"tags", atdata::FieldType::list(atdata::FieldType::primitive(atdata::FieldKind::str)), false},
          {"score", atdata::FieldType::primitive(atdata::FieldKind::float_), true}},
      "1.0.0");

  auto s = atdata::DynamicSample::unpack(schema, shared);  // schema order, arrays decoded
  std::string label = s.get<std::string>("label");         // SchemaError on kind mismatch
  const atdata::Value& v = s.at("image");                  // v.as_ndarray()
  for (const atdata::DynamicField& f : s)                  // schema order
    std::cout << f.name << ": " << to_display_string(f.value) << "\n";
  s.set("label", "dog");
  auto bytes = s.pack();  // validated, byte-identical

  auto raw = atdata::DynamicSample::unpack(shared);  // no schema: stored order,
                                                     // bin stays Bytes
  // [end samples-dynamic]
  check(label == "cat-0", "get<std::string>");
  check(v.as_ndarray().shape().size() == 2 && v.as_ndarray().shape()[1] == 3, "ndarray field decoded");
  check(s.field(2).name == "tags", "fields in schema order");
  check(atdata::unpack<ImageSample>(atdata::SharedBytes::adopt(std::move(bytes))).label == "dog",
        "re-packed sample decodes with the new label");
  check(raw.field(2).name == "score" && raw.at("image").is_bytes(), "schemaless: stored order, bin as bytes");
}

void batches(std::vector<ImageSample> samples) {
  const std::size_t n = samples.size();
  // [snippet samples-batch]
  atdata::SampleBatch<ImageSample> batch(std::move(samples));
  const atdata::NDArray& images = batch.stacked<&ImageSample::image>();  // (N, *shape)
  std::vector<std::string> labels = batch.column<&ImageSample::label>();
  const atdata::NDArray& same = batch.array("image");  // by name
  batch.samples();                                     // the samples
  // [end samples-batch]
  check(images.shape().size() == 3 && static_cast<std::size_t>(images.shape()[0]) == n, "stacked (N, 2, 3)");
  check(labels.size() == n && labels[1] == "cat-1", "label column");
  check(&same == &images, "array(name) is the stacked array");
}

}  // namespace

int main() {
  return snippet::run("snippet_samples", [] {
    typed(make_sample(0));
    dynamic(atdata::SharedBytes::adopt(atdata::pack(make_sample(0))));
    batches({make_sample(0), make_sample(1), make_sample(2)});
  });
}
