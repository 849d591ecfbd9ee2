// The archive is unpacked with the layer extractor (which confines every
// path, link and symlink to the destination) into <root>/tmp/load-*; all
// files named by the archive's JSON are then opened *inside* that
// directory (symlinks resolved in the root), so a hostile archive can
// neither write nor read outside it. Blobs enter the store through
// verified ingest; names are only tagged once every image of the archive
// has been stored.
#include "mason/exporter/load.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "mason/archive/compression.h"
#include "mason/archive/layer.h"
#include "mason/image/media_type.h"
#include "mason/image/platform.h"
#include "mason/image/reference.h"
#include "mason/sys/in_root.h"
#include "mason/sys/unique_fd.h"

namespace mason::exporter {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t k_json_limit = 64 << 20;

util::Error corrupt(std::string message) {
  return {util::ErrorCode::corruption, std::move(message)};
}

// A private scratch directory under the store root, removed on scope exit.
class ScratchDir {
public:
  static util::Result<ScratchDir> create(const fs::path& root) {
    std::error_code ec;
    fs::create_directories(root / "tmp", ec);
    std::string tmpl = (root / "tmp" / "load-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) return util::errno_error("create " + tmpl, errno);
    ScratchDir d;
    d.m_path = tmpl;
    d.m_fd = ::open(tmpl.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d.m_fd < 0) return util::errno_error("open " + tmpl, errno);
    return d;
  }
  ScratchDir() = default;
  ScratchDir(ScratchDir&& o) noexcept : m_path(std::move(o.m_path)), m_fd(o.m_fd) {
    o.m_fd = -1;
    o.m_path.clear();
  }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir() {
    if (m_fd >= 0) ::close(m_fd);
    if (!m_path.empty()) {
      std::error_code ec;
      fs::remove_all(m_path, ec);
    }
  }
  int fd() const { return m_fd; }

private:
  std::string m_path;
  int m_fd = -1;
};

util::Result<sys::UniqueFd> open_member(int root, const std::string& path) {
  auto fd = sys::open_in_root(root, path, O_RDONLY | O_CLOEXEC);
  if (!fd)
    return std::unexpected(corrupt("archive member " + path + ": " + fd.error().to_string()));
  return fd;
}

util::Result<std::string> read_member(int root, const std::string& path) {
  MASON_TRY_ASSIGN(auto fd, open_member(root, path));
  std::string out;
  char buf[65536];
  for (;;) {
    const auto n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return util::errno_error("read " + path, errno);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (static_cast<std::int64_t>(out.size()) > k_json_limit)
      return std::unexpected(corrupt("archive member " + path + " is too large for JSON"));
  }
  return out;
}

bool exists(int root, const std::string& path) {
  return static_cast<bool>(sys::open_in_root(root, path, O_RDONLY | O_CLOEXEC));
}

util::Result<nlohmann::json> parse_json(const std::string& text, const std::string& what) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return std::unexpected(corrupt(what + ": malformed JSON"));
  return j;
}

// Blobs this load added to the store, removed again if the load fails so
// a bad archive leaves the store as it was.
struct Fresh {
  std::vector<image::Digest> digests;
  void note(const content::Store& store, const image::Digest& d, bool existed) {
    if (!existed && store.has_blob(d)) digests.push_back(d);
  }
};

struct Pending {
  image::Descriptor manifest;
  std::vector<std::string> names;
};

// One layer file of a docker archive: stored as it is; a compressed one is
// decompressed once to check it against the config's diff_id.
util::Result<image::Descriptor> ingest_layer(content::Store& store, Fresh& fresh, int root,
                                             const std::string& path,
                                             const image::Digest& diff_id) {
  MASON_TRY_ASSIGN(auto fd, open_member(root, path));
  unsigned char head[8] = {};
  const auto n = ::pread(fd.get(), head, sizeof head, 0);
  MASON_TRY_ASSIGN(auto compression, archive::detect_compression(archive::ConstBytes(
                                         reinterpret_cast<const std::byte*>(head),
                                         n > 0 ? static_cast<std::size_t>(n) : 0)));
  content::IngestOptions opts;
  opts.media_type = std::string(image::oci_layer_type(
      compression == archive::Compression::gzip   ? image::Compression::gzip
      : compression == archive::Compression::zstd ? image::Compression::zstd
                                                  : image::Compression::none));
  if (compression == archive::Compression::none) opts.expected_digest = diff_id;
  const bool existed = compression == archive::Compression::none && store.has_blob(diff_id);
  auto desc = store.ingest_file(fd.get(), opts);
  if (desc && !existed) fresh.note(store, desc->digest, false);
  if (!desc) return std::unexpected(desc.error().with_context("layer " + path));
  std::int64_t unpacked = desc->size;
  if (compression != archive::Compression::none) {
    MASON_TRY_ASSIGN(auto blob, store.open_blob(desc->digest));
    archive::FdSource raw(blob.get());
    archive::ReadOptions ro;
    ro.expected_diff_id = diff_id;
    MASON_TRY_ASSIGN(auto reader, archive::LayerReader::open(raw, ro));
    std::vector<std::byte> buf(1 << 16);
    for (;;) {
      auto got = reader.read(buf);
      if (!got) return std::unexpected(got.error().with_context("layer " + path));
      if (*got == 0) break;
    }
    unpacked = reader.uncompressed_size();
  }
  content::BlobAnnotation note;
  note.diff_id = diff_id;
  note.unpacked_size = unpacked;
  (void)store.annotate_blob(desc->digest, note);
  return desc;
}

util::Result<std::vector<Pending>> load_docker(content::Store& store, Fresh& fresh, int root) {
  MASON_TRY_ASSIGN(auto text, read_member(root, "manifest.json"));
  MASON_TRY_ASSIGN(auto json, parse_json(text, "manifest.json"));
  if (!json.is_array()) return std::unexpected(corrupt("manifest.json: not an array"));
  std::vector<Pending> out;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const auto& entry = (json)[i];
    const auto where = "manifest.json[" + std::to_string(i) + "]";
    if (!entry.is_object() || !entry.contains("Config") || !entry["Config"].is_string() ||
        !entry.contains("Layers") || !entry["Layers"].is_array())
      return std::unexpected(corrupt(where + ": needs \"Config\" and \"Layers\""));
    MASON_TRY_ASSIGN(auto config_raw, read_member(root, entry["Config"].get<std::string>()));
    auto config = image::parse_image_config(config_raw);
    if (!config) return std::unexpected(config.error().with_context(where));
    const auto& layer_paths = entry["Layers"];
    if (layer_paths.size() != config->rootfs.diff_ids.size())
      return std::unexpected(corrupt(where + ": " + std::to_string(layer_paths.size()) +
                                     " layers but the config lists " +
                                     std::to_string(config->rootfs.diff_ids.size()) + " diff_ids"));
    std::vector<image::Descriptor> layers;
    for (std::size_t l = 0; l < layer_paths.size(); ++l) {
      if (!layer_paths[l].is_string())
        return std::unexpected(corrupt(where + ": layer path is not a string"));
      MASON_TRY_ASSIGN(auto desc,
                       ingest_layer(store, fresh, root, layer_paths[l].get<std::string>(),
                                    config->rootfs.diff_ids[l]));
      layers.push_back(desc);
    }
    std::vector<std::string> names;
    if (entry.contains("RepoTags") && entry["RepoTags"].is_array())
      for (const auto& t : entry["RepoTags"]) {
        if (!t.is_string()) continue;
        auto n = normalize_tag(t.get<std::string>());
        if (!n) return std::unexpected(n.error().with_context(where + " RepoTags"));
        names.push_back(*n);
      }
    const auto config_digest = config->digest;
    const bool config_existed = store.has_blob(config_digest);
    MASON_TRY_ASSIGN(auto img, store_image(store, std::move(*config), layers, {}));
    if (!config_existed) { // a new config means a new manifest too
      fresh.note(store, config_digest, false);
      fresh.note(store, img.target.digest, false);
    }
    out.push_back({img.target, names});
  }
  return out;
}

