/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared declarations of the tlshim loader (the driver and kernel half). */
#ifndef TLSHIM_COMMON_H
#define TLSHIM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tlshim.h"

/* Exit statuses: 2 is reserved for bad input (nothing was changed). */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

/* The prefix of every message below: "tlshim", or the tool (tools/ link
 * this library too and set it first thing in main). */
extern const char *prog_name;

/* Print "tlshim: bad FIELD: why" and exit 2.  Only call before changing
 * anything: the promise of status 2 is that nothing changed. */
void usage_error(const char *field, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* Print "tlshim: why" and exit with status. */
void fail(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

bool parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Hex string of exactly want_len bytes (optional 0x prefix). */
bool parse_hex(const char *s, uint8_t *out, size_t want_len);
void print_hex(char *buf, const uint8_t *bytes, size_t len);
uint64_t now_monotonic_ns(void);

/* "ADDR:PORT" or "[ADDR6]:PORT" into one side of a flow key. */
bool parse_endpoint(const char *s, uint8_t addr[16], uint16_t *port_be);
/* Inverse of parse_endpoint; buf holds at least ENDPOINT_STRLEN. */
#define ENDPOINT_STRLEN 64
void format_endpoint(char *buf, const uint8_t addr[16], uint16_t port_be);
bool endpoint_is_ipv4(const uint8_t addr[16]);
bool parse_dir(const char *s, uint8_t *dir);
const char *dir_name(uint8_t dir);

/* Pinned maps of the device. */
struct device_maps {
	int conns;
	int keys;
	int sw_conns;
	int config;
	int stats;
	int device;
	int rec_log;
	int resync_resp;
	int events;
	int tx_conns;
};
const char *pin_dir(void);
const char *run_dir(void);
/* Open every pinned map; exits with a clear message if the device is not
 * loaded (nothing pinned yet). */
void device_maps_open(struct device_maps *m);
void device_maps_close(struct device_maps *m);
/* Serialises control-plane changes between tlshim processes (capacity
 * check + insert, counter read-modify-write).  Returns the lock fd. */
int control_lock(void);
void control_unlock(int fd);

int read_config(const struct device_maps *m, struct tlshim_config *cfg);
/* The effective config: defaults filled in when the loader never wrote it. */
void effective_config(const struct tlshim_config *raw, struct tlshim_config *cfg);
int read_device(const struct device_maps *m, struct tlshim_device *dev);
int write_device(const struct device_maps *m, const struct tlshim_device *dev);
int read_counters(const struct device_maps *m, struct tlshim_counters *sum);

/* Cipher and version names as the CLI spells them. */
const char *cipher_name(uint16_t cipher);
const char *version_name(uint16_t version);
bool parse_cipher(const char *s, uint16_t *cipher);
bool parse_version(const char *s, uint16_t *version);
const char *sync_name(uint8_t sync);
const char *loss_name(uint8_t reason);
const char *policy_name(uint8_t policy);
bool parse_policy(const char *s, uint8_t *policy);

/* A tiny option scanner: "--name value" pairs and "--flag"s after the
 * positional words.  Unknown options are usage errors. */
struct opt {
	const char *name;	/* without the dashes; short alias below */
	const char *alias;	/* e.g. "j" for -j, or NULL */
	bool takes_value;
	const char *value;	/* filled in */
	bool seen;
};
/* Parses argv[first..argc); positional words go to pos (at most max_pos). */
int parse_opts(int argc, char **argv, struct opt *opts, const char **pos,
	       int max_pos, const char *what);
struct opt *opt_get(struct opt *opts, const char *name);

/* Zero a connection's keys in place, then delete its entries. */
void conn_remove(const struct device_maps *m, const struct tlshim_flow *flow);

/* One number `conn list` shows. */
struct conn_field {
	const char *name;
	unsigned long long value;
};
#define CONN_FIELDS_MAX 48

/* The TX side of a connection (user/conn_tx.c). */
int tx_conn_install(const struct device_maps *m, const struct tlshim_flow *flow,
		    __u16 version, __u16 cipher, __u32 start_seq, __u64 start_rec_sn,
		    bool enforce_drops);
/* Reads it consistently (BPF_F_LOCK); returns NULL if there is none. */
struct tlshim_tx_conn *tx_conn_read(const struct device_maps *m, const struct tlshim_flow *flow);
size_t tx_conn_fields(const struct tlshim_tx_conn *c, struct conn_field *f);

/* The counters as `tlshim stats` prints them (-j: one JSON line). */
void stats_print(const struct device_maps *m, bool json);

/* Subcommands. */
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_unload(int argc, char **argv);
int cmd_conn(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_resync(int argc, char **argv);
int cmd_timeline(int argc, char **argv);
int cmd_replay(int argc, char **argv);

#endif /* TLSHIM_COMMON_H */
