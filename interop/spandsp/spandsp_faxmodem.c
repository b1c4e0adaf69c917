/*
 * spandsp-faxmodem - an independent Class 1 reference peer for faxd interop tests.
 *
 * A pseudo terminal is presented to a fax host (HylaFAX, efax, our own Class 1
 * driver, ...).  Behind it runs SpanDSP's T.31 Class 1 modem emulation.  The
 * modem's audio is joined back-to-back to a SpanDSP fax terminal (answering
 * side) which receives whatever the host sends when it dials (ATD...).  Each
 * call is stored as DIR/call-NNNN.tif and described in DIR/call-NNNN.json.
 *
 * Written against Debian bookworm's libspandsp-dev 0.0.6 headers.  Uses the
 * T.31 private structure (SPANDSP_EXPOSE_INTERNAL_STRUCTURES) only to read
 * modem state for pacing the simulated clock.
 *
 * Time model
 * ----------
 * Audio is exchanged in 20 ms blocks (160 samples at 8 kHz).  The simulated
 * line clock advances in two regimes:
 *   - "line has the turn": the host is waiting for something from the line
 *     (AT+FRH/FRM/FRS, dialling, a transmitted frame/page still draining, a
 *     command whose final result code is still due).  Blocks are run as fast
 *     as the CPU allows, reading host input between blocks.
 *   - "host has the turn": the modem waits for the host's next command or
 *     HDLC frame.  The line advances at wall-clock pace (one block per 20 ms),
 *     exactly like a real modem, so the far end's T.30 timers see the host's
 *     real response times.  Exception: while transmitting page data with less
 *     than one block's worth buffered (AT+FTM ... before DLE ETX; the T.31
 *     buffer would run dry inside the next block) the clock is frozen for up to
 *     STARVED_GRACE_MS, so scheduling hiccups of the host don't inject
 *     underrun fill into the middle of scan lines.
 * With --realtime every block is paced at wall-clock time.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <poll.h>
#include <time.h>
#include <signal.h>
#include <termios.h>
#include <getopt.h>
#include <limits.h>
#include <dirent.h>
#include <sys/stat.h>

#include <tiffio.h>
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <spandsp.h>

#include "line.h"

#define SAMPLE_RATE         8000
#define BLOCK               160                 /* 20 ms */
#define BLOCK_US            20000
#define OUTQ_SIZE           (256*1024)
#define OUTQ_HIGH           8192                /* stop the clock above this backlog */
#define HOST_READ_CHUNK     256                 /* keeps the T.31 4 KiB tx buffer safe */
#define STARVED_GRACE_MS    2000
/* One audio block at the fastest rate takes this many octets of page data (14400 bit/s
   x 20 ms).  Mid-page, with less than this buffered, running a block would drain the
   buffer part-way through it and SpanDSP would insert fill mid scan line (and, in ECM,
   mid HDLC frame): the clock counts as starved until the host has written more. */
#define TX_BLOCK_BYTES      (14400/8*20/1000)
#define REMOTE_HANGUP_MS    1500                /* far end hangs up this long after its phase E */
#define MAX_PAGES           512
#define MAX_FRAMES          512                 /* T.30 frames kept in a call record */

/* ------------------------------------------------------------------------- */
/* Configuration */

static struct
{
    const char *link;
    const char *out;
    const char *csi;
    bool ecm;
    int max_rate;
    int modem_mask;         /* 0 = derive from max_rate */
    bool realtime;
    double speed;           /* cap on simulated/wall time ratio; 0 = none */
    int verbose;
    bool trace;
    double attenuation_db;  /* line loss */
    double noise_dbm0;      /* AWGN level; > 0 = none */
    int noise_from_page;    /* noise from this page's image data on; 0 = from ATD */
    bool noise_in_pages;    /* noise only while image data flows */
    int seed;
    bool noise_both_ways;   /* noise towards the modem too, not only towards the terminal */
} cfg = {
    .link = NULL,
    .out = NULL,
    .csi = "+46 40 628 04 99",
    .ecm = true,
    .max_rate = 14400,
    .modem_mask = 0,
    .realtime = false,
    .speed = 0.0,
    .verbose = 0,
    .trace = false,
    .attenuation_db = 0.0,
    .noise_dbm0 = 1.0,
    .noise_from_page = 0,
    .noise_in_pages = false,
    .seed = 1,
    .noise_both_ways = false,
};

/* ------------------------------------------------------------------------- */
/* State */

static volatile sig_atomic_t stop_requested = 0;

static int master_fd = -1;
static char slave_name[256];
/* Whether someone may hold the slave open. Linux reports no hang-up on a master
   whose slave was never opened, so start optimistic; EIO/POLLHUP clears it. */
static bool host_present = true;

static t31_state_t *t31 = NULL;

static uint8_t outq[OUTQ_SIZE];
static size_t outq_len = 0;
static unsigned long outq_dropped = 0;

static bool cts_blocked = false;    /* T.31 asked us to hold host data */
static bool response_pending = false;
static unsigned long final_results = 0;
static char resp_line[64];
static size_t resp_len = 0;
static bool host_dle = false;

static int64_t sim_samples = 0;     /* total simulated line time */
static int next_call_number = 1;

typedef struct
{
    int page;
    int width;
    int length;
    int x_res;
    int y_res;
    int encoding;
    int bad_rows;
    int bit_rate;
    int ecm;
} page_info_t;

/* One T.30 frame as the fax terminal sent or received it (real-time frame handler). */
typedef struct
{
    bool incoming;
    int64_t samples;        /* when, in line time since the call began */
    bool noisy;             /* whether the line carried noise at that moment */
    uint8_t octets[40];     /* address, control, FCF, FIF (clipped) */
    int len;
} frame_info_t;

