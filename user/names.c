// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Endpoints, directions, ciphers, versions and states as users spell them. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

static const uint8_t v4_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

bool endpoint_is_ipv4(const uint8_t addr[16])
{
	return !memcmp(addr, v4_mapped_prefix, sizeof(v4_mapped_prefix));
}

bool parse_endpoint(const char *s, uint8_t addr[16], uint16_t *port_be)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	uint64_t port;
	size_t hlen;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return false;
		hlen = close - s - 1;
		colon = close + 1;
		if (hlen >= sizeof(host))
			return false;
		memcpy(host, s + 1, hlen);
		host[hlen] = 0;
		if (inet_pton(AF_INET6, host, addr) != 1)
			return false;
	} else {
		struct in_addr a4;

		colon = strrchr(s, ':');
		if (!colon)
			return false;
		hlen = colon - s;
		if (hlen >= sizeof(host))
			return false;
		memcpy(host, s, hlen);
		host[hlen] = 0;
		if (inet_pton(AF_INET, host, &a4) != 1)
			return false;
		memcpy(addr, v4_mapped_prefix, 12);
		memcpy(addr + 12, &a4, 4);
	}
	if (!parse_u64(colon + 1, 65535, &port) || port == 0)
		return false;
	*port_be = htons(port);
	return true;
}

void format_endpoint(char *buf, const uint8_t addr[16], uint16_t port_be)
{
	char host[INET6_ADDRSTRLEN];

	if (endpoint_is_ipv4(addr)) {
		inet_ntop(AF_INET, addr + 12, host, sizeof(host));
		snprintf(buf, ENDPOINT_STRLEN, "%s:%u", host, ntohs(port_be));
	} else {
		inet_ntop(AF_INET6, addr, host, sizeof(host));
		snprintf(buf, ENDPOINT_STRLEN, "[%s]:%u", host, ntohs(port_be));
	}
}

bool parse_dir(const char *s, uint8_t *dir)
{
	if (!strcmp(s, "rx"))
		*dir = TLSHIM_DIR_RX;
	else if (!strcmp(s, "tx"))
		*dir = TLSHIM_DIR_TX;
	else
		return false;
	return true;
}

const char *dir_name(uint8_t dir)
{
	return dir == TLSHIM_DIR_TX ? "tx" : "rx";
}

static const struct {
	uint16_t id;
	const char *name;
} ciphers[] = {
	{ TLSHIM_CIPHER_AES_GCM_128, "aes-gcm-128" },
	{ TLSHIM_CIPHER_AES_GCM_256, "aes-gcm-256" },
	{ TLSHIM_CIPHER_CHACHA20_POLY1305, "chacha20-poly1305" },
};

const char *cipher_name(uint16_t cipher)
{
	for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (ciphers[i].id == cipher)
			return ciphers[i].name;
	return "unknown";
}

bool parse_cipher(const char *s, uint16_t *cipher)
{
	for (size_t i = 0; i < sizeof(ciphers) / sizeof(ciphers[0]); i++)
		if (!strcmp(ciphers[i].name, s)) {
			*cipher = ciphers[i].id;
			return true;
		}
	return false;
}

const char *version_name(uint16_t version)
{
	return version == TLSHIM_TLS_1_3 ? "1.3" : version == TLSHIM_TLS_1_2 ? "1.2" : "unknown";
}

bool parse_version(const char *s, uint16_t *version)
{
	if (!strcmp(s, "1.2"))
		*version = TLSHIM_TLS_1_2;
	else if (!strcmp(s, "1.3"))
		*version = TLSHIM_TLS_1_3;
	else
		return false;
	return true;
}

const char *sync_name(uint8_t sync)
{
	switch (sync) {
	case TLSHIM_SYNC_IN_SYNC: return "in-sync";
	case TLSHIM_SYNC_LOST: return "lost";
	case TLSHIM_SYNC_SCANNING: return "scanning";
	case TLSHIM_SYNC_TRACKING: return "tracking";
	case TLSHIM_SYNC_REQUESTED: return "requested";
	default: return "none";
	}
}

const char *loss_name(uint8_t reason)
{
	switch (reason) {
	case TLSHIM_LOSS_GAP: return "gap";
	case TLSHIM_LOSS_BAD_HEADER: return "bad-header";
	default: return "none";
	}
}

static const char *const policies[] = {
	[TLSHIM_RESYNC_STREAM_SCAN] = "stream-scan",
	[TLSHIM_RESYNC_ASYNC] = "async",
	[TLSHIM_RESYNC_NEXT_HINT] = "next-hint",
	[TLSHIM_RESYNC_NONE] = "none",
};

const char *policy_name(uint8_t policy)
{
	return policy < sizeof(policies) / sizeof(policies[0]) ? policies[policy] : "unknown";
}

bool parse_policy(const char *s, uint8_t *policy)
{
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (!strcmp(s, policies[i])) {
			*policy = i;
			return true;
		}
	return false;
}
