/* Byte-stream scanners: ASM search and the space-packet walk (see protocols/spacepacket.py). */
#include <string.h>

#include "fec_core.h"

long pf_find_asm(const uint8_t *buf, size_t len, size_t start, size_t end) {
    if (end > len) end = len;
    if (buf == NULL || start >= end || end - start < 4) return -1;
    const uint8_t *p = buf + start;
    const uint8_t *last = buf + end - 4;
    while (p <= last) {
        p = memchr(p, 0x1A, (size_t)(last - p) + 1);
        if (p == NULL) return -1;
        if (p[1] == 0xCF && p[2] == 0xFC && p[3] == 0x1D) return (long)(p - buf);
        p++;
    }
    return -1;
}

long pf_scan_packets(const uint8_t *buf, size_t len, size_t start, size_t end, uint32_t *offsets,
                     uint32_t *lengths, size_t max_packets, size_t *next_offset, size_t *skipped) {
    if (end > len) end = len;
    if (next_offset == NULL || skipped == NULL) return PF_ELENGTH;
    *skipped = 0;
    if (start > end) start = end;
    size_t pos = start;
    size_t count = 0;
    while (end - pos >= 6) {
        if (buf[pos] & 0xE0) {
            pos++;
            (*skipped)++;
            continue;
        }
        size_t total = (((size_t)buf[pos + 4] << 8) | buf[pos + 5]) + 7;
        if (end - pos < total) break;
        if (count == max_packets) break; /* caller sizes the arrays; never write past them */
        offsets[count] = (uint32_t)pos;
        lengths[count] = (uint32_t)total;
        count++;
        pos += total;
    }
    *next_offset = pos;
    return (long)count;
}