typedef struct
{
    bool active;
    bool connect_pending;
    const char *hangup_reason;      /* set when a hang-up must be processed */
    int number;
    char dialled[128];
    char tif_path[PATH_MAX];
    fax_state_t *fax;
    int64_t start_samples;
    double start_wall;
    bool phase_b_seen;
    bool phase_e_done;
    int64_t phase_e_samples;
    bool remote_hangup_sent;
    int completion_code;
    t30_stats_t stats;
    bool stats_valid;
    char remote_tsi[64];
    char remote_vendor[64];
    char remote_model[64];
    int npages;
    page_info_t pages[MAX_PAGES];
    int nframes;
    frame_info_t frames[MAX_FRAMES];
    int64_t noisy_samples;          /* line time with noise on */
} call_t;

static call_t call;

/* ------------------------------------------------------------------------- */
/* Utilities */

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec/1e9;
}

static int64_t wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec*1000000 + ts.tv_nsec/1000;
}

static double sim_seconds(void)
{
    return (double) sim_samples/SAMPLE_RATE;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "[faxmodem %9.3f] ", sim_seconds());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void span_message(int level, const char *text)
{
    fputs(text, stderr);
}

static void trace_bytes(const char *dir, const uint8_t *buf, size_t len)
{
    char tmp[200];
    size_t i;
    size_t n;
    int binary;

    if (!cfg.trace)
        return;
    binary = 0;
    for (i = 0;  i < len;  i++)
    {
        if ((buf[i] < 0x20  &&  buf[i] != '\r'  &&  buf[i] != '\n')  ||  buf[i] >= 0x7F)
            binary++;
    }
    if (binary)
    {
        n = 0;
        for (i = 0;  i < len  &&  n + 4 < sizeof(tmp);  i++)
            n += snprintf(tmp + n, sizeof(tmp) - n, "%02X ", buf[i]);
        logf_("%s %zu bytes: %s%s", dir, len, tmp, (i < len)  ?  "..."  :  "");
        return;
    }
    n = 0;
    for (i = 0;  i < len  &&  n + 3 < sizeof(tmp);  i++)
    {
        if (buf[i] == '\r')
        {
            tmp[n++] = '\\';
            tmp[n++] = 'r';
        }
        else if (buf[i] == '\n')
        {
            tmp[n++] = '\\';
            tmp[n++] = 'n';
        }
        else
        {
            tmp[n++] = (char) buf[i];
        }
    }
    tmp[n] = '\0';
    logf_("%s \"%s\"%s", dir, tmp, (i < len)  ?  "..."  :  "");
}

/* ------------------------------------------------------------------------- */
/* Host (pty master) output */

static void note_result_line(void)
{
    static const char *finals[] =
    {
        "OK", "CONNECT", "ERROR", "NO CARRIER", "+FCERROR", "BUSY",
        "NO DIALTONE", "NO ANSWER", NULL
    };
    int i;
    bool final;

    resp_line[resp_len] = '\0';
    final = false;
    for (i = 0;  finals[i];  i++)
    {
        if (strcmp(resp_line, finals[i]) == 0)
            final = true;
    }
    if (resp_len >= 1  &&  resp_len <= 2  &&  resp_line[0] >= '0'  &&  resp_line[0] <= '9'
        &&  (resp_len == 1  ||  (resp_line[1] >= '0'  &&  resp_line[1] <= '9')))
    {
        final = true;   /* ATV0 numeric result code */
    }
    if (final)
    {
        final_results++;
        response_pending = false;
    }
    resp_len = 0;
}

static void scan_modem_output(const uint8_t *buf, size_t len)
{
    size_t i;

    for (i = 0;  i < len;  i++)
    {
        if (buf[i] == '\r'  ||  buf[i] == '\n')
        {
            if (resp_len)
                note_result_line();
        }
        else if (resp_len < sizeof(resp_line) - 1)
        {
            resp_line[resp_len++] = (char) buf[i];
        }
        else
        {
            resp_line[0] = '\x01';     /* too long: cannot be a result code */
        }
    }
}

static void flush_outq(void)
{
    ssize_t n;

    while (outq_len > 0  &&  master_fd >= 0)
    {
        n = write(master_fd, outq, outq_len);
        if (n > 0)
        {
            memmove(outq, outq + n, outq_len - n);
            outq_len -= n;
            continue;
        }
        if (n < 0  &&  errno == EINTR)
            continue;
        if (n < 0  &&  (errno == EAGAIN  ||  errno == EWOULDBLOCK))
            return;
        /* EIO: nobody has the slave open. What the modem says is lost. */
        outq_len = 0;
        return;
    }
}

static int at_tx_handler(at_state_t *s, void *user_data, const uint8_t *buf, size_t len)
{
    trace_bytes("M>H", buf, len);
    scan_modem_output(buf, len);
    if (!host_present)
        return (int) len;
    if (outq_len + len > sizeof(outq))
    {
        outq_dropped += len;
        logf_("output queue overflow, %zu bytes dropped", len);
        return (int) len;
    }
    memcpy(outq + outq_len, buf, len);
    outq_len += len;
    if (outq_len > 1024)
        flush_outq();
    return (int) len;
}

/* ------------------------------------------------------------------------- */
/* Fax terminal (answering side) */

static const char *resolution_name(int y_res)
{
    if (y_res <= 0)
        return "unknown";
    if (y_res < 5000)
        return "standard";
    if (y_res < 9000)
        return "fine";
    if (y_res < 13000)
        return "300dpi";
    if (y_res < 19000)
        return "superfine";
    return "higher";
}

static void capture_stats(t30_state_t *t30)
{
    const char *p;

    t30_get_transfer_statistics(t30, &call.stats);
    call.stats_valid = true;
    if ((p = t30_get_rx_ident(t30))  &&  p[0])
        snprintf(call.remote_tsi, sizeof(call.remote_tsi), "%s", p);
    if ((p = t30_get_rx_vendor(t30)))
        snprintf(call.remote_vendor, sizeof(call.remote_vendor), "%s", p);
    if ((p = t30_get_rx_model(t30)))
        snprintf(call.remote_model, sizeof(call.remote_model), "%s", p);
}

