// A tiny C surface over RE2 (Debian's libre2-dev), so Swift gets linear-time regular
// expressions with the semantics Prometheus uses (Go's regexp is RE2 syntax).
#include "CRE2.h"

#include <re2/re2.h>

#include <cstring>
#include <map>
#include <vector>
#include <new>
#include <string>

struct cre2_regex {
    re2::RE2 re;
    cre2_regex(const std::string &pattern, const re2::RE2::Options &options) : re(pattern, options) {}
};

// Compiles `source`; on failure writes RE2's reason (or "out of memory") into `error`.
static cre2_regex *compile(const std::string &source, const re2::RE2::Options &options, char *error, size_t error_capacity) {
    cre2_regex *regex = new (std::nothrow) cre2_regex(source, options);
    if (regex == nullptr) {
        if (error != nullptr && error_capacity > 0) {
            std::strncpy(error, "out of memory", error_capacity - 1);
            error[error_capacity - 1] = '\0';
        }
        return nullptr;
    }
    if (!regex->re.ok()) {
        if (error != nullptr && error_capacity > 0) {
            const std::string &why = regex->re.error();
            size_t n = why.size() < error_capacity - 1 ? why.size() : error_capacity - 1;
            std::memcpy(error, why.data(), n);
            error[n] = '\0';
        }
        delete regex;
        return nullptr;
    }
    return regex;
}

extern "C" cre2_regex *cre2_compile(const char *pattern, size_t length, char *error, size_t error_capacity) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_dot_nl(true);
    options.set_encoding(re2::RE2::Options::EncodingUTF8);
    std::string wrapped = "(?s:";
    if (length > 0) wrapped.append(pattern, length);
    wrapped.append(")");
    return compile(wrapped, options, error, error_capacity);
}

extern "C" int cre2_full_match(const cre2_regex *regex, const char *text, size_t length) {
    return re2::RE2::FullMatch(re2::StringPiece(text, length), regex->re) ? 1 : 0;
}

extern "C" void cre2_free(cre2_regex *regex) { delete regex; }

extern "C" cre2_regex *cre2_compile_go(const char *pattern, size_t length, char *error, size_t error_capacity) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    options.set_encoding(re2::RE2::Options::EncodingUTF8);
    std::string source(pattern == nullptr ? "" : std::string(pattern, length));
    return compile(source, options, error, error_capacity);
}

extern "C" int cre2_group_count(const cre2_regex *regex) { return regex->re.NumberOfCapturingGroups(); }

extern "C" int cre2_full_match_groups(const cre2_regex *regex, const char *text, size_t length, long *offsets, int pairs) {
    if (pairs < 1) return 0;
    std::vector<re2::StringPiece> groups(static_cast<size_t>(pairs));
    re2::StringPiece input(text, length);
    if (!regex->re.Match(input, 0, length, re2::RE2::ANCHOR_BOTH, groups.data(), pairs)) return 0;
    for (int i = 0; i < pairs; i++) {
        if (groups[i].data() == nullptr) {
            offsets[2 * i] = -1;
            offsets[2 * i + 1] = -1;
        } else {
            offsets[2 * i] = static_cast<long>(groups[i].data() - text);
            offsets[2 * i + 1] = offsets[2 * i] + static_cast<long>(groups[i].size());
        }
    }
    return 1;
}

extern "C" int cre2_named_group(const cre2_regex *regex, const char *name, size_t length) {
    const std::map<std::string, int> &names = regex->re.NamedCapturingGroups();
    auto it = names.find(std::string(name, length));
    return it == names.end() ? -1 : it->second;
}
