#ifndef TELEMETRY_CLZ4_SHIM_H
#define TELEMETRY_CLZ4_SHIM_H
// The system liblz4 (Debian: liblz4-dev). Nothing else belongs in this shim.
#include <lz4.h>
#endif
