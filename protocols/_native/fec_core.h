/* C core of protocols/: CRC-16, CCSDS randomizer, RS(255,223), ASM search, space-packet scan.
 * Every entry point checks its lengths and returns a negative PF_E* code on bad input. */
#ifndef FEC_CORE_H
#define FEC_CORE_H
#include <stddef.h>
#include <stdint.h>

#define PF_OK 0
#define PF_EUNCORRECTABLE (-1)
#define PF_ELENGTH (-2)
#define PF_EINTERLEAVE (-3)
#define PF_EOUTPUT (-4)

uint16_t pf_crc16(const uint8_t *data, size_t n, uint16_t init);
void pf_randomize(uint8_t *buf, size_t n);
int pf_rs_encode(const uint8_t *data, size_t n, int interleave, int dual, uint8_t *out, size_t out_len);
int pf_rs_decode(const uint8_t *block, size_t n, int interleave, int dual, uint8_t *data_out, size_t out_len,
                 int *failed_codeword);
long pf_rs_decode_batch(const uint8_t *blocks, size_t n, size_t block_len, int interleave, int dual,
                        uint8_t *data_out, size_t out_len, int32_t *counts, size_t ncounts);
long pf_find_asm(const uint8_t *buf, size_t len, size_t start, size_t end);
long pf_scan_packets(const uint8_t *buf, size_t len, size_t start, size_t end, uint32_t *offsets,
                     uint32_t *lengths, size_t max_packets, size_t *next_offset, size_t *skipped);
#endif
