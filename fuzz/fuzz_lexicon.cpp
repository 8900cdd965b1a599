// The lexicon validator on hostile input: any JSON as a record of every
// shipped collection, and as a lexicon document validating itself. A verdict
// (or atdata::Error for a document that is not a lexicon), never a crash, and
// no recursion deeper than the validator's own limits.
#include <boost/json/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "atdata/atmosphere/lexicon_validation.hpp"
#include "atdata/error.hpp"

using namespace atdata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return 0;
  const auto& obj = v.get_object();
  (void)atmosphere::check_record(obj);
  const auto& shipped = atmosphere::LexiconCatalog::shipped();
  for (const auto& id : shipped.ids()) {
    if (shipped.has_record(id)) (void)shipped.check_record(id, obj);
  }
  atmosphere::LexiconCatalog mine;
  try {
    mine.add(v);
  } catch (const Error&) {
    return 0;
  }
  for (const auto& id : mine.ids()) (void)mine.check_record(id, obj);
  return 0;
}
