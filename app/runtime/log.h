/*
 * Structured logging: one JSON object per line, written with a single write(2) per sink so that
 * lines from concurrent workers never interleave (O_APPEND on the file, a pipe or tty on stderr).
 * Nothing here ever receives a request body, a password or a token: callers pass fields by name.
 */
#ifndef LOANFLOW_LOG_H
#define LOANFLOW_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Opens the log file (append) if path is non-empty; to_stderr also copies lines to fd 2.
 * Returns 0, or -1 with errno set when the file cannot be opened. */
int log_open(const char *path, int to_stderr, enum log_level min_level);
void log_close(void);

/* A free-form event: {"time":…,"level":…,"pid":…,"msg":…}. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct log_request {
    const char *request_id;
    const char *method;
    const char *path;
    const char *remote_addr;
    int status;
    long duration_us;
    long auth_us;     /* time spent verifying the token, -1 when the route is public */
    long identity_us; /* submit: validation, eKYC/bureau providers and scoring, -1 otherwise */
    size_t bytes;
    long long user_id;        /* 0 when anonymous */
    const char *error_detail; /* server-side detail of a 5xx, or NULL */
};
void log_request(const struct log_request *r);

#endif
