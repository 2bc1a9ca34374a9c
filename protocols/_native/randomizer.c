/* CCSDS 131.0-B pseudo-randomizer: XOR with the 255-byte sequence of h(x)=x^8+x^7+x^5+x^3+1. */
#include <string.h>

#include "fec_core.h"

static uint8_t SEQ[255 + 8];
static int ready;

static void init_seq(void) {
    /* state bit 7 = a[n] ... bit 0 = a[n+7]; a[n+8] = a[n+7] ^ a[n+5] ^ a[n+3] ^ a[n] */
    unsigned s = 0xFF;
    for (int i = 0; i < 255; i++) {
        unsigned b = 0;
        for (int k = 0; k < 8; k++) {
            b = (b << 1) | ((s >> 7) & 1);
            unsigned fb = (s ^ (s >> 2) ^ (s >> 4) ^ (s >> 7)) & 1;
            s = ((s << 1) | fb) & 0xFF;
        }
        SEQ[i] = (uint8_t)b;
    }
    memcpy(SEQ + 255, SEQ, 8); /* lets the word loop read 8 bytes past any phase */
    ready = 1;
}

void pf_randomize(uint8_t *buf, size_t n) {
    if (!ready) init_seq();
    if (buf == NULL) return;
    size_t phase = 0;
    while (n >= 8) {
        uint64_t a, s;
        memcpy(&a, buf, 8);
        memcpy(&s, SEQ + phase, 8);
        a ^= s;
        memcpy(buf, &a, 8);
        buf += 8;
        n -= 8;
        phase += 8;
        if (phase >= 255) phase -= 255;
    }
    while (n--) {
        *buf++ ^= SEQ[phase++];
        if (phase == 255) phase = 0;
    }
}
