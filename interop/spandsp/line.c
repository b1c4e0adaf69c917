/*
 * line.c - attenuation and noise between the T.31 modem and the fax terminal (line.h).
 *
 * Noise is SpanDSP's awgn (awgn.h, Debian's libspandsp 0.0.6), set in dBm0 as SpanDSP's
 * own fax tests set it (tests/fax_tests.c uses awgn_init_dbm0 the same way).  Loss is a
 * flat gain applied before the noise is added, as on a real loop where the noise is
 * picked up near the receiver.
 */
#include <math.h>
#include <stdlib.h>

#include <spandsp.h>

#include "line.h"

static struct
{
    float gain;
    bool has_noise;
    float noise_dbm0;
    int seed;
    bool both_ways;
    bool noise_on;
    awgn_state_t *noise[2];
} line = {.gain = 1.0f};

void line_setup(double attenuation_db, double noise_dbm0, int seed, bool both_ways)
{
    line.both_ways = both_ways;
    line.gain = (float) pow(10.0, -attenuation_db/20.0);
    line.has_noise = noise_dbm0 <= 0.0;
    line.noise_dbm0 = (float) noise_dbm0;
    line.seed = seed;
}

void line_new_call(int call_number)
{
    int dir;

    line.noise_on = false;
    if (!line.has_noise)
        return;
    for (dir = 0;  dir < 2;  dir++)
    {
        if (line.noise[dir])
            awgn_free(line.noise[dir]);
        /* awgn wants a negative seed; each call and direction gets its own sequence. */
        line.noise[dir] = awgn_init_dbm0(NULL, -(abs(line.seed)*2 + call_number*2 + dir + 1), line.noise_dbm0);
    }
}

void line_set_noise(bool on)
{
    line.noise_on = on  &&  line.has_noise;
}

bool line_noise_on(void)
{
    return line.noise_on;
}

void line_apply(int16_t amp[], int len, line_direction_t dir)
{
    int i;
    int v;

    if (line.gain == 1.0f  &&  !line.noise_on)
        return;
    for (i = 0;  i < len;  i++)
    {
        v = (int) lrintf(amp[i]*line.gain);
        if (line.noise_on  &&  (dir == LINE_TO_TERMINAL  ||  line.both_ways))
            v += awgn(line.noise[dir]);
        if (v > INT16_MAX)
            v = INT16_MAX;
        else if (v < INT16_MIN)
            v = INT16_MIN;
        amp[i] = (int16_t) v;
    }
}
