#ifndef TELEMETRY_CZLIB_SHIM_H
#define TELEMETRY_CZLIB_SHIM_H
// The system zlib (Debian: zlib1g-dev), for gzip/deflate request bodies. Nothing else belongs here.
#include <zlib.h>
#endif
