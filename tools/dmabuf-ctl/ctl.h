/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dmabuf-ctl: inspect and drive dma-bufs, dmabuf-core's and the kernel's.
 * Pieces shared by the commands (main.c), the buffer listing (list.c) and
 * the escaping of what other users chose (escape.c).
 */
#ifndef DMABUF_CTL_H
#define DMABUF_CTL_H

#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#define DMABUF_NODE	"/dev/dmabuf"

/* Exit codes, documented in dmabuf-ctl(1). */
#define EXIT_OK		0	/* done */
#define EXIT_FAILED	1	/* the operation failed, or verify found a mismatch */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_NO_MODULE	3	/* dmabuf_core is not loaded (no /dev/dmabuf) */
#define EXIT_DENIED	4	/* permission denied */
#define EXIT_NO_TARGET	5	/* no such process or fd, or the fd is not a dma-buf */

/* Print "dmabuf-ctl: MESSAGE" to stderr and return @code. */
int ctl_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The exit code for a failed system call's errno. */
int ctl_errno_code(int err);

/* Open /dev/dmabuf (read-only suffices, as for dma-heaps) or return -exit code. */
int ctl_open_node(void);

/*
 * What /proc/PID/fdinfo/FD says of a dma-buf fd; fields absent stay empty.
 * The name is the kernel's last line and may hold newlines of its own: it
 * is all that follows "name:\t", but the final newline.
 */
struct ctl_fdinfo {
	unsigned long ino;
	uint64_t size;
	long count;
	char exp_name[64];
	char name[64];
};
int ctl_read_fdinfo(pid_t pid, int fd, struct ctl_fdinfo *info);	/* 0 / -errno */

/*
 * Whether the open file @fd is a dma-buf: a file of the kernel's dma-buf
 * filesystem (statfs magic DMA_BUF_MAGIC); its stat in *@st.  Asked of a
 * descriptor already taken, never of a path, so that what is checked is
 * what is used.
 */
int ctl_is_dmabuf(int fd, struct stat *st);

/*
 * A file descriptor of our own for a dma-buf named "FD" (ours) or
 * "PID:FD" (another process's, through pidfd_getfd(2), which needs the
 * right to ptrace it).  Returns the fd or -exit code, with a message.
 */
int ctl_target_fd(const char *spec);

/*
 * @s as text for a terminal: printable ASCII but the backslash as is, every
 * other byte as \xNN; cut at a whole escape to fit @len.  Returns @dst.
 * CTL_ESC(n) bytes hold the escape of any string shorter than n bytes.
 */
#define CTL_ESC(n)	(4 * (n) + 1)
char *ctl_escape(char *dst, size_t len, const char *s);

/* @s as a JSON string, in ASCII: \uXXXX escapes, U+FFFD for what is not UTF-8. */
void ctl_json_string(FILE *f, const char *s);

int ctl_cmd_list(int argc, char **argv);
int ctl_cmd_constrain(int argc, char **argv);

#endif /* DMABUF_CTL_H */
