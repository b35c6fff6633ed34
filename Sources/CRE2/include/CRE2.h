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

/// Compiles `pattern` as Go's `regexp.Compile` would (what PromQL's `label_replace` uses): no
/// implicit `(?s)`, so `.` does not match a newline. Errors as for ``cre2_compile``.
cre2_regex *cre2_compile_go(const char *pattern, size_t length, char *error, size_t error_capacity);

/// The number of capturing groups (not counting the whole match).
int cre2_group_count(const cre2_regex *regex);

/// Matches the whole of `text`; on a match writes `pairs` (start, end) byte offsets for the
/// whole match and groups 1…pairs-1 into `offsets` (2 × pairs longs; -1, -1 for a group that
/// did not take part) and returns 1, else returns 0. Linear in `length`.
int cre2_full_match_groups(const cre2_regex *regex, const char *text, size_t length, long *offsets, int pairs);

/// The index of the first group named `name` (`(?P<name>…)`), or -1.
int cre2_named_group(const cre2_regex *regex, const char *name, size_t length);

#ifdef __cplusplus
}
#endif

#endif
