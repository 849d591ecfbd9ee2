// Streaming SHA-256 (OpenSSL EVP). Not thread-safe per instance; cheap to
// create. Used for every content digest mason computes.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace mason::util {

class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }

  // Finishes the hash; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> finish();
  std::string finish_hex(); // 64 lower-case hex digits

  static std::string hex_of(std::string_view data);

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

std::string to_hex(const std::uint8_t* data, std::size_t size);

} // namespace mason::util
