// Walks the manifest's layers bottom up; for each, the snapshotter unpacks
// the blob over the previous chain unless that chain is already there.
#include "mason/ops/image_source.h"

#include <fmt/format.h>

#include "mason/archive/stream.h"
#include "mason/util/sha256.h"

namespace mason::ops {
namespace {

// A Source that owns its descriptor.
class BlobSource final : public archive::Source {
public:
  explicit BlobSource(util::UniqueFd fd) : m_fd(std::move(fd)), m_in(m_fd.get()) {}
  util::Result<std::size_t> read(archive::MutableBytes data) override { return m_in.read(data); }

private:
  util::UniqueFd m_fd;
  archive::FdSource m_in;
};

} // namespace

std::vector<image::Digest> chain_ids(const std::vector<image::Digest>& diff_ids) {
  std::vector<image::Digest> out;
  for (const auto& d : diff_ids) {
    if (out.empty()) {
      out.push_back(d);
      continue;
    }
    const auto text = out.back().str() + " " + d.str();
    out.push_back(image::Digest::sha256_of(text));
  }
  return out;
}

util::Result<std::optional<std::string>> unpack_image(snapshot::Snapshotter& snapshots,
                                                      content::Store& store,
                                                      const image::Manifest& manifest,
                                                      const image::ImageConfig& config) {
  if (manifest.layers.size() != config.rootfs.diff_ids.size())
    return util::make_error(util::ErrorCode::corruption,
                            fmt::format("image {} has {} layers but {} diff_ids",
                                        config.digest.str(), manifest.layers.size(),
                                        config.rootfs.diff_ids.size()));
  const auto chains = chain_ids(config.rootfs.diff_ids);
  std::optional<std::string> parent;
  for (std::size_t i = 0; i < chains.size(); ++i) {
    const auto& layer = manifest.layers[i];
    auto opener = [&]() -> util::Result<std::unique_ptr<archive::Source>> {
      MASON_TRY_ASSIGN(auto fd, store.open_blob(layer.digest));
      return std::make_unique<BlobSource>(std::move(fd));
    };
    archive::ApplyStats stats;
    auto id = snapshots.unpack(parent, chains[i].str(), opener, &stats);
    if (!id)
      return std::unexpected(
          std::move(id.error()).with_context(fmt::format("unpack layer {}", layer.digest.str())));
    if (stats.uncompressed_size > 0) { // a cache: losing it costs a count later
      content::BlobAnnotation note;
      note.unpacked_size = stats.uncompressed_size;
      (void)store.annotate_blob(layer.digest, note);
    }
    parent = std::move(*id);
  }
  return parent;
}

} // namespace mason::ops
