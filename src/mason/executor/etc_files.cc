// /etc/hosts and /etc/resolv.conf for the sandbox (BuildKit's
// executor/oci/hosts.go and util/resolvconf, re-stated).
//
// resolv.conf: parse the host's file line by line (comments and blank
// lines dropped; `nameserver` keeps valid IP addresses; `domain` and
// `search` set the search list, the last one wins; `options` accumulate;
// anything else is kept verbatim), transform for a network without an
// internal resolver when asked, and print in a fixed order.
#include <arpa/inet.h>
#include <cstring>
#include <optional>
#include <sstream>

#include "mason/executor/internal.h"

namespace mason::executor {

namespace {

struct Nameserver {
  std::string text; // canonical form, with its %zone if any
  bool loopback = false;
};

struct ResolvConf {
  std::vector<Nameserver> nameservers;
  std::vector<std::string> search;
  std::vector<std::string> options;
  std::vector<std::string> other;
};

// Parses an IPv4 or IPv6 address (with an optional IPv6 zone); nullopt if
// it is neither.
std::optional<Nameserver> parse_nameserver(const std::string& text) {
  char buf[INET6_ADDRSTRLEN] = {};
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    ::inet_ntop(AF_INET, &v4, buf, sizeof buf);
    return Nameserver{buf, (ntohl(v4.s_addr) >> 24) == 127};
  }
  const auto percent = text.find('%');
  const std::string addr = text.substr(0, percent);
  in6_addr v6{};
  if (::inet_pton(AF_INET6, addr.c_str(), &v6) != 1) return std::nullopt;
  ::inet_ntop(AF_INET6, &v6, buf, sizeof buf);
  const bool v4_mapped_loopback = IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  const std::string zone = percent == std::string::npos ? "" : text.substr(percent);
  return Nameserver{buf + zone, IN6_IS_ADDR_LOOPBACK(&v6) || v4_mapped_loopback};
}

std::vector<std::string> fields_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> fields;
  for (std::string field; in >> field;) fields.push_back(field);
  return fields;
}

void parse_line(ResolvConf& rc, const std::string& line) {
  if (line.empty() || line[0] == '#' || line[0] == ';') return;
  const auto fields = fields_of(line);
  if (fields.empty()) return;
  const auto& key = fields[0];
  const bool has_value = fields.size() >= 2;
  if (key == "nameserver") {
    if (!has_value) return;
    if (auto ns = parse_nameserver(fields[1])) rc.nameservers.push_back(*ns);
  } else if (key == "domain" || key == "search") {
    if (has_value) rc.search.assign(fields.begin() + 1, fields.end());
  } else if (key == "options") {
    rc.options.insert(rc.options.end(), fields.begin() + 1, fields.end());
  } else {
    rc.other.push_back(line);
  }
}

ResolvConf parse(std::string_view text) {
  ResolvConf rc;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) parse_line(rc, line);
  return rc;
}

// BuildKit's TransformForLegacyNw(ipv6 = true): loopback resolvers only
// work in the host's namespace.
void drop_loopback_nameservers(ResolvConf& rc) {
  std::erase_if(rc.nameservers, [](const Nameserver& ns) { return ns.loopback; });
  if (!rc.nameservers.empty()) return;
  for (const char* addr : {"8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844"})
    rc.nameservers.push_back({addr, false});
}

void append_list(std::string& out, const char* key, const std::vector<std::string>& items) {
  if (items.empty()) return;
  out += key;
  for (const auto& item : items) out += " " + item;
  out += '\n';
}

std::string generate(const ResolvConf& rc) {
  std::string out;
  for (const auto& ns : rc.nameservers) out += "nameserver " + ns.text + "\n";
  append_list(out, "search", rc.search);
  append_list(out, "options", rc.options);
  for (const auto& line : rc.other) out += line + "\n";
  return out;
}

} // namespace

std::string default_hosts(std::string_view hostname) {
  std::string out = "127.0.0.1\tlocalhost";
  if (!hostname.empty()) out += " " + std::string(hostname);
  return out + "\n::1\tlocalhost ip6-localhost ip6-loopback\n";
}

std::string container_resolv_conf(std::string_view host_text, NetworkMode network) {
  ResolvConf rc = parse(host_text);
  if (network != NetworkMode::host || rc.nameservers.empty()) drop_loopback_nameservers(rc);
  return generate(rc);
}

} // namespace mason::executor
