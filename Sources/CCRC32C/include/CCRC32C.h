#ifndef TELEMETRY_CCRC32C_H
#define TELEMETRY_CCRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when this CPU has a CRC-32C instruction that ``ccrc32c_update`` uses (SSE 4.2 on
/// x86-64), else 0: then the caller keeps its own software path.
int ccrc32c_hardware_available(void);

/// Continues a CRC-32C (Castagnoli) over `length` bytes at `bytes` from `state`, the
/// running register (start from 0xFFFFFFFF, finish with ~state), as a byte-at-a-time table
/// update would. Only to be called where ``ccrc32c_hardware_available`` returned 1.
uint32_t ccrc32c_update(uint32_t state, const void *bytes, size_t length);

#ifdef __cplusplus
}
#endif

#endif
