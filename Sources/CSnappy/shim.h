#ifndef TELEMETRY_CSNAPPY_SHIM_H
#define TELEMETRY_CSNAPPY_SHIM_H
// The system libsnappy's C API (Debian: libsnappy-dev). Nothing else belongs in this shim.
#include <snappy-c.h>
#endif
