/*
 * JSON-lines logger. Lines are assembled in a stack buffer with json-c's string escaping and
 * emitted with one write() per sink; a line that does not fit is truncated, never split.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int log_fd = -1;
static int log_to_stderr = 1;
static enum log_level log_min = LOG_INFO;

static const char *level_names[] = {"debug", "info", "warn", "error"};

int log_open(const char *path, int to_stderr, enum log_level min_level)
{
    log_to_stderr = to_stderr;
    log_min = min_level;
    if (path != NULL && path[0] != '\0') {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0)
            return -1;
        if (log_fd >= 0)
            close(log_fd);
        log_fd = fd;
    }
    return 0;
}

void log_close(void)
{
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
}

static void emit(json_object *o)
{
    const char *s =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t n = strlen(s);
    char line[4096];
    if (n > sizeof(line) - 1)
        n = sizeof(line) - 1;
    memcpy(line, s, n);
    line[n++] = '\n';
    if (log_fd >= 0 && write(log_fd, line, n) < 0) {
        /* Nowhere better to report a failing log; keep serving. */
    }
    if (log_to_stderr && write(STDERR_FILENO, line, n) < 0) {
    }
}

static void add_time(json_object *o)
{
    struct timeval tv;
    struct tm tm;
    char buf[40];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
    json_object_object_add(o, "time", json_object_new_string(buf));
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < log_min)
        return;
    int saved = errno;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_object *o = json_object_new_object();
    add_time(o);
    json_object_object_add(o, "level", json_object_new_string(level_names[level]));
    json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
    json_object_object_add(o, "msg", json_object_new_string(msg));
    emit(o);
    json_object_put(o);
    errno = saved;
}

void log_request(const struct log_request *r)
{
    json_object *o = json_object_new_object();
    add_time(o);
    json_object_object_add(o, "level", json_object_new_string(r->status >= 500 ? "error" : "info"));
    json_object_object_add(o, "request_id",
                           json_object_new_string(r->request_id ? r->request_id : "-"));
    json_object_object_add(o, "method", json_object_new_string(r->method ? r->method : "-"));
    json_object_object_add(o, "path", json_object_new_string(r->path ? r->path : "-"));
    json_object_object_add(o, "status", json_object_new_int(r->status));
    json_object_object_add(o, "duration_us", json_object_new_int64(r->duration_us));
    if (r->auth_us >= 0)
        json_object_object_add(o, "auth_us", json_object_new_int64(r->auth_us));
    if (r->identity_us >= 0)
        json_object_object_add(o, "identity_us", json_object_new_int64(r->identity_us));
    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)r->bytes));
    json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
    if (r->remote_addr)
        json_object_object_add(o, "remote_addr", json_object_new_string(r->remote_addr));
    if (r->user_id > 0)
        json_object_object_add(o, "user_id", json_object_new_int64(r->user_id));
    if (r->error_detail)
        json_object_object_add(o, "error", json_object_new_string(r->error_detail));
    emit(o);
    json_object_put(o);
}
