/*
 * loanflow: the master process. It reads the configuration, opens the FastCGI unix sockets and
 * supervises two pools of workers that run the same code: the main pool, and a small pool for
 * /login and /register running at a lower CPU priority, so that Argon2id hashing (about 75 ms a
 * verify, by design) can use every idle cycle without starving the rest of the API.
 *
 * Signals: SIGTERM/SIGINT drain (workers finish the request in hand, 10 s at most, then exit 0);
 * SIGHUP replaces workers one at a time, starting the new one before retiring the old, so the
 * socket always has an acceptor and no request fails; SIGCHLD restarts a worker that died.
 */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "epoch.h"
#include "log.h"
#include "routes.h"
#include "worker.h"

#define MAX_SLOTS     320
#define DRAIN_SECONDS 10

struct slot {
    pid_t pid;
    pid_t retiring; /* old worker being replaced during a SIGHUP roll */
    time_t started;
    int pool;          /* 0 main, 1 auth */
    int fast_deaths;   /* consecutive deaths within a second of starting */
    time_t not_before; /* restart back-off */
};

static struct slot slots[MAX_SLOTS];
static int nslots;
static int listen_fds[2] = {-1, -1};
static int pool_nice[2];

static int open_socket(const char *path)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "loanflow: socket path too long: %s\n", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    unlink(path);
    mode_t old = umask(0117);
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc != 0 || listen(fd, 1024) != 0) {
        fprintf(stderr, "loanflow: cannot listen on %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    /* The worker keeps the socket across exec-less forks; only CLOEXEC for safety elsewhere. */
    return fd;
}

static pid_t spawn(int pool)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_msg(LOG_ERROR, "fork failed: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* A worker must not outlive its master, even after a SIGKILL of the master. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGCHLD, SIG_DFL);
        if (pool_nice[pool] != 0 && setpriority(PRIO_PROCESS, 0, pool_nice[pool]) != 0)
            log_msg(LOG_WARN, "setpriority(%d) failed: %s", pool_nice[pool], strerror(errno));
        if (listen_fds[1 - pool] >= 0)
            close(listen_fds[1 - pool]);
        _exit(worker_run(listen_fds[pool], routes_table(), routes_statements()));
    }
    return pid;
}

static struct slot *slot_of(pid_t pid, int *retiring)
{
    for (int i = 0; i < nslots; i++) {
        if (slots[i].pid == pid) {
            *retiring = 0;
            return &slots[i];
        }
        if (slots[i].retiring == pid) {
            *retiring = 1;
            return &slots[i];
        }
    }
    return NULL;
}

static void start_slot(struct slot *s)
{
    s->pid = spawn(s->pool);
    s->started = time(NULL);
}

static void describe_exit(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "stopped (status %d)", status);
}

static void reap(int draining)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int retiring;
        struct slot *s = slot_of(pid, &retiring);
        if (s == NULL)
            continue;
        if (retiring) {
            s->retiring = 0;
            continue;
        }
        s->pid = 0;
        if (draining)
            continue;
        char how[96];
        describe_exit(status, how, sizeof(how));
        time_t now = time(NULL);
        s->fast_deaths = now - s->started < 1 ? s->fast_deaths + 1 : 0;
        /* A worker that keeps dying at start (bad socket, broken binary) is restarted with a
         * growing delay, capped at 5 s, instead of spinning the CPU. */
        s->not_before = s->fast_deaths > 3 ? now + (s->fast_deaths > 8 ? 5 : 1) : 0;
        log_msg(LOG_ERROR, "worker %d %s; restarting it%s", (int)pid, how,
                s->not_before ? " after a back-off" : "");
        if (!s->not_before)
            start_slot(s);
    }
}

static int any_alive(void)
{
    for (int i = 0; i < nslots; i++)
        if (slots[i].pid > 0 || slots[i].retiring > 0)
            return 1;
    return 0;
}

/* Replaces each worker in turn: start the new one, then ask the old one to drain, and wait for
 * it to leave before moving to the next, so capacity never drops by more than one. */
static void roll(sigset_t *set)
{
    log_msg(LOG_INFO, "SIGHUP: replacing %d workers one by one", nslots);
    for (int i = 0; i < nslots; i++) {
        struct slot *s = &slots[i];
        if (s->pid <= 0)
            continue;
        s->retiring = s->pid;
        start_slot(s);
        kill(s->retiring, SIGTERM);
        time_t deadline = time(NULL) + DRAIN_SECONDS;
        while (s->retiring > 0) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            int sig = sigtimedwait(set, NULL, &ts);
            if (sig == SIGCHLD || sig < 0)
                reap(0);
            else if (sig == SIGTERM || sig == SIGINT) {
                /* Finish the roll quickly and drain everything. */
                raise(sig);
                return;
            }
            if (s->retiring > 0 && time(NULL) >= deadline) {
                kill(s->retiring, SIGKILL);
                deadline = time(NULL) + 60;
            }
        }
    }
    log_msg(LOG_INFO, "SIGHUP: all workers replaced");
}

