// Every format is produced through one small "output tree" interface
// (add a file of known size from bytes or a stream) with two back ends: a
// tar writer and a directory writer. Blobs are copied as stored for OCI
// layouts; docker archives need uncompressed layer.tar files, so
// compressed layers are decompressed twice (once to learn the size the tar
// header needs, once to copy).
#include "mason/exporter/save.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include <nlohmann/json.hpp>

#include "mason/archive/compression.h"
#include "mason/archive/tar_writer.h"
#include "mason/image/media_type.h"
#include "mason/image/reference.h"
#include "mason/sys/errors.h"
#include "mason/sys/file.h"

namespace mason::exporter {

namespace fs = std::filesystem;

namespace {

class OutputTree {
public:
  virtual ~OutputTree() = default;
  virtual util::Status add(const std::string& path, std::int64_t size, archive::Source& data) = 0;
  util::Status add(const std::string& path, std::string_view bytes) {
    archive::MemorySource src(bytes);
    return add(path, static_cast<std::int64_t>(bytes.size()), src);
  }
  virtual util::Status finish() = 0;
};

util::Status copy_exact(archive::Source& in, archive::Sink& out, std::int64_t size,
                        const std::string& path) {
  std::vector<std::byte> buf(1 << 16);
  std::int64_t left = size;
  while (left > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::int64_t>(left, 1 << 16));
    MASON_TRY_ASSIGN(auto n, in.read(std::span(buf.data(), want)));
    if (n == 0)
      return util::make_error(util::ErrorCode::corruption, "short read while writing " + path);
    if (auto w = out.write(std::span(buf.data(), n)); !w) return w;
    left -= static_cast<std::int64_t>(n);
  }
  return {};
}

class TarTree final : public OutputTree {
public:
  explicit TarTree(archive::Sink& out) : m_tar(out) {}
  util::Status add(const std::string& path, std::int64_t size, archive::Source& data) override {
    add_parents(path);
    archive::TarEntry e;
    e.name = path;
    e.type = archive::EntryType::regular;
    e.mode = 0644;
    e.size = size;
    if (auto r = m_tar.add(e); !r) return r;
    SinkToTar sink(m_tar);
    return copy_exact(data, sink, size, path);
  }
  util::Status finish() override { return m_tar.finish(); }

private:
  struct SinkToTar final : archive::Sink {
    explicit SinkToTar(archive::TarWriter& t) : tar(t) {}
    util::Status write(archive::ConstBytes d) override { return tar.write_data(d); }
    archive::TarWriter& tar;
  };
  void add_parents(const std::string& path) {
    for (auto slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      const auto dir = path.substr(0, slash + 1);
      if (!m_dirs.insert(dir).second) continue;
      archive::TarEntry d;
      d.name = dir;
      d.type = archive::EntryType::directory;
      d.mode = 0755;
      (void)m_tar.add(d);
    }
  }
  archive::TarWriter m_tar;
  std::set<std::string> m_dirs;
};

class DirTree final : public OutputTree {
public:
  explicit DirTree(fs::path root) : m_root(std::move(root)) {}
  util::Status add(const std::string& path, std::int64_t size, archive::Source& data) override {
    const auto target = m_root / path;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec)
      return util::make_error(util::ErrorCode::unavailable,
                              "create " + target.parent_path().string() + ": " + ec.message());
    MASON_TRY_ASSIGN(auto file, sys::AtomicFile::create(target.string()));
    archive::FdSink sink(file.fd());
    MASON_TRY(copy_exact(data, sink, size, path));
    return file.commit();
  }
  util::Status finish() override { return {}; }

private:
  fs::path m_root;
};

util::Status add_blob(const content::Store& store, OutputTree& out, const image::Descriptor& d,
                      const std::string& path) {
  MASON_TRY_ASSIGN(auto fd, store.open_blob(d.digest));
  archive::FdSource src(fd.get());
  return out.add(path, d.size, src);
}

std::string familiar_tag(const std::string& name) { return display_name(name); }

