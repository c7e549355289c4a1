// tls: the CA's source, export directory and the ephemeral CA's lifetime.

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "config/load.hpp"

namespace airlock::config {
namespace {

using namespace std::chrono_literals;

std::string error_of(const std::string& yaml) {
  try {
    load_string(yaml, "a.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(tls_config, ca_lifetime_defaults_to_a_week_and_takes_a_duration) {
  EXPECT_EQ(load_string("", "a.yaml").tls.ca_lifetime, 168h);
  EXPECT_EQ(load_string("tls: { ca: { lifetime: 24h } }\n", "a.yaml").tls.ca_lifetime, 24h);
  EXPECT_EQ(load_string("tls: { ca: { lifetime: 5s } }\n", "a.yaml").tls.ca_lifetime, 5s);
  EXPECT_EQ(load_string("tls: { ca: { lifetime: 720h } }\n", "a.yaml").tls.ca_lifetime, 720h);
}

TEST(tls_config, ca_lifetime_out_of_range_is_refused_at_its_value) {
  EXPECT_EQ(error_of("tls:\n  ca:\n    lifetime: 4s\n"),
            "a.yaml:3:15: tls.ca.lifetime: must be between 5s and 720h");
  EXPECT_EQ(error_of("tls:\n  ca:\n    lifetime: 721h\n"),
            "a.yaml:3:15: tls.ca.lifetime: must be between 5s and 720h");
  EXPECT_NE(error_of("tls:\n  ca:\n    lifetime: soon\n").find("a.yaml:3:15: tls.ca.lifetime"),
            std::string::npos);
}

TEST(tls_config, ca_lifetime_with_an_operator_ca_is_refused) {
  // An operator's CA is used as given: a lifetime there would promise a renewal that never
  // happens.
  EXPECT_EQ(error_of("tls:\n  ca:\n    cert_file: ca.pem\n    key_file: ca.key\n"
                     "    lifetime: 24h\n"),
            "a.yaml:5:15: tls.ca.lifetime: only the ephemeral CA is renewed; a CA from "
            "cert_file is used as given");
}

}  // namespace
}  // namespace airlock::config
