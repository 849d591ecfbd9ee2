// One pass stores the input, recompressed as gzip, while the layer writer
// computes the diff_id and the blob digest; a second pass reads the stored
// layer back through the tar reader to reject anything that is not a
// well-formed tar before an image points at it.
#include "mason/engine/import.h"

#include <algorithm>
#include <chrono>

#include "mason/archive/compression.h"
#include "mason/archive/tar_reader.h"
#include "mason/engine/config_ops.h"
#include "mason/engine/export.h"
#include "mason/frontend/dockerfile/instructions.h"
#include "mason/frontend/dockerfile/parser.h"
#include "mason/image/platform.h"
#include "mason/util/utf8.h"

namespace mason::engine {

namespace {

util::Result<archive::LayerInfo> store_layer(int fd, content::Writer& writer) {
  archive::FdSource input(fd);
  MASON_TRY_ASSIGN(auto reader, archive::LayerReader::open(input));
  WriterSink sink(writer);
  archive::CompressOptions co;
  co.compression = archive::Compression::gzip;
  MASON_TRY_ASSIGN(auto layer, archive::LayerWriter::open(sink, co));
  std::vector<std::byte> buf(1 << 20);
  for (;;) {
    MASON_TRY_ASSIGN(auto n, reader.read(buf));
    if (n == 0) break;
    MASON_TRY(layer.write(std::span(buf.data(), n)));
  }
  return layer.finish();
}

util::Status check_tar(const content::Store& store, const image::Digest& digest) {
  MASON_TRY_ASSIGN(auto fd, store.open_blob(digest));
  archive::FdSource raw(fd.get());
  MASON_TRY_ASSIGN(auto reader, archive::LayerReader::open(raw));
  archive::TarReader tar(reader);
  std::size_t entries = 0;
  for (;;) {
    MASON_TRY_ASSIGN(auto e, tar.next());
    if (!e) break;
    ++entries;
  }
  if (entries == 0)
    return util::make_error(util::ErrorCode::invalid_argument, "not a tar archive (no entries)");
  return {};
}

const char* const k_allowed_changes[] = {"CMD",     "ENTRYPOINT", "ENV",    "EXPOSE", "LABEL",
                                         "ONBUILD", "USER",       "VOLUME", "WORKDIR"};

util::Status apply_changes(image::ImageConfig& config, const std::vector<std::string>& changes) {
  StageConfigState state;
  for (const auto& change : changes) {
    auto parsed = frontend::dockerfile::parse(change);
    if (!parsed.ok() || parsed.ast.children.size() != 1)
      return util::make_error(util::ErrorCode::invalid_argument,
                              "invalid --change \"" + change + "\"" +
                                  (parsed.errors.empty() ? "" : ": " + parsed.errors[0].message));
    const auto& node = parsed.ast.children[0];
    std::string kw = util::go_to_lower(node.keyword);
    for (auto& c : kw) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (std::find(std::begin(k_allowed_changes), std::end(k_allowed_changes), kw) ==
        std::end(k_allowed_changes))
      return util::make_error(util::ErrorCode::invalid_argument,
                              kw + " is not a valid change command (CMD, ENTRYPOINT, ENV, EXPOSE, "
                                   "LABEL, ONBUILD, USER, VOLUME, WORKDIR)");
    auto instr = frontend::dockerfile::parse_instruction(node);
    if (!instr) return std::unexpected(instr.error().with_context("--change \"" + change + "\""));
    const auto& typed = std::get<frontend::dockerfile::Instruction>(*instr);
    if (auto r = apply_to_config(config, state, typed, false); !r) return r;
  }
  return {};
}

} // namespace

util::Result<exporter::LocalImage> import_rootfs(content::Store& store, int fd,
                                                 const std::string& name,
                                                 const ImportOptions& options) {
  MASON_TRY_ASSIGN(auto tag, exporter::normalize_tag(name));
  image::ImageConfig config;
  const auto host = image::host_platform();
  config.architecture = host.architecture;
  config.os = host.os;
  config.variant = host.variant;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  config.created = image::format_timestamp(
      std::chrono::duration_cast<std::chrono::seconds>(now).count(),
      static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() %
                                 1000000000));
  MASON_TRY(apply_changes(config, options.changes));
  MASON_TRY_ASSIGN(auto writer, store.new_writer(std::string(image::media_type::oci_layer_gzip)));
  auto layer = store_layer(fd, writer);
  if (!layer) return std::unexpected(layer.error().with_context("read " + options.source));
  const bool existed = store.has_blob(layer->digest);
  MASON_TRY_ASSIGN(auto desc, writer.commit(layer->digest, layer->size));
  if (auto r = check_tar(store, desc.digest); !r) {
    if (!existed) (void)store.delete_blob(desc.digest); // leave the store as it was
    return std::unexpected(r.error().with_context("import " + options.source));
  }
  content::BlobAnnotation note;
  note.diff_id = layer->diff_id;
  note.media_type = layer->media_type;
  note.unpacked_size = layer->uncompressed_size;
  (void)store.annotate_blob(desc.digest, note);
  config.rootfs.diff_ids = {layer->diff_id};
  image::HistoryEntry h;
  h.created = config.created;
  h.comment = "Imported from " + options.source;
  config.history.push_back(h);
  return exporter::store_image(store, std::move(config), {layer->descriptor()}, {tag});
}

} // namespace mason::engine