static int phase_b_handler(t30_state_t *s, void *user_data, int result)
{
    call.phase_b_seen = true;
    capture_stats(s);
    logf_("call %04d phase B: %s, remote TSI \"%s\"", call.number, t30_frametype(result), call.remote_tsi);
    return T30_ERR_OK;
}

static int phase_d_handler(t30_state_t *s, void *user_data, int result)
{
    t30_stats_t st;
    page_info_t *pg;

    t30_get_transfer_statistics(s, &st);
    logf_("call %04d phase D: %s, pages rx %d, %d bit/s, ECM %d, %dx%d, enc %s, bad rows %d",
          call.number, t30_frametype(result), st.pages_rx, st.bit_rate, st.error_correcting_mode,
          st.width, st.length, t4_encoding_to_str(st.encoding), st.bad_rows);
    if (call.npages < MAX_PAGES  &&  st.pages_rx > call.npages)
    {
        pg = &call.pages[call.npages++];
        pg->page = st.pages_rx;
        pg->width = st.width;
        pg->length = st.length;
        pg->x_res = st.x_resolution;
        pg->y_res = st.y_resolution;
        pg->encoding = st.encoding;
        pg->bad_rows = st.bad_rows;
        pg->bit_rate = st.bit_rate;
        pg->ecm = st.error_correcting_mode;
    }
    capture_stats(s);
    return T30_ERR_OK;
}

/* T.30 FCFs (without the X bit) that decide when page data flows towards the terminal. */
#define FCF_CFR 0x84
#define FCF_MCF 0x8C
#define FCF_RTP 0x8E
#define FCF_PPR 0xBC
#define FCF_CTR 0xC4
#define FCF_FCD 0x06
#define FCF_RCP 0x86

/* The terminal's own frames say when image data comes next: after CFR, MCF (to a
   page or partial page that is not the last), RTP, PPR and CTR the caller sends page data
   (T.30 5.3.6, A.4).  Any control frame from the caller ends that data. */
static void steer_noise(bool incoming, int fcf)
{
    bool image_next;
    int next_page;

    if (incoming)
    {
        if (fcf != FCF_FCD  &&  fcf != FCF_RCP  &&  cfg.noise_in_pages)
            line_set_noise(false);
        return;
    }
    image_next = (fcf == FCF_CFR  ||  fcf == FCF_MCF  ||  fcf == FCF_RTP  ||  fcf == FCF_PPR  ||  fcf == FCF_CTR);
    if (!image_next)
        return;
    next_page = call.stats_valid  ?  call.stats.pages_rx + 1  :  1;
    if (cfg.noise_in_pages)
        line_set_noise(next_page >= cfg.noise_from_page);
    else if (cfg.noise_from_page > 0  &&  next_page >= cfg.noise_from_page)
        line_set_noise(true);       /* the line has worsened: it stays bad */
}

static void frame_handler(t30_state_t *s, void *user_data, int direction, const uint8_t msg[], int len)
{
    frame_info_t *fr;
    int fcf;

    if (len < 3)
        return;
    fcf = msg[2] & 0xFE;
    if (fcf != FCF_FCD  &&  fcf != FCF_RCP  &&  call.nframes < MAX_FRAMES)
    {
        fr = &call.frames[call.nframes++];
        fr->incoming = direction;
        fr->samples = sim_samples - call.start_samples;
        fr->noisy = line_noise_on();
        fr->len = (len < (int) sizeof(fr->octets))  ?  len  :  (int) sizeof(fr->octets);
        memcpy(fr->octets, msg, fr->len);
    }
    capture_stats(s);
    steer_noise(direction, fcf);
}

static void phase_e_handler(t30_state_t *s, void *user_data, int completion_code)
{
    if (call.phase_e_done)
        return;
    call.phase_e_done = true;
    call.phase_e_samples = sim_samples;
    call.completion_code = completion_code;
    capture_stats(s);
    logf_("call %04d phase E: completion %d (%s), pages %d",
          call.number, completion_code, t30_completion_code_to_str(completion_code), call.stats.pages_rx);
}

static void set_logging(logging_state_t *l, const char *tag)
{
    int level;

    if (cfg.verbose <= 0)
        return;
    level = (cfg.verbose >= 2)  ?  SPAN_LOG_DEBUG  :  SPAN_LOG_FLOW;
    span_log_set_level(l, level | SPAN_LOG_SHOW_TAG | SPAN_LOG_SHOW_SAMPLE_TIME);
    span_log_set_tag(l, tag);
}

static int modem_mask(void)
{
    if (cfg.modem_mask)
        return cfg.modem_mask;
    if (cfg.max_rate >= 14400)
        return T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER;
    if (cfg.max_rate >= 9600)
        return T30_SUPPORT_V29 | T30_SUPPORT_V27TER;
    return T30_SUPPORT_V27TER;
}