util::Result<image::Descriptor> ingest_oci_blob(content::Store& store, Fresh& fresh, int root,
                                                const image::Descriptor& d) {
  const auto path =
      "blobs/" + std::string(d.digest.algorithm()) + "/" + std::string(d.digest.hex());
  if (store.has_blob(d.digest)) return d;
  MASON_TRY_ASSIGN(auto fd, open_member(root, path));
  content::IngestOptions opts;
  opts.media_type = d.media_type;
  opts.expected_digest = d.digest;
  opts.expected_size = d.size;
  auto got = store.ingest_file(fd.get(), opts);
  if (!got) return std::unexpected(got.error().with_context("blob " + d.digest.str()));
  fresh.note(store, d.digest, false);
  return d;
}

util::Result<std::vector<Pending>> load_oci(content::Store& store, Fresh& fresh, int root) {
  MASON_TRY_ASSIGN(auto text, read_member(root, "index.json"));
  auto index = image::parse_index(text);
  if (!index) return std::unexpected(index.error().with_context("index.json"));
  std::vector<Pending> out;
  for (const auto& entry : index->manifests) {
    image::Descriptor target = entry;
    if (image::is_index(entry.media_type)) {
      MASON_TRY(ingest_oci_blob(store, fresh, root, entry));
      MASON_TRY_ASSIGN(auto raw, store.read_blob(entry.digest));
      MASON_TRY_ASSIGN(auto nested, image::parse_index(raw));
      MASON_TRY_ASSIGN(auto chosen, image::select_manifest(nested, image::host_platform()));
      target = chosen;
    }
    MASON_TRY(ingest_oci_blob(store, fresh, root, target));
    MASON_TRY_ASSIGN(auto raw, store.read_blob(target.digest));
    MASON_TRY_ASSIGN(auto manifest, image::parse_manifest(raw));
    std::vector<image::Descriptor> children = {manifest.config};
    children.insert(children.end(), manifest.layers.begin(), manifest.layers.end());
    for (const auto& child : children) MASON_TRY(ingest_oci_blob(store, fresh, root, child));
    MASON_TRY(store.record_references(target.digest, children));
    std::vector<std::string> names;
    const auto full = entry.annotations.find("io.containerd.image.name");
    const auto ref_name = entry.annotations.find("org.opencontainers.image.ref.name");
    std::string candidate = full != entry.annotations.end()       ? full->second
                            : ref_name != entry.annotations.end() ? ref_name->second
                                                                  : "";
    // A bare tag ("latest") names no repository: the image stays untagged.
    if (!candidate.empty() &&
        (full != entry.annotations.end() || candidate.find_first_of(":/") != std::string::npos))
      if (auto n = normalize_tag(candidate)) names.push_back(*n);
    target.media_type = manifest.media_type.empty() ? std::string(image::media_type::oci_manifest)
                                                    : manifest.media_type;
    out.push_back({target, names});
  }
  return out;
}

} // namespace

