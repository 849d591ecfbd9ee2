// The state directory: its layout, temporary work, snapshot metadata,
// publishing, and the in-process bookkeeping (pins, per-key locks).
//
// Layout (names.h):
//   <state>/<name>/{fs,parent,link,layer,copied}   committed snapshots
//   <state>/tmp/<token>.lock                        one per open Store, flock'ed
//   <state>/tmp/<token>-<what>-XXXXXX               partial work of that Store
//   <state>/l/<short> -> ../<name>/fs               short lowerdir names (overlay)
//   <state>/flat/<short>                            flattened chains (overlay)
//   <state>/empty, <state>/kind
// A snapshot appears by one rename of a complete directory out of tmp/
// (RENAME_NOREPLACE: the first of several racing producers wins), so a
// crash leaves partial work only under tmp/. Opening a Store removes the
// tmp/ entries whose owner token is not locked any more (its process died),
// unmounting anything still mounted below them first.
//
// Thread-safety: all members may be called from several threads.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mason/sys/temp_dir.h"
#include "mason/sys/unique_fd.h"
#include "mason/util/error.h"

namespace mason::snapshot::detail {

struct SnapshotInfo {
  std::string id;
  std::string name;                  // the directory under the state dir
  std::optional<std::string> parent; // the parent's id
  std::string link;                  // short name under l/ ("" for the copy kind)
  bool unpacked = false;             // an image layer: shared, removed only on request
};

class Store : public std::enable_shared_from_this<Store> {
public:
  // Keeps snapshot `id` from being removed while it lives (an active
  // snapshot's parent, a view's top). An empty pin pins nothing.
  class Pin {
  public:
    Pin() = default;
    Pin(Pin&& other) noexcept = default;
    Pin& operator=(Pin&& other) noexcept;
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    ~Pin() { release(); }

  private:
    friend class Store;
    Pin(std::shared_ptr<Store> store, std::string id)
        : m_store(std::move(store)), m_id(std::move(id)) {}
    void release();
    std::shared_ptr<Store> m_store;
    std::string m_id;
  };

  // Serialises the producers of one key (a chain id, a flattened chain)
  // within this process; other processes are handled by publish().
  class KeyLock {
  public:
    KeyLock(KeyLock&&) noexcept = default;
    KeyLock& operator=(KeyLock&&) = delete;
    KeyLock(const KeyLock&) = delete;
    KeyLock& operator=(const KeyLock&) = delete;
    ~KeyLock();

  private:
    friend class Store;
    KeyLock(Store& store, std::string key, std::shared_ptr<std::mutex> mutex);
    Store* m_store;
    std::string m_key;
    std::shared_ptr<std::mutex> m_mutex;
    std::unique_lock<std::mutex> m_lock;
  };

  // Opens (creating) the state dir and its fixed entries, locks a fresh
  // owner token and removes stale temporary entries of dead owners.
  static util::Result<std::shared_ptr<Store>> open(const std::string& state_dir);

  const std::string& path() const { return m_path; } // absolute, no symlinks
  int fd() const { return m_fd.get(); }              // O_PATH directory
  const std::string& token() const { return m_token; }

  // A fresh directory tmp/<token>-<what>-XXXXXX (mode 0700).
  util::Result<sys::TempDir> make_temp(std::string_view what) const;
  // "tmp/<basename>" of a directory made by make_temp(), for mount data.
  static std::string relative(const sys::TempDir& dir);

  // Snapshot metadata (cached: committed snapshots never change).
  util::Result<std::optional<SnapshotInfo>> find(const std::string& id);
  util::Result<SnapshotInfo> get(const std::string& id);                 // not_found if absent
  util::Result<std::vector<SnapshotInfo>> chain(const std::string& top); // top first
  // Every committed snapshot (directories that are not reserved names).
  util::Result<std::vector<SnapshotInfo>> list();

  // Writes info's parent/link/layer files into a directory made by
  // make_temp(), before publish().
  static util::Status write_info(const sys::TempDir& dir, const SnapshotInfo& info);
  // Renames `dir` to `dest` (relative to the state dir) unless `dest`
  // exists: false then (another producer won; `dir` stays).
  util::Result<bool> publish(const sys::TempDir& dir, const std::string& dest) const;

  // Creates l/<short> -> ../<name>/fs under a fresh random short name.
  util::Result<std::string> make_link(const std::string& name) const;
  void drop_link(const std::string& link) const;

  Pin pin(const std::optional<std::string>& id);
  KeyLock lock_key(const std::string& key);

  // Removes committed snapshot `id`. Errors: not_found; invalid_argument
  // for an unpacked layer or a snapshot that is another's parent;
  // unavailable while pinned.
  // `layers`: unpacked image layers too (else refused as shared).
  util::Status remove(const std::string& id, bool layers = false);

  Store(std::string path, sys::UniqueFd fd, std::string token, sys::UniqueFd lock);
  // Drops the owner lock file once none of this owner's entries is left.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

private:
  util::Result<std::optional<SnapshotInfo>> read_info(const std::string& id) const;
  util::Result<std::optional<std::string>> child_of(const std::string& id) const;
  util::Status remove_locked(const SnapshotInfo& info, bool layers, std::string& moved);

  std::string m_path;
  sys::UniqueFd m_fd;
  std::string m_token;
  sys::UniqueFd m_lock; // flock'ed tmp/<token>.lock: this owner is alive
  std::mutex m_cache_mutex;
  std::map<std::string, SnapshotInfo> m_cache;
  std::mutex m_pin_mutex; // taken before m_cache_mutex when both are needed
  std::map<std::string, int> m_pins;
  std::mutex m_keys_mutex;
  std::map<std::string, std::shared_ptr<std::mutex>> m_keys;
};

// Small files of the metadata: the whole content, nullopt if absent.
util::Result<std::optional<std::string>> read_small_file(int dir_fd, const std::string& name);
util::Status write_small_file(int dir_fd, const std::string& name, std::string_view data);

} // namespace mason::snapshot::detail
