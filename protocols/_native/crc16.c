/* CRC-16-CCITT (0x1021, MSB first), slice-by-8: eight table lookups per 8 input bytes. */
#include "fec_core.h"

static uint16_t T[8][256];
static int ready;

static void init_tables(void) {
    for (int b = 0; b < 256; b++) {
        uint16_t c = (uint16_t)(b << 8);
        for (int k = 0; k < 8; k++) c = (uint16_t)((c & 0x8000) ? (c << 1) ^ 0x1021 : (c << 1));
        T[0][b] = c;
    }
    for (int b = 0; b < 256; b++)
        for (int s = 1; s < 8; s++) T[s][b] = (uint16_t)((T[s - 1][b] << 8) ^ T[0][T[s - 1][b] >> 8]);
    ready = 1;
}

uint16_t pf_crc16(const uint8_t *p, size_t n, uint16_t crc) {
    if (!ready) init_tables();
    if (p == NULL) return crc;
    while (n >= 8) {
        crc = (uint16_t)(T[7][(crc >> 8) ^ p[0]] ^ T[6][(crc & 0xFF) ^ p[1]] ^ T[5][p[2]] ^ T[4][p[3]] ^
                         T[3][p[4]] ^ T[2][p[5]] ^ T[1][p[6]] ^ T[0][p[7]]);
        p += 8;
        n -= 8;
    }
    while (n--) crc = (uint16_t)((crc << 8) ^ T[0][(crc >> 8) ^ *p++]);
    return crc;
}
