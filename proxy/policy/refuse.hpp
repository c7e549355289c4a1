#pragma once
// A refusal decided before any I/O, with its metric kind beside the answer: the decisions
// know why they refuse, so nothing has to guess it back from the answer's text.

#include "proxy/http/responses.hpp"
#include "proxy/observe/labels.hpp"

namespace airlock::proxy {

struct refuse {
  refusal_kind kind = refusal_kind::other;
  refusal answer;  // status, Proxy-Status error type, detail, reason, rule, allow
};

}  // namespace airlock::proxy
