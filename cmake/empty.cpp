// Placeholder translation unit for a layer that has no sources yet.
namespace atdata::detail {
void empty_layer_anchor() {}
}  // namespace atdata::detail