static void drain(sigset_t *set)
{
    log_msg(LOG_INFO, "draining: waiting up to %d s for requests in progress", DRAIN_SECONDS);
    for (int i = 0; i < nslots; i++) {
        if (slots[i].pid > 0)
            kill(slots[i].pid, SIGTERM);
        if (slots[i].retiring > 0)
            kill(slots[i].retiring, SIGTERM);
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (any_alive()) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        sigtimedwait(set, NULL, &ts);
        reap(1);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= DRAIN_SECONDS) {
            for (int i = 0; i < nslots; i++) {
                if (slots[i].pid > 0) {
                    log_msg(LOG_WARN, "worker %d did not drain in time; killing it",
                            (int)slots[i].pid);
                    kill(slots[i].pid, SIGKILL);
                }
                if (slots[i].retiring > 0)
                    kill(slots[i].retiring, SIGKILL);
            }
            while (waitpid(-1, NULL, 0) > 0) {
            }
            break;
        }
    }
}

int main(int argc, char **argv)
{
    char err[256];
    if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))) {
        printf("loanflow %s\n", LOANFLOW_VERSION);
        return 0;
    }
    if (config_load(err, sizeof(err)) != 0) {
        fprintf(stderr, "loanflow: configuration error: %s\n", err);
        return 2;
    }
    const struct config *cfg = config_get();
    /* LOGIN_WORKERS defaults to one login worker per core: Argon2id is memory-bound, and
     * measured here more concurrent hashers than cores lower login throughput (2 workers
     * 18.3/s, 3 16.9/s, 4 14.6/s). */
    int auth_workers = cfg->login_workers;
    pool_nice[1] = cfg->login_nice;
    const char *auth_sock = cfg->fcgi_auth_socket;
    if (auth_sock[0] == '\0')
        auth_workers = 0;
    if (cfg->workers + auth_workers > MAX_SLOTS) {
        fprintf(stderr, "loanflow: configuration error: too many workers\n");
        return 2;
    }
    if (log_open(cfg->log_file, cfg->log_stderr, (enum log_level)cfg->log_level) != 0) {
        fprintf(stderr, "loanflow: cannot open LOG_FILE %s: %s\n", cfg->log_file, strerror(errno));
        return 2;
    }
    /* The statement tables are checked here too, so a bad one stops the start instead of
     * every worker in turn. */
    if (db_init(cfg->database_url, routes_statements()) != 0)
        return 2;
    if (sodium_init() < 0) {
        log_msg(LOG_ERROR, "libsodium could not be initialised");
        return 1;
    }
    const char *epoch_file = cfg->epoch_file;
    if (epoch_file[0] != '\0' && epoch_open(epoch_file, 1) != 0) {
        log_msg(LOG_ERROR, "cannot map EPOCH_FILE %s: %s", epoch_file, strerror(errno));
        return 1;
    }
    if (auth_shared_init() != 0) {
        log_msg(LOG_ERROR, "cannot map the shared revocation epoch: %s", strerror(errno));
        return 1;
    }
    listen_fds[0] = open_socket(cfg->fcgi_socket);
    if (listen_fds[0] < 0)
        return 1;
    if (auth_workers > 0) {
        listen_fds[1] = open_socket(auth_sock);
        if (listen_fds[1] < 0)
            return 1;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    for (int i = 0; i < cfg->workers; i++)
        slots[nslots++].pool = 0;
    for (int i = 0; i < auth_workers; i++)
        slots[nslots++].pool = 1;
    for (int i = 0; i < nslots; i++)
        start_slot(&slots[i]);
    log_msg(LOG_INFO, "loanflow %s started: %d workers on %s, %d login workers%s%s",
            LOANFLOW_VERSION, cfg->workers, cfg->fcgi_socket, auth_workers,
            auth_workers ? " on " : "", auth_workers ? auth_sock : "");

    for (;;) {
        struct timespec ts = {1, 0};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            log_msg(LOG_INFO, "%s received", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            drain(&set);
            break;
        }
        if (sig == SIGHUP)
            roll(&set);
        reap(0);
        time_t now = time(NULL);
        for (int i = 0; i < nslots; i++)
            if (slots[i].pid == 0 && slots[i].not_before && now >= slots[i].not_before) {
                slots[i].not_before = 0;
                start_slot(&slots[i]);
            }
    }
    unlink(cfg->fcgi_socket);
    if (auth_workers > 0)
        unlink(auth_sock);
    log_msg(LOG_INFO, "loanflow stopped");
    return 0;
}