util::Status write_docker(const content::Store& store, const std::vector<SaveItem>& items,
                          OutputTree& out) {
  nlohmann::ordered_json manifest = nlohmann::ordered_json::array();
  std::set<std::string> written;
  for (const auto& item : items) {
    const auto& img = item.image;
    const auto config_path = std::string(img.config.digest.hex()) + ".json";
    if (written.insert(config_path).second)
      if (auto r = out.add(config_path, img.config.raw); !r) return r;
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < img.manifest.layers.size(); ++i) {
      const auto& layer = img.manifest.layers[i];
      const auto diff =
          i < img.config.rootfs.diff_ids.size() ? img.config.rootfs.diff_ids[i] : layer.digest;
      const auto path = std::string(diff.hex()) + "/layer.tar";
      layers.push_back(path);
      if (!written.insert(path).second) continue;
      MASON_TRY_ASSIGN(auto size, layer_uncompressed_size(store, layer));
      MASON_TRY_ASSIGN(auto fd, store.open_blob(layer.digest));
      archive::FdSource raw(fd.get());
      archive::ReadOptions ro;
      ro.expected_diff_id = diff;
      MASON_TRY_ASSIGN(auto reader, archive::LayerReader::open(raw, ro));
      if (auto r = out.add(path, size, reader); !r) return r;
    }
    nlohmann::ordered_json tags = nlohmann::ordered_json::array();
    for (const auto& t : item.tags)
      if (auto f = familiar_tag(t); !f.empty()) tags.push_back(f);
    manifest.push_back({{"Config", config_path},
                        {"RepoTags", tags.empty() ? nlohmann::ordered_json(nullptr) : tags},
                        {"Layers", layers}});
  }
  return out.add("manifest.json", manifest.dump());
}

util::Status write_oci(const content::Store& store, const std::vector<SaveItem>& items,
                       image::TypeFamily types, OutputTree& out) {
  std::set<std::string> written;
  auto blob = [&](const image::Descriptor& d) -> util::Status {
    const auto path = "blobs/sha256/" + std::string(d.digest.hex());
    if (!written.insert(path).second) return {};
    return add_blob(store, out, d, path);
  };
  if (auto r = out.add("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"); !r) return r;
  image::Index index;
  index.media_type = std::string(image::media_type::oci_index);
  for (const auto& item : items) {
    const auto& img = item.image;
    const auto manifest = image::with_family(img.manifest, types);
    if (auto r = blob(manifest.config); !r) return r;
    for (const auto& layer : manifest.layers)
      if (auto r = blob(layer); !r) return r;
    const bool converted = manifest.digest != img.target.digest;
    const auto target = converted ? manifest.descriptor() : img.target;
    if (converted) {
      const auto path = "blobs/sha256/" + std::string(target.digest.hex());
      if (written.insert(path).second)
        if (auto r = out.add(path, manifest.raw); !r) return r;
    } else if (auto r = blob(img.target); !r) {
      return r;
    }
    std::vector<std::string> names = item.tags;
    if (names.empty()) names.push_back("");
    for (const auto& name : names) {
      image::Descriptor d = target;
      d.platform = img.config.platform();
      if (!name.empty()) {
        auto ref = image::Reference::parse(name);
        d.annotations["io.containerd.image.name"] = ref ? ref->str() : name;
        d.annotations["org.opencontainers.image.ref.name"] = ref ? ref->tag() : name;
      }
      index.manifests.push_back(std::move(d));
    }
  }
  index.seal();
  return out.add("index.json", index.raw);
}

util::Status write_all(const content::Store& store, const std::vector<SaveItem>& items,
                       SaveFormat format, image::TypeFamily types, OutputTree& out) {
  auto r = format == SaveFormat::docker_archive ? write_docker(store, items, out)
                                                : write_oci(store, items, types, out);
  if (!r) return r;
  return out.finish();
}

} // namespace

util::Result<SaveFormat> parse_save_format(std::string_view name) {
  if (name == "docker" || name == "docker-archive") return SaveFormat::docker_archive;
  if (name == "oci" || name == "oci-archive") return SaveFormat::oci_archive;
  if (name == "oci-dir") return SaveFormat::oci_dir;
  return util::make_error(util::ErrorCode::invalid_argument,
                          "unknown format \"" + std::string(name) +
                              "\" (docker-archive, oci-archive, oci-dir)");
}

util::Status save_images(const content::Store& store, const std::vector<SaveItem>& items,
                         SaveFormat format, const fs::path& dest, image::TypeFamily types) {
  if (format == SaveFormat::oci_dir) {
    DirTree tree(dest);
    return write_all(store, items, format, types, tree);
  }
  if (dest == "-") {
    archive::FdSink sink(STDOUT_FILENO);
    TarTree tree(sink);
    return write_all(store, items, format, types, tree);
  }
  MASON_TRY_ASSIGN(auto file, sys::AtomicFile::create(dest.string()));
  archive::FdSink sink(file.fd());
  TarTree tree(sink);
  MASON_TRY(write_all(store, items, format, types, tree));
  return file.commit();
}

} // namespace mason::exporter
