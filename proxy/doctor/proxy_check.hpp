#pragma once
// The doctor's own question to the proxy: GET http://CHECK_HOST/ through it (plain http,
// absolute-form), with a deadline on the connect, the write and every read.

#include <chrono>

#include "proxy/doctor/judge.hpp"
#include "proxy/doctor/report.hpp"

namespace airlock::proxy::doctor {

// Fills reached, airlock and answer for the proxy at `at` (url and variable are the
// caller's). A name is resolved once; each address is tried in turn.
void ask_proxy(const proxy_address& at, std::chrono::milliseconds timeout, proxy_report& into);

// What an answer to the check request says: airlock (status 200 and the marker), and the
// line to show (airlock's answer, or the status line of whatever answered). Pure.
bool is_check_answer(std::string_view response, std::string& line);

}  // namespace airlock::proxy::doctor
