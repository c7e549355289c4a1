#pragma once
// Internal to config/: readers for the config's sections beyond proxy and log.

#include <yaml-cpp/yaml.h>

#include "config/model.hpp"
#include "config/yaml_reader.hpp"

namespace airlock::config {

void read_tls(const reader& r, const YAML::Node& node, tls_config& out);
void read_secrets(const reader& r, const YAML::Node& node, std::vector<secret_source>& out);
// Needs the secrets already read: templates may only name declared secrets.
void read_credentials(const reader& r, const YAML::Node& node,
                      const std::vector<secret_source>& secrets, std::vector<credential_rule>& out);
void read_egress(const reader& r, const YAML::Node& node, egress_config& out);
void read_telemetry(const reader& r, const YAML::Node& node, telemetry_config& out);
void read_admin(const reader& r, const YAML::Node& node, admin_config& out);
// After every section is read: rules that tie admin: to secrets, credentials and tls.
void check_admin(const reader& r, const YAML::Node& root, const config& c);
void read_routes(const reader& r, const YAML::Node& node, std::vector<route>& out);

}  // namespace airlock::config