util::Result<std::vector<LocalImage>> load_archive(content::Store& store, int fd) {
  MASON_TRY_ASSIGN(auto scratch, ScratchDir::create(store.root()));
  archive::FdSource src(fd);
  archive::ApplyOptions opts;
  opts.owners = archive::OwnerPolicy::ignore;
  opts.devices = archive::DevicePolicy::reject;
  opts.xattrs = archive::XattrPolicy::skip;
  if (auto r = archive::apply_layer(src, scratch.fd(), opts); !r)
    return std::unexpected(r.error().with_context("read archive"));
  const bool docker = exists(scratch.fd(), "manifest.json");
  if (!docker && !exists(scratch.fd(), "index.json"))
    return util::make_error(util::ErrorCode::invalid_argument,
                            "not an image archive: no manifest.json (docker) or index.json (OCI)");
  Fresh fresh; // what this load added, passed down to every ingest
  auto pending =
      docker ? load_docker(store, fresh, scratch.fd()) : load_oci(store, fresh, scratch.fd());
  if (!pending) {
    for (const auto& d : fresh.digests) (void)store.delete_blob(d);
    return std::unexpected(pending.error());
  }
  if (pending->empty())
    return util::make_error(util::ErrorCode::invalid_argument, "the archive holds no image");
  std::vector<LocalImage> out;
  for (const auto& p : *pending) {
    std::vector<std::string> names = p.names;
    if (names.empty()) names.push_back(std::string(k_untagged_prefix) + p.manifest.digest.str());
    for (const auto& n : names) MASON_TRY(store.tag(n, p.manifest));
    MASON_TRY_ASSIGN(auto img, find_local_image(store, p.manifest.digest.str()));
    out.push_back(std::move(img));
  }
  return out;
}

} // namespace mason::exporter
