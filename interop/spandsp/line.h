/*
 * line.h - the analogue line between SpanDSP's T.31 modem and its fax terminal.
 *
 * Without options the line is perfect: the samples one side sends are the samples the
 * other side hears.  With them it carries what a long or poor local loop does to fax:
 * attenuation (a flat loss in dB) and additive white Gaussian noise (SpanDSP's own awgn
 * generator, level in dBm0), each direction with its own noise source.  When the noise
 * is on is the caller's choice (line_set_noise): from the start of a call, from some
 * page on, or only while page data flows.
 */
#if !defined(FAXMODEM_LINE_H)
#define FAXMODEM_LINE_H

#include <stdbool.h>
#include <stdint.h>

/* Which way the audio goes: towards the fax terminal (the host's TCF and pages) or
   towards the T.31 modem (the terminal's frames). */
typedef enum
{
    LINE_TO_TERMINAL = 0,
    LINE_TO_MODEM = 1
} line_direction_t;

/* Sets up the line: attenuation_db >= 0; noise_dbm0 is the noise level, or a value
   above 0 for no noise at all; seed picks the noise sequence (runs are repeatable).
   The noise goes towards the terminal only, unless both_ways: SpanDSP's T.31 modem takes
   steady noise for a carrier, so +FRS (wait for silence) would never end and its V.21
   receiver would hear flags in it; real modems have a squelch there that SpanDSP lacks. */
void line_setup(double attenuation_db, double noise_dbm0, int seed, bool both_ways);

/* Starts a call: fresh noise sources (seeded by seed + call_number), noise off. */
void line_new_call(int call_number);

/* Switches the noise on or off (no effect when the line has none). */
void line_set_noise(bool on);

/* Whether noise is being added now. */
bool line_noise_on(void);

/* Applies the line to one block of audio going in direction dir, in place. */
void line_apply(int16_t amp[], int len, line_direction_t dir);

#endif
