/*
 * The baseline of make bench: the least a libfcgi worker can do. It forks the same number of
 * processes as the service's pool (HELLO_WORKERS) on one unix socket and answers every request
 * with a fixed JSON body, so the ratio service/hello measures only what the service adds.
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: hello SOCKET_PATH\n");
        return 2;
    }
    const char *w = getenv("HELLO_WORKERS");
    int workers = w ? atoi(w) : 4;
    if (workers < 1 || workers > 256)
        workers = 4;
    unlink(argv[1]);
    FCGX_Init();
    umask(0117);
    int fd = FCGX_OpenSocket(argv[1], 1024);
    if (fd < 0) {
        fprintf(stderr, "hello: cannot listen on %s\n", argv[1]);
        return 1;
    }
    for (int i = 0; i < workers; i++) {
        if (fork() == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            FCGX_Request req;
            FCGX_InitRequest(&req, fd, 0);
            static const char resp[] = "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
                                       "{\"status\":\"ok\"}";
            while (FCGX_Accept_r(&req) >= 0) {
                FCGX_PutStr(resp, (int)sizeof(resp) - 1, req.out);
                FCGX_Finish_r(&req);
            }
            _exit(0);
        }
    }
    signal(SIGTERM, SIG_DFL);
    while (wait(NULL) > 0) {
    }
    return 0;
}
