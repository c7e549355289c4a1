#include "config/yaml_guard.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <string>
#include <thread>

#include "config/load.hpp"

namespace airlock::config {
namespace {

// yaml-cpp 0.7 is not safe on every input, and a config error must be an error, not a
// crash or a hang. Checked before parsing:
// - nesting: yaml-cpp recurses per level, so "[[[[..." or "- - - ..." exhausts the stack;
//   no airlock config nests deeper than a few levels.
// - a "," where a document starts, or right after its first node when that node is only a
//   tag or anchor, a quoted scalar or a flow collection ("!a ,", "\"a\" ,", "[a] ,"):
//   yaml-cpp loops forever on these (found by fuzzing). After a plain scalar a "," is text.
// - control characters: YAML allows none but tab, LF and CR anywhere, not even quoted, and
//   yaml-cpp loops forever on some inputs that start with a NUL (found by fuzzing).
constexpr int max_nesting = 64;

bool is_yaml_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f;
}

// Where the current document's first node stands.
enum class first_node {
  none,    // nothing yet but properties (tags, anchors)
  open,    // a quoted scalar or flow collection is open
  closed,  // it closed, and only space, comments, properties or more such nodes followed
  other,   // past it (or it was a plain scalar or a block collection): "," is harmless
};

}  // namespace

void check_yaml_shape(std::string_view yaml, const std::string& name) {
  int depth = 0;
  int line = 1;
  int column = 0;
  char quote = 0;
  bool comment = false;
  bool line_start = true;
  bool property = false;  // inside a tag or anchor before the first node
  auto node = first_node::none;
  int dashes = 0;
  for (std::size_t i = 0; i < yaml.size(); ++i) {
    const char c = yaml[i];
    ++column;
    if (is_yaml_control(c)) {
      static constexpr char hex[] = "0123456789abcdef";
      const auto u = static_cast<unsigned char>(c);
      throw config_error(name, line, column,
                         std::string("a control character (0x") + hex[u >> 4] + hex[u & 15] +
                             ") cannot appear in a config file");
    }
    if (c == '\n') {
      ++line;
      column = 0;
      comment = false;
      line_start = true;
      property = false;
      dashes = 0;
      if (quote == '\'') {
        quote = 0;
      }
      continue;
    }
    if (comment) {
      continue;
    }
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
        node = (node == first_node::open && depth == 0) ? first_node::closed : node;
      }
      continue;
    }
    if (property) {
      if (std::string_view(" \t,\"'[]{}").find(c) == std::string_view::npos) {
        continue;
      }
      property = false;
      // YAML wants a space between a tag or anchor and its node; yaml-cpp, given none before
      // a quote or bracket, may never return ('!a"b ,', '&a[[').
      if (c != ' ' && c != '\t' && c != ',') {
        throw config_error(name, line, column, "a tag or anchor needs a space after it");
      }
    }
    if (column == 1 && yaml.substr(i, 3) == "---") {
      node = first_node::none;  // a new document; what follows the marker is its first token
      i += 2;
      column += 2;
      line_start = false;
      continue;
    }
    if (column == 1 && c == '%' && node == first_node::none) {
      comment = true;  // a directive line, before the document
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (line_start && column > 4 * max_nesting) {
        throw config_error(name, line, column, "indented deeper than any config needs");
      }
      continue;
    }
    if (c == '#') {
      comment = true;
      continue;
    }
    if (c == ',' && node == first_node::none) {
      throw config_error(name, line, column, "a YAML document cannot start with \",\"");
    }
    if (c == ',' && node == first_node::closed) {
      throw config_error(name, line, column,
                         "a \",\" cannot follow the document's first value here");
    }
    if ((node == first_node::none || node == first_node::closed) && (c == '!' || c == '&')) {
      property = true;
      continue;
    }
    if (node == first_node::none || node == first_node::closed) {
      // More quoted or flow nodes after the first keep the "," dangerous ("a" "b" ,).
      const bool opens = c == '"' || c == '\'' || c == '[' || c == '{';
      node = opens ? first_node::open : first_node::other;
    }
    if (line_start && c == '-') {
      if (++dashes > max_nesting) {
        throw config_error(name, line, column, "lists nested deeper than any config needs");
      }
      continue;
    }
    line_start = false;
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      if (++depth > max_nesting) {
        throw config_error(name, line, column, "nested deeper than any config needs");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
      node = (node == first_node::open && depth == 0) ? first_node::closed : node;
    }
  }
}

namespace {

// A healthy parse of any config takes milliseconds: the whole file gets parse_deadline,
// each probe of the search for where it fails gets probe_deadline.
constexpr auto parse_deadline = std::chrono::milliseconds(5000);
constexpr auto probe_deadline = std::chrono::milliseconds(200);

enum class child_parse { finished, hung, crashed, unavailable };

child_parse parse_in_a_child(std::string_view text, std::chrono::milliseconds limit) {
  const pid_t child = ::fork();
  if (child < 0) {
    return child_parse::unavailable;
  }
  if (child == 0) {
    try {
      (void)YAML::LoadAll(std::string(text));
    } catch (...) {
    }
    ::_exit(0);
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) {
      break;
    }
    if (done < 0) {
      return child_parse::unavailable;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      return child_parse::hung;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? child_parse::finished
                                                       : child_parse::crashed;
}

// The length of the shortest prefix the parser also fails on, by bisection (at most
// log2(size) probes). A prefix is another document, so this is a best guess, but it lands
// on the token that sets the parser off rather than "somewhere in the file".
std::size_t shortest_failing_prefix(const std::string& text) {
  std::size_t lo = 1;
  std::size_t hi = text.size();
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const auto r = parse_in_a_child(std::string_view(text).substr(0, mid), probe_deadline);
    if (r == child_parse::hung || r == child_parse::crashed) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

}  // namespace

void parse_in_child(const std::string& text, const std::string& name) {
  const auto whole = parse_in_a_child(text, parse_deadline);
  if (whole != child_parse::hung && whole != child_parse::crashed) {
    return;  // finished, or no fork: then parsed in place, as load_string does anyway
  }
  const std::size_t end = shortest_failing_prefix(text);
  int line = 1;
  int column = 1;
  for (std::size_t i = 0; i + 1 < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  throw config_error(name, line, column,
                     std::string("the YAML parser ") +
                         (whole == child_parse::hung ? "does not finish" : "crashes") +
                         " once it reaches here (a yaml-cpp defect); check for unbalanced "
                         "quotes or brackets, or a stray \",\"");
}

}  // namespace airlock::config