static void json_str(FILE *f, const char *s)
{
    const unsigned char *p;

    if (s == NULL)
    {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (p = (const unsigned char *) s;  *p;  p++)
    {
        if (*p == '"'  ||  *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20  ||  *p >= 0x7F)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void write_call_record(const char *hangup)
{
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    FILE *f;
    struct stat st;
    int i;
    int mask;
    const t30_stats_t *s;
    bool have_tif;
    bool ok;

    s = &call.stats;
    snprintf(path, sizeof(path), "%s/call-%04d.json", cfg.out, call.number);
    snprintf(tmp, sizeof(tmp), "%s/.call-%04d.json.tmp", cfg.out, call.number);
    if ((f = fopen(tmp, "w")) == NULL)
    {
        logf_("cannot write %s: %s", tmp, strerror(errno));
        return;
    }
    have_tif = (stat(call.tif_path, &st) == 0  &&  st.st_size > 0);
    ok = call.phase_e_done  &&  call.completion_code == T30_ERR_OK;
    mask = modem_mask();

    fprintf(f, "{\n");
    fprintf(f, "  \"call\": %d,\n", call.number);
    fprintf(f, "  \"dialled\": ");
    json_str(f, call.dialled);
    fprintf(f, ",\n  \"local_csi\": ");
    json_str(f, cfg.csi);
    fprintf(f, ",\n  \"remote_tsi\": ");
    json_str(f, call.remote_tsi);
    fprintf(f, ",\n  \"remote_vendor\": ");
    json_str(f, call.remote_vendor[0]  ?  call.remote_vendor  :  NULL);
    fprintf(f, ",\n  \"remote_model\": ");
    json_str(f, call.remote_model[0]  ?  call.remote_model  :  NULL);
    fprintf(f, ",\n  \"pages\": %d,\n", call.stats_valid  ?  s->pages_rx  :  0);
    fprintf(f, "  \"bit_rate\": %d,\n", call.stats_valid  ?  s->bit_rate  :  0);
    fprintf(f, "  \"ecm\": %s,\n", (call.stats_valid  &&  s->error_correcting_mode)  ?  "true"  :  "false");
    fprintf(f, "  \"compression\": ");
    json_str(f, (call.stats_valid  &&  s->pages_rx > 0)  ?  t4_encoding_to_str(s->encoding)  :  NULL);
    fprintf(f, ",\n  \"compression_code\": %d,\n", call.stats_valid  ?  s->encoding  :  -1);
    fprintf(f, "  \"resolution\": ");
    json_str(f, (call.stats_valid  &&  s->pages_rx > 0)  ?  resolution_name(s->y_resolution)  :  NULL);
    fprintf(f, ",\n  \"x_resolution_ppm\": %d,\n", call.stats_valid  ?  s->x_resolution  :  0);
    fprintf(f, "  \"y_resolution_ppm\": %d,\n", call.stats_valid  ?  s->y_resolution  :  0);
    fprintf(f, "  \"width\": %d,\n", call.stats_valid  ?  s->width  :  0);
    fprintf(f, "  \"length\": %d,\n", call.stats_valid  ?  s->length  :  0);
    fprintf(f, "  \"bad_rows\": %d,\n", call.stats_valid  ?  s->bad_rows  :  0);
    fprintf(f, "  \"completion_code\": %d,\n", call.completion_code);
    fprintf(f, "  \"completion_text\": ");
    json_str(f, t30_completion_code_to_str(call.completion_code));
    fprintf(f, ",\n  \"phase_b_reached\": %s,\n", call.phase_b_seen  ?  "true"  :  "false");
    fprintf(f, "  \"phase_e_reached\": %s,\n", call.phase_e_done  ?  "true"  :  "false");
    fprintf(f, "  \"ended_normally\": %s,\n", ok  ?  "true"  :  "false");
    fprintf(f, "  \"hangup\": ");
    json_str(f, hangup);
    fprintf(f, ",\n  \"sim_seconds\": %.3f,\n", (double) (sim_samples - call.start_samples)/SAMPLE_RATE);
    fprintf(f, "  \"wall_seconds\": %.3f,\n", wall_now() - call.start_wall);
    fprintf(f, "  \"tiff\": ");
    json_str(f, have_tif  ?  call.tif_path  :  NULL);
    fprintf(f, ",\n  \"page_details\": [");
    for (i = 0;  i < call.npages;  i++)
    {
        const page_info_t *p = &call.pages[i];

        fprintf(f, "%s\n    {\"page\": %d, \"width\": %d, \"length\": %d, \"x_resolution_ppm\": %d, "
                   "\"y_resolution_ppm\": %d, \"resolution\": \"%s\", \"compression\": \"%s\", "
                   "\"bad_rows\": %d, \"bit_rate\": %d, \"ecm\": %s}",
                (i)  ?  ","  :  "", p->page, p->width, p->length, p->x_res, p->y_res,
                resolution_name(p->y_res), t4_encoding_to_str(p->encoding), p->bad_rows, p->bit_rate,
                (p->ecm)  ?  "true"  :  "false");
    }
    fprintf(f, "%s],\n", (call.npages)  ?  "\n  "  :  "");
    fprintf(f, "  \"frames\": [");
    for (i = 0;  i < call.nframes;  i++)
    {
        const frame_info_t *fr = &call.frames[i];
        int k;

        fprintf(f, "%s\n    {\"dir\": \"%s\", \"type\": ", (i)  ?  ","  :  "", fr->incoming  ?  "rx"  :  "tx");
        json_str(f, t30_frametype(fr->octets[2]));
        fprintf(f, ", \"at\": %.3f, \"noisy\": %s, \"hex\": \"", (double) fr->samples/SAMPLE_RATE,
                fr->noisy  ?  "true"  :  "false");
        for (k = 0;  k < fr->len;  k++)
            fprintf(f, "%02x", fr->octets[k]);
        fprintf(f, "\"}");
    }
    fprintf(f, "%s],\n", (call.nframes)  ?  "\n  "  :  "");
    fprintf(f, "  \"line\": {\"attenuation_db\": %.1f, \"noise_dbm0\": ", cfg.attenuation_db);
    if (cfg.noise_dbm0 <= 0.0)
        fprintf(f, "%.1f", cfg.noise_dbm0);
    else
        fputs("null", f);
    fprintf(f, ", \"noise_from_page\": %d, \"noise_in_pages\": %s, \"both_ways\": %s, \"seed\": %d, \"noisy_seconds\": %.3f},\n",
            cfg.noise_from_page, cfg.noise_in_pages  ?  "true"  :  "false", cfg.noise_both_ways  ?  "true"  :  "false", cfg.seed,
            (double) call.noisy_samples/SAMPLE_RATE);
    fprintf(f, "  \"config\": {\"ecm_allowed\": %s, \"max_rate\": %d, \"v17\": %s, \"v29\": %s, \"v27ter\": %s, "
               "\"realtime\": %s}\n",
            cfg.ecm  ?  "true"  :  "false", cfg.max_rate,
            (mask & T30_SUPPORT_V17)  ?  "true"  :  "false",
            (mask & T30_SUPPORT_V29)  ?  "true"  :  "false",
            (mask & T30_SUPPORT_V27TER)  ?  "true"  :  "false",
            cfg.realtime  ?  "true"  :  "false");
    fprintf(f, "}\n");
    if (fflush(f) != 0  ||  fsync(fileno(f)) != 0)
        logf_("error writing %s: %s", tmp, strerror(errno));
    fclose(f);
    if (rename(tmp, path) != 0)
        logf_("cannot rename %s: %s", tmp, strerror(errno));
    else
        logf_("call %04d record written: %s", call.number, path);
}

static void start_call(void)
{
    t30_state_t *t30;

    memset(&call.stats, 0, sizeof(call.stats));
    call.number = next_call_number++;
    call.active = true;
    call.hangup_reason = NULL;
    call.start_samples = sim_samples;
    call.start_wall = wall_now();
    call.phase_b_seen = false;
    call.phase_e_done = false;
    call.remote_hangup_sent = false;
    call.completion_code = T30_ERR_CALLDROPPED;
    call.stats_valid = false;
    call.remote_tsi[0] = '\0';
    call.remote_vendor[0] = '\0';
    call.remote_model[0] = '\0';
    call.npages = 0;
    call.nframes = 0;
    call.noisy_samples = 0;
    line_new_call(call.number);
    line_set_noise(cfg.noise_from_page == 0  &&  !cfg.noise_in_pages);
    snprintf(call.tif_path, sizeof(call.tif_path), "%s/call-%04d.tif", cfg.out, call.number);
    unlink(call.tif_path);

    call.fax = fax_init(NULL, false);
    t30 = fax_get_t30_state(call.fax);
    t30_set_tx_ident(t30, cfg.csi);
    t30_set_ecm_capability(t30, cfg.ecm);
    t30_set_supported_modems(t30, modem_mask());
    t30_set_supported_compressions(t30, T30_SUPPORT_T4_1D_COMPRESSION
                                      | T30_SUPPORT_T4_2D_COMPRESSION
                                      | T30_SUPPORT_T6_COMPRESSION);
    t30_set_supported_resolutions(t30, T30_SUPPORT_STANDARD_RESOLUTION
                                     | T30_SUPPORT_FINE_RESOLUTION
                                     | T30_SUPPORT_SUPERFINE_RESOLUTION
                                     | T30_SUPPORT_R8_RESOLUTION
                                     | T30_SUPPORT_R16_RESOLUTION);
    t30_set_supported_image_sizes(t30, T30_SUPPORT_215MM_WIDTH
                                     | T30_SUPPORT_255MM_WIDTH
                                     | T30_SUPPORT_303MM_WIDTH
                                     | T30_SUPPORT_UNLIMITED_LENGTH
                                     | T30_SUPPORT_A4_LENGTH
                                     | T30_SUPPORT_B4_LENGTH
                                     | T30_SUPPORT_US_LETTER_LENGTH
                                     | T30_SUPPORT_US_LEGAL_LENGTH);
    t30_set_rx_file(t30, call.tif_path, -1);
    t30_set_phase_b_handler(t30, phase_b_handler, NULL);
    t30_set_phase_d_handler(t30, phase_d_handler, NULL);
    t30_set_phase_e_handler(t30, phase_e_handler, NULL);
    t30_set_real_time_frame_handler(t30, frame_handler, NULL);
    fax_set_transmit_on_idle(call.fax, true);
    set_logging(fax_get_logging_state(call.fax), "FAX");
    set_logging(t30_get_logging_state(t30), "T.30");
    logf_("call %04d: host dialled \"%s\"; answering with CSI \"%s\", ECM %s, modems 0x%x",
          call.number, call.dialled, cfg.csi, cfg.ecm  ?  "allowed"  :  "off", modem_mask());
    t31_call_event(t31, AT_CALL_EVENT_CONNECTED);
}

static void end_call(const char *reason)
{
    t30_state_t *t30;

    if (!call.active)
        return;
    t30 = fax_get_t30_state(call.fax);
    if (!call.phase_e_done)
    {
        /* Host went away mid-call: let T.30 clean up (closes the TIFF). */
        t30_terminate(t30);
        if (!call.phase_e_done)
        {
            capture_stats(t30);
            call.completion_code = T30_ERR_CALLDROPPED;
        }
    }
    else
    {
        capture_stats(t30);
    }
    fax_free(call.fax);
    call.fax = NULL;
    call.active = false;
    call.connect_pending = false;
    logf_("call %04d ended (%s): pages %d, completion %d (%s)", call.number, reason,
          call.stats.pages_rx, call.completion_code, t30_completion_code_to_str(call.completion_code));
    write_call_record(reason);
}

/* ------------------------------------------------------------------------- */
/* T.31 modem */

static int modem_control_handler(t31_state_t *s, void *user_data, int op, const char *num)
{
    switch (op)
    {
    case AT_MODEM_CONTROL_CALL:
        logf_("modem control: dial \"%s\"", num  ?  num  :  "");
        if (call.active  ||  call.connect_pending)
            return -1;
        snprintf(call.dialled, sizeof(call.dialled), "%s", num  ?  num  :  "");
        call.connect_pending = true;
        break;
    case AT_MODEM_CONTROL_ANSWER:
        logf_("modem control: answer (no incoming calls are offered; ignored)");
        break;
    case AT_MODEM_CONTROL_HANGUP:
    case AT_MODEM_CONTROL_ONHOOK:
        if (cfg.trace)
            logf_("modem control: %s", (op == AT_MODEM_CONTROL_HANGUP)  ?  "hang-up"  :  "on-hook");
        if (call.connect_pending)
            call.connect_pending = false;
        if (call.active  &&  call.hangup_reason == NULL)
            call.hangup_reason = call.remote_hangup_sent  ?  "remote"  :  "host";
        break;
    case AT_MODEM_CONTROL_CTS:
        cts_blocked = (num == NULL);
        break;
    default:
        break;
    }
    return 0;
}

static void new_modem(void)
{
    if (t31)
        t31_free(t31);
    t31 = t31_init(NULL, at_tx_handler, NULL, modem_control_handler, NULL, NULL, NULL);
    if (t31 == NULL)
    {
        fprintf(stderr, "cannot start the T.31 modem\n");
        exit(2);
    }
    t31_set_transmit_on_idle(t31, true);
    set_logging(t31_get_logging_state(t31), "T.31");
    set_logging(&t31->at_state.logging, "AT");
    cts_blocked = false;
    response_pending = false;
    resp_len = 0;
    host_dle = false;
}

/* Page data buffered in the T.31 modem, not yet on the line. */
static int tx_buffered(void)
{
    return t31->tx.in_bytes - t31->tx.out_bytes;
}

/* Does the line have the turn, i.e. is the host waiting on the line? */
static bool line_has_turn(void)
{
    at_state_t *at = &t31->at_state;

    if (response_pending)
        return true;
    if (at->at_rx_mode == AT_MODE_DELIVERY  ||  at->dte_is_waiting)
        return true;
    if (at->at_rx_mode == AT_MODE_STUFFED
        &&  (tx_buffered() >= TX_BLOCK_BYTES  ||  t31->tx.final  ||  t31->tx.holding))
    {
        return true;
    }
    if (at->at_rx_mode == AT_MODE_CONNECTED  &&  at->do_hangup)
        return true;
    return false;
}

static bool tx_starved(void)
{
    at_state_t *at = &t31->at_state;

    return at->at_rx_mode == AT_MODE_STUFFED
        &&  tx_buffered() < TX_BLOCK_BYTES
        &&  !t31->tx.final
        &&  !t31->tx.holding;
}

static void host_input(const uint8_t *buf, int len)
{
    int mode;
    int i;
    bool done;
    unsigned long before;

    trace_bytes("H>M", buf, len);
    mode = t31->at_state.at_rx_mode;
    done = false;
    for (i = 0;  i < len;  i++)
    {
        if (mode == AT_MODE_ONHOOK_COMMAND  ||  mode == AT_MODE_OFFHOOK_COMMAND)
        {
            host_dle = false;
            if (buf[i] == '\r')
                done = true;
        }
        else if (mode == AT_MODE_HDLC  ||  mode == AT_MODE_STUFFED)
        {
            if (host_dle)
            {
                host_dle = false;
                if (buf[i] == 0x03)
                    done = true;
            }
            else if (buf[i] == 0x10)
            {
                host_dle = true;
            }
        }
    }
    before = final_results;
    t31_at_rx(t31, (const char *) buf, len);
    /* A command line or a DLE ETX that got no final result code yet: the
       host now waits for the modem, so the line has the turn. */
    if (done  &&  final_results == before)
        response_pending = true;
}

/* ------------------------------------------------------------------------- */
/* Audio */

static void run_block(void)
{
    int16_t fax_amp[BLOCK];
    int16_t t31_amp[BLOCK];
    int n;

    n = fax_tx(call.fax, fax_amp, BLOCK);
    if (n < BLOCK)
        memset(fax_amp + n, 0, sizeof(int16_t)*(BLOCK - n));
    if (call.fax)
        line_apply(fax_amp, BLOCK, LINE_TO_MODEM);
    t31_rx(t31, fax_amp, BLOCK);
    n = t31_tx(t31, t31_amp, BLOCK);
    if (n < BLOCK)
        memset(t31_amp + n, 0, sizeof(int16_t)*(BLOCK - n));
    if (call.fax)
    {
        if (line_noise_on())
            call.noisy_samples += BLOCK;
        line_apply(t31_amp, BLOCK, LINE_TO_TERMINAL);
    }
    if (call.fax)
        fax_rx(call.fax, t31_amp, BLOCK);
    sim_samples += BLOCK;
    if (cfg.verbose > 0)
    {
        span_log_bump_samples(t31_get_logging_state(t31), BLOCK);
        span_log_bump_samples(&t31->at_state.logging, BLOCK);
        if (call.fax)
        {
            span_log_bump_samples(fax_get_logging_state(call.fax), BLOCK);
            span_log_bump_samples(t30_get_logging_state(fax_get_t30_state(call.fax)), BLOCK);
        }
    }
}

/* ------------------------------------------------------------------------- */
/* Pseudo terminal */

static void make_raw(int fd)
{
    struct termios t;

    if (tcgetattr(fd, &t) == 0)
    {
        cfmakeraw(&t);
        cfsetispeed(&t, B115200);
        cfsetospeed(&t, B115200);
        tcsetattr(fd, TCSANOW, &t);
    }
}

static void open_pty(void)
{
    if ((master_fd = posix_openpt(O_RDWR | O_NOCTTY)) < 0)
    {
        perror("posix_openpt");
        exit(2);
    }
    if (grantpt(master_fd) < 0  ||  unlockpt(master_fd) < 0)
    {
        perror("grantpt/unlockpt");
        exit(2);
    }
    if (ptsname_r(master_fd, slave_name, sizeof(slave_name)) != 0)
    {
        perror("ptsname_r");
        exit(2);
    }
    make_raw(master_fd);
    if (fcntl(master_fd, F_SETFL, fcntl(master_fd, F_GETFL, 0) | O_NONBLOCK) < 0)
    {
        perror("fcntl");
        exit(2);
    }
    unlink(cfg.link);
    if (symlink(slave_name, cfg.link) < 0)
    {
        fprintf(stderr, "cannot symlink %s -> %s: %s\n", cfg.link, slave_name, strerror(errno));
        exit(2);
    }
}

static void host_closed(void)
{
    logf_("host closed the pty");
    host_present = false;
    if (call.active)
    {
        if (call.hangup_reason == NULL)
            call.hangup_reason = "pty_closed";
        end_call(call.hangup_reason);
    }
    call.connect_pending = false;
    outq_len = 0;
    /* A fresh modem, as after power-up/DTR drop */
    new_modem();
    make_raw(master_fd);
}

/* ------------------------------------------------------------------------- */

static void on_signal(int sig)
{
    stop_requested = 1;
}

static void scan_existing_calls(void)
{
    DIR *d;
    struct dirent *e;
    int n;

    if ((d = opendir(cfg.out)) == NULL)
        return;
    while ((e = readdir(d)))
    {
        if (sscanf(e->d_name, "call-%d.", &n) == 1  &&  n >= next_call_number)
            next_call_number = n + 1;
    }
    closedir(d);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: spandsp-faxmodem --link PATH --out DIR [--csi ID] [--ecm|--no-ecm]\n"
            "                        [--max-rate 14400|9600|4800|2400] [--v29-only|--v27-only]\n"
            "                        [--realtime | --speed FACTOR] [--trace] [--verbose[=2]]\n"
            "                        [--attenuation DB] [--noise DBM0 [--noise-from-page N] [--noise-in-pages]]\n"
            "                        [--noise-both-ways] [--seed N]\n");
}

static void parse_args(int argc, char *argv[])
{
    static const struct option opts[] =
    {
        {"link", required_argument, NULL, 'l'},
        {"out", required_argument, NULL, 'o'},
        {"csi", required_argument, NULL, 'c'},
        {"ecm", no_argument, NULL, 'e'},
        {"no-ecm", no_argument, NULL, 'E'},
        {"max-rate", required_argument, NULL, 'r'},
        {"v29-only", no_argument, NULL, '9'},
        {"v27-only", no_argument, NULL, '7'},
        {"realtime", no_argument, NULL, 'R'},
        {"speed", required_argument, NULL, 's'},
        {"trace", no_argument, NULL, 't'},
        {"verbose", optional_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"attenuation", required_argument, NULL, 'A'},
        {"noise", required_argument, NULL, 'N'},
        {"noise-from-page", required_argument, NULL, 'P'},
        {"noise-in-pages", no_argument, NULL, 'I'},
        {"seed", required_argument, NULL, 'S'},
        {"noise-both-ways", no_argument, NULL, 'B'},
        {NULL, 0, NULL, 0}
    };
    int opt;

    while ((opt = getopt_long(argc, argv, "l:o:c:eEr:97Rs:tv::hA:N:P:IS:B", opts, NULL)) != -1)
    {
        switch (opt)
        {
        case 'l': cfg.link = optarg; break;
        case 'o': cfg.out = optarg; break;
        case 'c': cfg.csi = optarg; break;
        case 'e': cfg.ecm = true; break;
        case 'E': cfg.ecm = false; break;
        case 'r':
            cfg.max_rate = atoi(optarg);
            if (cfg.max_rate != 14400  &&  cfg.max_rate != 9600  &&  cfg.max_rate != 4800  &&  cfg.max_rate != 2400)
            {
                fprintf(stderr, "--max-rate must be 14400, 9600, 4800 or 2400\n");
                exit(2);
            }
            break;
        case '9': cfg.modem_mask = T30_SUPPORT_V29; break;
        case '7': cfg.modem_mask = T30_SUPPORT_V27TER; break;
        case 'R': cfg.realtime = true; break;
        case 's':
            cfg.speed = atof(optarg);
            if (cfg.speed < 0.0)
            {
                fprintf(stderr, "--speed must be >= 0\n");
                exit(2);
            }
            break;
        case 't': cfg.trace = true; break;
        case 'v': cfg.verbose = optarg  ?  atoi(optarg)  :  1; break;
        case 'h': usage(stdout); exit(0);
        case 'A':
            cfg.attenuation_db = atof(optarg);
            if (cfg.attenuation_db < 0.0  ||  cfg.attenuation_db > 60.0)
            {
                fprintf(stderr, "--attenuation is a loss in dB, 0 to 60\n");
                exit(2);
            }
            break;
        case 'N':
            cfg.noise_dbm0 = atof(optarg);
            if (cfg.noise_dbm0 > 0.0  ||  cfg.noise_dbm0 < -100.0)
            {
                fprintf(stderr, "--noise is a level in dBm0, -100 to 0 (e.g. -40)\n");
                exit(2);
            }
            break;
        case 'P':
            cfg.noise_from_page = atoi(optarg);
            if (cfg.noise_from_page < 0)
            {
                fprintf(stderr, "--noise-from-page counts pages from 1 (0: from the start)\n");
                exit(2);
            }
            break;
        case 'I': cfg.noise_in_pages = true; break;
        case 'S': cfg.seed = atoi(optarg); break;
        case 'B': cfg.noise_both_ways = true; break;
        default: usage(stderr); exit(2);
        }
    }
    if (cfg.link == NULL  ||  cfg.out == NULL)
    {
        usage(stderr);
        exit(2);
    }
    line_setup(cfg.attenuation_db, cfg.noise_dbm0, cfg.seed, cfg.noise_both_ways);
    if (strlen(cfg.csi) > 20)
    {
        fprintf(stderr, "--csi is at most 20 characters\n");
        exit(2);
    }
}

/* ------------------------------------------------------------------------- */
/* The line clock */

static int64_t next_due;            /* wall time for the next paced block */
static int64_t starved_since = -1;
static bool in_fast = false;
static int64_t fast_anchor_wall;
static int64_t fast_anchor_sim;

/* Decide whether to run an audio block now.  If not, *wait_ms says how long
   we may sleep waiting for the host before asking again (-1 = forever). */
static bool clock_decide(int64_t now, int *wait_ms)
{
    int64_t allowed;
    int64_t need_us;

    if (!call.active)
    {
        *wait_ms = -1;
        return false;
    }
    if (outq_len > OUTQ_HIGH)
    {
        /* The host isn't reading: hold the line clock. */
        *wait_ms = 100;
        return false;
    }
    if (!cfg.realtime  &&  line_has_turn())
    {
        starved_since = -1;
        if (!in_fast)
        {
            in_fast = true;
            fast_anchor_wall = now;
            fast_anchor_sim = sim_samples;
        }
        if (cfg.speed > 0.0)
        {
            allowed = (int64_t) ((double) (now - fast_anchor_wall)*cfg.speed*SAMPLE_RATE/1e6);
            if (sim_samples - fast_anchor_sim >= allowed)
            {
                need_us = (int64_t) ((double) (sim_samples - fast_anchor_sim + BLOCK)*1e6/(cfg.speed*SAMPLE_RATE))
                        - (now - fast_anchor_wall);
                *wait_ms = (int) (need_us/1000) + 1;
                return false;
            }
        }
        next_due = now + BLOCK_US;
        *wait_ms = 0;
        return true;
    }
    in_fast = false;
    if (!cfg.realtime  &&  tx_starved())
    {
        if (starved_since < 0)
            starved_since = now;
        if (now - starved_since < STARVED_GRACE_MS*1000LL)
        {
            *wait_ms = (int) ((starved_since + STARVED_GRACE_MS*1000LL - now)/1000) + 1;
            return false;
        }
    }
    else
    {
        starved_since = -1;
    }
    /* The host has the turn: the line moves at wall-clock pace. */
    if (now >= next_due)
    {
        next_due += BLOCK_US;
        if (next_due < now - 10*BLOCK_US)
            next_due = now + BLOCK_US;
        *wait_ms = 0;
        return true;
    }
    *wait_ms = (int) ((next_due - now + 999)/1000);
    return false;
}

int main(int argc, char *argv[])
{
    struct sigaction sa;
    struct pollfd pfd;
    int timeout;
    uint8_t buf[HOST_READ_CHUNK];
    ssize_t n;
    int r;

    parse_args(argc, argv);
    if (mkdir(cfg.out, 0777) < 0  &&  errno != EEXIST)
    {
        fprintf(stderr, "cannot create %s: %s\n", cfg.out, strerror(errno));
        exit(2);
    }
    scan_existing_calls();

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    span_set_message_handler(span_message);
    memset(&call, 0, sizeof(call));
    new_modem();
    open_pty();

    printf("%s\n", slave_name);
    fflush(stdout);
    logf_("ready: %s -> %s, out %s, CSI \"%s\", ECM %s, max rate %d, %s",
          cfg.link, slave_name, cfg.out, cfg.csi, cfg.ecm  ?  "allowed"  :  "off", cfg.max_rate,
          cfg.realtime  ?  "real-time"  :  "simulated time");

    next_due = wall_us();
    while (!stop_requested)
    {
        if (call.hangup_reason  &&  call.active)
            end_call(call.hangup_reason);
        if (call.connect_pending)
        {
            call.connect_pending = false;
            start_call();
            next_due = wall_us();
            in_fast = false;
            continue;
        }
        flush_outq();

        if (!host_present)
        {
            /* While nobody holds the slave open the master reports POLLHUP
               continuously, so look every 50 ms. */
            pfd.fd = master_fd;
            pfd.events = POLLIN;
            pfd.revents = 0;
            r = poll(&pfd, 1, 0);
            if (r > 0  &&  (pfd.revents & POLLHUP)  &&  !(pfd.revents & POLLIN))
            {
                usleep(50000);
                continue;
            }
            host_present = true;
            logf_("host reopened the pty");
            continue;
        }

        if (clock_decide(wall_us(), &timeout))
            timeout = 0;
        if (timeout < 0  ||  timeout > 1000)
            timeout = 1000;
        pfd.fd = master_fd;
        pfd.events = 0;
        if (!cts_blocked)
            pfd.events |= POLLIN;
        if (outq_len)
            pfd.events |= POLLOUT;
        pfd.revents = 0;
        r = poll(&pfd, 1, timeout);
        if (r < 0  &&  errno != EINTR)
        {
            perror("poll");
            break;
        }
        if (r > 0  &&  (pfd.revents & POLLIN))
        {
            n = read(master_fd, buf, sizeof(buf));
            if (n > 0)
            {
                host_input(buf, (int) n);
                continue;   /* re-evaluate the state before moving the clock */
            }
            if (n == 0  ||  (n < 0  &&  errno == EIO))
            {
                host_closed();
                continue;
            }
        }
        else if (r > 0  &&  (pfd.revents & (POLLHUP | POLLERR)))
        {
            host_closed();
            continue;
        }
        if (r > 0  &&  (pfd.revents & POLLOUT))
            flush_outq();

        if (!clock_decide(wall_us(), &timeout))
            continue;
        run_block();

        /* The far end hangs up a little after its T.30 session ended. */
        if (call.active  &&  call.phase_e_done  &&  !call.remote_hangup_sent  &&  call.hangup_reason == NULL
            &&  sim_samples - call.phase_e_samples > (int64_t) REMOTE_HANGUP_MS*SAMPLE_RATE/1000)
        {
            call.remote_hangup_sent = true;
            logf_("call %04d: far end hangs up", call.number);
            call.hangup_reason = "remote";
            t31_call_event(t31, AT_CALL_EVENT_HANGUP);
        }
    }

    logf_("shutting down");
    if (call.active)
        end_call("shutdown");
    flush_outq();
    unlink(cfg.link);
    close(master_fd);
    if (t31)
        t31_free(t31);
    return 0;
}
