#include "proxy/flow/request_record.hpp"

#include "proxy/observe/access_log.hpp"

namespace airlock::proxy {

void request_record::target(const authority& auth, std::string_view origin_form) {
  if (access_log_enabled()) {
    authority_text = auth.to_string();
    path.assign(origin_form.substr(0, origin_form.find('?')));
  }
}

void request_record::shed(std::size_t keep) {
  for (std::string* s : {&method, &authority_text, &path, &rule}) {
    if (s->capacity() > keep) {
      std::string().swap(*s);
    }
  }
}

}  // namespace airlock::proxy
