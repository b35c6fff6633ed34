#ifndef TELEMETRY_CRE2_H
#define TELEMETRY_CRE2_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A compiled RE2 regular expression; immutable, safe to match from many threads at once.
typedef struct cre2_regex cre2_regex;

/// Compiles `pattern` (UTF-8, `length` bytes, RE2 syntax) to match whole strings, with `.`
/// matching a newline, as Prometheus' label matchers do (`^(?s:pattern)$`). Returns NULL on a
/// bad pattern and writes RE2's reason, NUL-terminated and truncated to `error_capacity`
/// bytes, into `error`.
cre2_regex *cre2_compile(const char *pattern, size_t length, char *error, size_t error_capacity);

/// 1 when the whole of `text` (`length` bytes) matches, else 0. Linear in `length`.
int cre2_full_match(const cre2_regex *regex, const char *text, size_t length);

void cre2_free(cre2_regex *regex);

#ifdef __cplusplus
}
#endif

#endif
