// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-ctl: printing what other users chose.
 *
 * Buffer names (any holder of a dma-buf fd may set one), the comm of
 * processes and the paths in /proc are chosen by whoever runs those
 * processes, and dmabuf-ctl is often run by root at a terminal.  Nothing of
 * theirs reaches the output unescaped: in text, every byte that is not
 * printable ASCII, and the backslash, becomes \xNN (so the text is ASCII and
 * says exactly which bytes were there); in JSON, every character outside
 * printable ASCII becomes \uXXXX, and bytes that are not UTF-8 become
 * U+FFFD, so the document is valid JSON in plain ASCII.
 */
#include <stdint.h>
#include <string.h>

#include "ctl.h"

char *ctl_escape(char *dst, size_t len, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = *s;

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (n + 1 >= len)
				break;
			dst[n++] = c;
			continue;
		}
		/* Whole escapes only: a cut one could end in a lone backslash. */
		if (n + 4 >= len)
			break;
		dst[n++] = '\\';
		dst[n++] = 'x';
		dst[n++] = hex[c >> 4];
		dst[n++] = hex[c & 15];
	}
	if (len)
		dst[n] = 0;
	return dst;
}

/*
 * The code point of the UTF-8 sequence at @s, its length in *@len; -1 (and
 * *@len 1) for a byte that does not start a well-formed sequence: a stray
 * continuation byte, a cut sequence, an overlong form, a surrogate or a
 * value above U+10FFFF.
 */
static long utf8_next(const unsigned char *s, int *len)
{
	static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	long cp;
	int n, i;

	*len = 1;
	if (s[0] < 0x80)
		return s[0];
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return -1;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = n;
	return cp;
}

void ctl_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long cp;
	int n;

	fputc('"', f);
	while (*p) {
		cp = utf8_next(p, &n);
		p += n;
		if (cp < 0)
			cp = 0xfffd;
		if (cp == '"' || cp == '\\') {
			fprintf(f, "\\%c", (int)cp);
		} else if (cp >= 0x20 && cp < 0x7f) {
			fputc((int)cp, f);
		} else if (cp < 0x10000) {
			fprintf(f, "\\u%04lx", cp);
		} else {
			cp -= 0x10000;
			fprintf(f, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
		}
	}
	fputc('"', f);
}
