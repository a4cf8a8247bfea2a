// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pngstat FILE.png [RRGGBB...]: what a screenshot holds, for tests that
 * must tell a drawn figure from a blank page.  Prints
 *   width W / height H / colors N (distinct RGB) / nonwhite N (pixels)
 * and for each RRGGBB given, "RRGGBB N": pixels within 12 of it in every
 * channel.  Decodes 8-bit RGB and RGBA PNGs without interlace (what
 * Chromium's --screenshot writes) with zlib; anything else is an error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define NEAR 12

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void die(const char *file, const char *why)
{
	fprintf(stderr, "pngstat: %s: %s\n", file, why);
	exit(1);
}

static uint8_t *slurp(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		die(file, "cannot open");
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 1 << 16;
			buf = realloc(buf, cap);
			if (!buf)
				die(file, "out of memory");
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	*len = n;
	return buf;
}

static int paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

int main(int argc, char **argv)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	uint8_t *png, *idat = NULL, *raw, *seen;
	size_t len, idat_len = 0, pos = 8, bpp = 0, stride, nonwhite = 0, colors = 0;
	uint32_t width = 0, height = 0;
	unsigned long targets[16], near[16] = { 0 };
	int ntargets = argc - 2;
	uLongf raw_len;

	if (argc < 2 || ntargets > 16) {
		fprintf(stderr, "usage: pngstat FILE.png [RRGGBB...] (at most 16)\n");
		return 2;
	}
	for (int t = 0; t < ntargets; t++) {
		char *end;

		targets[t] = strtoul(argv[t + 2], &end, 16);
		if (strlen(argv[t + 2]) != 6 || *end) {
			fprintf(stderr, "pngstat: bad color '%s' (RRGGBB)\n", argv[t + 2]);
			return 2;
		}
	}
	png = slurp(argv[1], &len);
	if (len < 8 || memcmp(png, sig, 8))
		die(argv[1], "not a PNG");
	while (pos + 12 <= len) {
		uint32_t clen = be32(png + pos);
		const uint8_t *type = png + pos + 4, *data = png + pos + 8;

		if (clen > len - pos - 12)
			die(argv[1], "truncated chunk");
		if (!memcmp(type, "IHDR", 4)) {
			if (clen != 13)
				die(argv[1], "bad IHDR");
			width = be32(data);
			height = be32(data + 4);
			if (data[8] != 8 || (data[9] != 2 && data[9] != 6) || data[12])
				die(argv[1], "not 8-bit RGB/RGBA without interlace");
			bpp = data[9] == 6 ? 4 : 3;
		} else if (!memcmp(type, "IDAT", 4)) {
			idat = realloc(idat, idat_len + clen + 1);
			if (!idat)
				die(argv[1], "out of memory");
			memcpy(idat + idat_len, data, clen);
			idat_len += clen;
		} else if (!memcmp(type, "IEND", 4)) {
			break;
		}
		pos += clen + 12;
	}
	if (!bpp || !width || !height || width > 20000 || height > 100000)
		die(argv[1], "no usable IHDR");
	stride = (size_t)width * bpp;
	raw_len = (stride + 1) * height;
	raw = malloc(raw_len);
	if (!raw || uncompress(raw, &raw_len, idat, idat_len) != Z_OK ||
	    raw_len != (stride + 1) * height)
		die(argv[1], "bad image data");

	/* undo the per-row filters in place */
	for (uint32_t y = 0; y < height; y++) {
		uint8_t *row = raw + y * (stride + 1) + 1, *up = y ? row - stride - 1 : NULL;
		uint8_t filter = row[-1];

		if (filter > 4)
			die(argv[1], "bad filter");
		for (size_t i = 0; i < stride; i++) {
			int a = i >= bpp ? row[i - bpp] : 0, b = up ? up[i] : 0;
			int c = up && i >= bpp ? up[i - bpp] : 0;

			switch (filter) {
			case 1: row[i] += a; break;
			case 2: row[i] += b; break;
			case 3: row[i] += (a + b) / 2; break;
			case 4: row[i] += paeth(a, b, c); break;
			}
		}
	}
	seen = calloc(1 << 21, 1);
	if (!seen)
		die(argv[1], "out of memory");
	for (uint32_t y = 0; y < height; y++)
		for (uint32_t x = 0; x < width; x++) {
			const uint8_t *p = raw + y * (stride + 1) + 1 + x * bpp;
			uint32_t rgb = (uint32_t)p[0] << 16 | p[1] << 8 | p[2];

			if (!(seen[rgb >> 3] & 1 << (rgb & 7))) {
				seen[rgb >> 3] |= 1 << (rgb & 7);
				colors++;
			}
			nonwhite += rgb != 0xffffff;
			for (int t = 0; t < ntargets; t++)
				near[t] += abs(p[0] - (int)(targets[t] >> 16)) <= NEAR &&
					   abs(p[1] - (int)(targets[t] >> 8 & 0xff)) <= NEAR &&
					   abs(p[2] - (int)(targets[t] & 0xff)) <= NEAR;
		}
	printf("width %u\nheight %u\ncolors %zu\nnonwhite %zu\n", width, height, colors, nonwhite);
	for (int t = 0; t < ntargets; t++)
		printf("%06lx %lu\n", targets[t], near[t]);
	free(seen);
	free(raw);
	free(idat);
	free(png);
	return 0;
}
