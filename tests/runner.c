/* ember_tests: runs every registered case once per backend present, each in a forked child, so a
 * crash, an abort or a hang is one failed case and the rest still run.
 *
 *   ember_tests [options] [filter...]
 *     filter         run the cases whose name or file contains any filter (substring)
 *     --backend B    cpu or cuda only (default: cpu, plus cuda when libafcuda.so.3 is built)
 *     -j N, --jobs N run up to N cases at once (default 1; 0 for the number of online CPUs)
 *     --no-fork      run in this process (for gdb and compute-sanitizer); a crash ends the run
 *                    and -j is ignored
 *     --list         print the selected cases and exit
 *     -v, --verbose  print passing cases, every failed check and a failed case's output
 *   Environment: EMBER_TEST_TIMEOUT, the seconds a case may run (default 120; 0 for no limit);
 *   EMBER_TEST_JOBS, the default of -j.
 *
 * The parent never calls into Ember: whether CUDA works is asked in a child too, because a
 * process that has initialised CUDA cannot use it in a forked child. Output: one line per failed
 * or skipped case, a summary per backend, and last `N passed, N failed, N skipped`. The exit
 * status is 1 when a case failed, 2 on bad usage, 0 otherwise.
 *
 * With -j, each running child has a slot: its own report pipe, its own capture file for what it
 * prints, and its own deadline. Results are printed in registration order whatever order the
 * cases end in, so the output does not depend on -j (only the timings do). Concurrency exists
 * for the CUDA backend, whose cases spend most of their time compiling kernels with NVRTC on one
 * CPU core each. */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef EMBER_TEST_CUDA_BUILT
#define EMBER_TEST_CUDA_BUILT 0
#endif

typedef struct {
    const char **filters;
    int nfilters;
    int only; /* 0, AF_BACKEND_CPU or AF_BACKEND_CUDA */
    bool no_fork, list, verbose;
    double timeout;
    int jobs; /* cases run at once, 1 to EM_MAX_JOBS */
} em_opts;

typedef struct {
    int passed, failed, skipped;
    double seconds;
} em_tally;

typedef struct {
    int outcome;
    char reason[1200];
    int nfail;    /* failed checks reported */
    char *report; /* every report line, for -v */
    char *output; /* what the case printed, for -v and crash reasons */
    double seconds;
} em_result;

/* More concurrent cases than this only costs file descriptors: each slot holds two. */
#define EM_MAX_JOBS 256

/* The process group of the child in each slot, 0 when the slot is free, for the SIGINT/SIGTERM
 * handler. Slot 0 also serves the CUDA probe, which runs while no case does. */
static volatile sig_atomic_t em_child_pgids[EM_MAX_JOBS];

static double em_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A growable string. */
typedef struct {
    char *p;
    size_t n, cap;
} em_str;

static void em_str_add(em_str *s, const char *data, size_t n) {
    if (s->n + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->n + n + 1)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p) return;
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->n, data, n);
    s->n += n;
    s->p[s->n] = '\0';
}

static const char *em_signal_name(int sig) {
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGABRT:
        return "SIGABRT";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGILL:
        return "SIGILL";
    case SIGKILL:
        return "SIGKILL";
    case SIGTERM:
        return "SIGTERM";
    case SIGINT:
        return "SIGINT";
    case SIGTRAP:
        return "SIGTRAP";
    case SIGSYS:
        return "SIGSYS";
    case SIGPIPE:
        return "SIGPIPE";
    case SIGALRM:
        return "SIGALRM";
    case SIGXCPU:
        return "SIGXCPU";
    case SIGXFSZ:
        return "SIGXFSZ";
    case SIGUSR1:
        return "SIGUSR1";
    case SIGUSR2:
        return "SIGUSR2";
    }
    return "signal";
}

static const char *em_backend_name(af_backend b) {
    return b == AF_BACKEND_CUDA ? "cuda" : "cpu";
}

/* Seconds case c may run: the runner's limit, or the case's own when it declares a longer one. */
static double em_case_limit(const em_opts *o, const em_test_case *c) {
    return c->limit > o->timeout ? c->limit : o->timeout;
}

static bool em_selected(const em_test_case *c, const em_opts *o) {
    if (o->nfilters == 0) return true;
    const char *slash = strrchr(c->file, '/');
    const char *file = slash ? slash + 1 : c->file;
    for (int i = 0; i < o->nfilters; i++)
        if (strstr(c->name, o->filters[i]) || strstr(file, o->filters[i])) return true;
    return false;
}

/* The first line of a case's output that explains a crash: a sanitizer report, a failed assert,
 * or CUDA's complaint. */
static void em_crash_line(const char *output, char *out, size_t cap) {
    static const char *const keys[] = {
        "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "Assertion", "ERROR:",
        "terminate called",        "CUDA error",           "error:"};
    out[0] = '\0';
    if (!output) return;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const char *hit = strstr(output, keys[k]);
        if (!hit) continue;
        const char *start = hit;
        while (start > output && start[-1] != '\n')
            start--;
        /* Sanitizers start their lines with "==pid==". */
        if (start[0] == '=' && start[1] == '=') {
            const char *close = strstr(start + 2, "==");
            if (close && close < hit) start = close + 2;
        }
        const char *end = strchr(hit, '\n');
        size_t n = end ? (size_t)(end - start) : strlen(start);
        if (n > 240) n = 240;
        snprintf(out, cap, "%.*s", (int)n, start);
        return;
    }
}

/* Reads the child's report pipe until EOF or the deadline, then waits for the child until the
 * deadline. Returns false when the deadline passed; the child's process group is then killed. */
static bool em_collect(pid_t pid, int fd, double deadline, em_str *report, int *status) {
    char buf[4096];
    for (;;) {
        int ms = -1;
        if (deadline > 0) {
            double left = deadline - em_now();
            if (left <= 0) break;
            ms = (int)(left * 1000) + 1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, ms);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* EOF: the child exited or closed the pipe */
        em_str_add(report, buf, (size_t)n);
    }
    for (;;) {
        pid_t w = waitpid(pid, status, deadline > 0 ? WNOHANG : 0);
        if (w == pid) return true;
        if (w < 0 && errno != EINTR) return true;
        if (deadline > 0 && em_now() >= deadline) break;
        if (w == 0) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    return false;
}

static void em_read_file(int fd, em_str *out) {
    char buf[4096];
    ssize_t n;
    if (lseek(fd, 0, SEEK_SET) < 0) return;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        em_str_add(out, buf, (size_t)n);
}

/* Forks a child in its own process group, recorded in em_child_pgids[slot] for the signal
 * handler. SIGINT and SIGTERM stay blocked from before the fork until the group is recorded, so
 * an interrupt cannot slip in between and leave the child running; the child gets them back with
 * their default action. */
static pid_t em_fork(int slot) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return 0;
    }
    if (pid > 0) {
        setpgid(pid, pid);
        em_child_pgids[slot] = pid;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return pid;
}

/* Classifies how a forked case ended from its report, its output and its wait status. `ended` is
 * false when it was killed at the deadline. */
static void em_classify(em_result *res, const char *report, const char *output, int status,
                        bool ended) {
    /* The report: "F where: what" per failed check, "S reason" for a skip. */
    const char *first_fail = NULL, *skip = NULL;
    size_t first_len = 0, skip_len = 0;
    for (const char *line = report; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len >= 2 && line[0] == 'F') {
            if (!first_fail) first_fail = line + 2, first_len = len - 2;
            res->nfail++;
        } else if (len >= 2 && line[0] == 'S' && !skip) {
            skip = line + 2, skip_len = len - 2;
        }
        line = nl ? nl + 1 : NULL;
    }
    char crash[256];
    em_crash_line(output, crash, sizeof(crash));
    char more[48] = "";
    if (res->nfail > 1) snprintf(more, sizeof(more), " (+%d more)", res->nfail - 1);

    if (!ended) {
        res->outcome = EM_TEST_FAIL;
        snprintf(res->reason, sizeof(res->reason), "timed out after %.0f s (killed)%s%.*s",
                 res->seconds, first_fail ? "; " : "", (int)first_len,
                 first_fail ? first_fail : "");
    } else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        res->outcome = EM_TEST_FAIL;
        snprintf(res->reason, sizeof(res->reason), "killed by %s (%s)%s%s%s%.*s",
                 em_signal_name(sig), strsignal(sig), crash[0] ? ": " : "", crash,
                 first_fail ? "; first failure: " : "", (int)first_len,
                 first_fail ? first_fail : "");
    } else {
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (first_fail || code == EM_TEST_FAIL) {
            res->outcome = EM_TEST_FAIL;
            if (first_fail)
                snprintf(res->reason, sizeof(res->reason), "%.*s%s", (int)first_len, first_fail,
                         more);
            else
                snprintf(res->reason, sizeof(res->reason), "exited with status %d%s%s", code,
                         crash[0] ? ": " : "", crash);
            if (first_fail && code != EM_TEST_FAIL && code != EM_TEST_PASS) {
                size_t used = strlen(res->reason);
                snprintf(res->reason + used, sizeof(res->reason) - used, "; exited with status %d",
                         code);
            }
        } else if (code == EM_TEST_PASS) {
            res->outcome = EM_TEST_PASS;
        } else if (code == EM_TEST_SKIP) {
            res->outcome = EM_TEST_SKIP;
            snprintf(res->reason, sizeof(res->reason), "%.*s", (int)skip_len,
                     skip ? skip : "(no reason given)");
        } else {
            res->outcome = EM_TEST_FAIL;
            snprintf(res->reason, sizeof(res->reason), "exited with status %d%s%s", code,
                     crash[0] ? ": " : "", crash);
        }
    }
}

/* One running forked case. */
typedef struct {
    pid_t pid;     /* 0 when the slot is free */
    int fd;        /* read end of the report pipe, non-blocking; -1 once it reached EOF */
    FILE *capture; /* what the child prints; made on first use and reused by each case */
    size_t index;  /* the case, in registration order */
    double start, deadline;
    em_str report;
} em_slot;

/* Reads what the report pipe holds without blocking, at most max_reads times so that a child
 * that reports without end cannot keep the runner from its other children and deadlines. */
static void em_drain(em_slot *s, int max_reads) {
    char buf[4096];
    for (int i = 0; s->fd >= 0 && i < max_reads; i++) {
        ssize_t n = read(s->fd, buf, sizeof(buf));
        if (n > 0) {
            em_str_add(&s->report, buf, (size_t)n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else { /* EOF: the child exited or closed the pipe */
            close(s->fd);
            s->fd = -1;
        }
    }
}

/* Starts case c in slots[k]. Returns false, with res filled in, when it could not be started. */
static bool em_start(em_slot *slots, int nslots, int k, size_t index, const em_test_case *c,
                     af_backend b, const em_opts *o, em_result *res) {
    em_slot *s = &slots[k];
    int pipefd[2];
    memset(res, 0, sizeof(*res));
    double start = em_now();
    if (!s->capture) s->capture = tmpfile();
    int capture_fd = s->capture ? fileno(s->capture) : -1;
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        res->outcome = EM_TEST_FAIL;
        snprintf(res->reason, sizeof(res->reason), "runner: pipe failed: %s", strerror(errno));
        return false;
    }
    /* Only the runner's end is non-blocking: the child must wait on a full pipe, not drop lines. */
    fcntl(pipefd[0], F_SETFL, fcntl(pipefd[0], F_GETFL) | O_NONBLOCK);
    if (capture_fd >= 0) {
        if (ftruncate(capture_fd, 0) != 0) { /* a stale capture only adds noise */
        }
        lseek(capture_fd, 0, SEEK_SET);
    }
    pid_t pid = em_fork(k);
    if (pid < 0) {
        res->outcome = EM_TEST_FAIL;
        snprintf(res->reason, sizeof(res->reason), "runner: fork failed: %s", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        return false;
    }
    if (pid == 0) {
        /* The other slots' pipes and files belong to other cases. */
        for (int j = 0; j < nslots; j++) {
            if (j == k) continue;
            if (slots[j].pid && slots[j].fd >= 0) close(slots[j].fd);
            if (slots[j].capture) close(fileno(slots[j].capture));
        }
        close(pipefd[0]);
        if (capture_fd >= 0) {
            dup2(capture_fd, STDOUT_FILENO);
            dup2(capture_fd, STDERR_FILENO);
        }
        int r = em_test_run_case(c, b, pipefd[1], "");
        fflush(NULL);
        exit(r);
    }
    close(pipefd[1]);
    s->pid = pid;
    s->fd = pipefd[0];
    s->index = index;
    s->start = start;
    s->deadline = o->timeout > 0 ? start + em_case_limit(o, c) : 0;
    s->report = (em_str){0};
    return true;
}

/* Ends the case in slot k, whose child has been reaped (ended) or killed at its deadline, and
 * frees the slot. */
static void em_finish(em_slot *slots, int k, int status, bool ended, em_result *res) {
    em_slot *s = &slots[k];
    em_child_pgids[k] = 0;
    /* What the child wrote before it ended is all in the pipe; a grandchild that still holds the
     * write end must not keep the case from ending, so read only what is there. */
    em_drain(s, 1 << 10);
    if (s->fd >= 0) close(s->fd);
    res->seconds = em_now() - s->start;
    em_str output = {0};
    if (s->capture) em_read_file(fileno(s->capture), &output);
    em_classify(res, s->report.p, output.p, status, ended);
    res->report = s->report.p;
    res->output = output.p;
    s->report = (em_str){0};
    s->pid = 0;
    s->fd = -1;
}

/* Waits a little for the running children: drains the report pipes that have data, reaps the
 * children that exited and kills those past their deadline. Every case that ended gets its
 * result in results[] and its flag in done[]. Returns how many ended. Sleeps in poll() until a
 * pipe has data or closes (a child closes its pipe when it exits), for at most 50 ms or until the
 * nearest deadline, and for 1 ms while a child whose pipe closed has not been reaped yet. */
static int em_wait(em_slot *slots, int nslots, em_result *results, bool *done) {
    struct pollfd pfd[EM_MAX_JOBS];
    int of[EM_MAX_JOBS];
    int np = 0, ms = 50;
    double now = em_now();
    for (int k = 0; k < nslots; k++) {
        em_slot *s = &slots[k];
        if (!s->pid) continue;
        if (s->fd >= 0) {
            pfd[np] = (struct pollfd){.fd = s->fd, .events = POLLIN};
            of[np++] = k;
        } else if (ms > 1) {
            ms = 1;
        }
        if (s->deadline > 0) {
            double left = (s->deadline - now) * 1000 + 1;
            if (left < ms) ms = left > 0 ? (int)left : 0;
        }
    }
    if (poll(pfd, (nfds_t)np, ms) > 0)
        for (int i = 0; i < np; i++)
            if (pfd[i].revents) em_drain(&slots[of[i]], 16);

    int ended_now = 0;
    for (int k = 0; k < nslots; k++) {
        em_slot *s = &slots[k];
        if (!s->pid) continue;
        int status = 0;
        bool ended = true;
        pid_t w = waitpid(s->pid, &status, WNOHANG);
        if (w == 0 || (w < 0 && errno == EINTR)) {
            if (s->deadline <= 0 || em_now() < s->deadline) continue;
            kill(-s->pid, SIGKILL);
            kill(s->pid, SIGKILL);
            while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR) {
            }
            ended = false;
        }
        size_t i = s->index;
        em_finish(slots, k, status, ended, &results[i]);
        done[i] = true;
        ended_now++;
    }
    return ended_now;
}

static void em_print_indented(const char *text, const char *mark) {
    if (!text) return;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        printf("    %s%.*s\n", mark, (int)len, line);
        line = nl ? nl + 1 : line + len;
    }
}

static void em_print_result(const em_test_case *c, af_backend b, const em_result *r,
                            const em_opts *o) {
    const char *bn = em_backend_name(b);
    if (r->outcome == EM_TEST_PASS) {
        if (o->verbose) printf("PASS [%s] %s (%.3f s)\n", bn, c->name, r->seconds);
        return;
    }
    printf("%s [%s] %s: %s\n", r->outcome == EM_TEST_FAIL ? "FAIL" : "SKIP", bn, c->name,
           r->reason);
    if (o->verbose && r->outcome == EM_TEST_FAIL) {
        if (r->nfail > 1 && r->report) {
            for (const char *line = r->report; *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                if (len > 2 && line[0] == 'F') printf("    %.*s\n", (int)len - 2, line + 2);
                line = nl ? nl + 1 : line + len;
            }
        }
        if (r->output && r->output[0]) em_print_indented(r->output, "| ");
    }
    fflush(stdout);
}

/* Whether the CUDA backend loads and has a device, asked in a child so that this process never
 * initialises CUDA (a forked child of a CUDA process cannot use CUDA). */
static bool em_cuda_available(const em_opts *o, char *why, size_t cap) {
    snprintf(why, cap, "no CUDA device");
    if (o->no_fork) {
        if (af_set_backend(AF_BACKEND_CUDA) == AF_SUCCESS) return true;
        char *msg = NULL;
        dim_t len = 0;
        af_get_last_error(&msg, &len);
        if (msg && o->verbose) printf("cuda: %s\n", msg);
        af_free_host(msg);
        return false;
    }
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) return false;
    pid_t pid = em_fork(0);
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return false;
    }
    if (pid == 0) {
        close(pipefd[0]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            dup2(devnull, STDERR_FILENO);
        }
        if (af_set_backend(AF_BACKEND_CUDA) == AF_SUCCESS) _exit(0);
        char *msg = NULL;
        dim_t len = 0;
        af_get_last_error(&msg, &len);
        if (msg && write(pipefd[1], msg, strlen(msg)) < 0) {
        }
        _exit(1);
    }
    close(pipefd[1]);
    em_str msg = {0};
    int status = 0;
    double deadline = o->timeout > 0 ? em_now() + o->timeout : 0;
    bool ended = em_collect(pid, pipefd[0], deadline, &msg, &status);
    em_child_pgids[0] = 0;
    close(pipefd[0]);
    bool ok = ended && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && o->verbose)
        printf("cuda: %s\n", !ended                ? "the probe timed out"
                             : msg.p               ? msg.p
                             : WIFSIGNALED(status) ? "the probe crashed"
                                                   : "unavailable");
    free(msg.p);
    return ok;
}

static void em_on_signal(int sig) {
    for (int k = 0; k < EM_MAX_JOBS; k++)
        if (em_child_pgids[k] > 0) kill(-(pid_t)em_child_pgids[k], SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void em_usage(FILE *f) {
    fprintf(f,
            "usage: ember_tests [--backend cpu|cuda] [-j N] [--no-fork] [--list] [-v] [filter...]\n"
            "  filter: run the cases whose name or file contains it\n"
            "  -j N, --jobs N: run up to N cases at once (default 1, 0 for the number of CPUs,\n"
            "    at most %d); results still print in registration order; --no-fork ignores it\n"
            "  EMBER_TEST_TIMEOUT: seconds per case (default 120, 0 for none)\n"
            "  EMBER_TEST_JOBS: the default of -j\n",
            EM_MAX_JOBS);
}

static void em_count(em_tally *t, const em_result *r) {
    if (r->outcome == EM_TEST_PASS)
        t->passed++;
    else if (r->outcome == EM_TEST_SKIP)
        t->skipped++;
    else
        t->failed++;
}

/* Runs the cases in forked children, up to nslots at once, and prints each result once every case
 * before it has been printed. */
static void em_run_forked(af_backend b, const em_test_case **cases, size_t n, const em_opts *o,
                          em_slot *slots, int nslots, em_tally *t) {
    em_result *results = calloc(n ? n : 1, sizeof(*results));
    bool *done = calloc(n ? n : 1, sizeof(*done));
    if (!results || !done) {
        fprintf(stderr, "ember_tests: out of memory\n");
        exit(2);
    }
    size_t next = 0, printed = 0;
    int running = 0;
    for (;;) {
        for (int k = 0; k < nslots && next < n; k++) {
            if (slots[k].pid) continue;
            if (em_start(slots, nslots, k, next, cases[next], b, o, &results[next]))
                running++;
            else
                done[next] = true;
            next++;
        }
        for (; printed < n && done[printed]; printed++) {
            em_result *r = &results[printed];
            em_print_result(cases[printed], b, r, o);
            em_count(t, r);
            free(r->report);
            free(r->output);
        }
        if (printed == n) break;
        running -= em_wait(slots, nslots, results, done);
    }
    free(results);
    free(done);
}

static int em_run_backend(af_backend b, const em_test_case **cases, size_t n, const em_opts *o,
                          em_slot *slots, const char *unavailable, em_tally *t) {
    double start = em_now();
    memset(t, 0, sizeof(*t));
    if (unavailable) {
        /* One line for all of them unless -v: a machine without a GPU skips every CUDA case. */
        if (o->verbose)
            for (size_t i = 0; i < n; i++)
                printf("SKIP [%s] %s: %s\n", em_backend_name(b), cases[i]->name, unavailable);
        else if (n)
            printf("SKIP [%s] all %zu cases: %s\n", em_backend_name(b), n, unavailable);
        t->skipped = (int)n;
        return 0;
    }
    if (!o->no_fork) {
        em_run_forked(b, cases, n, o, slots, o->jobs, t);
        t->seconds = em_now() - start;
        return 0;
    }
    char prefix[512];
    for (size_t i = 0; i < n; i++) {
        em_result r;
        snprintf(prefix, sizeof(prefix), "    [%s] %s: ", em_backend_name(b), cases[i]->name);
        memset(&r, 0, sizeof(r));
        double s = em_now();
        r.outcome = em_test_run_case(cases[i], b, -1, prefix);
        r.seconds = em_now() - s;
        snprintf(r.reason, sizeof(r.reason), "%s",
                 r.outcome == EM_TEST_FAIL ? "failed checks above" : "skipped (see above)");
        em_print_result(cases[i], b, &r, o);
        em_count(t, &r);
    }
    t->seconds = em_now() - start;
    return 0;
}

/* Parses the value of -j or EMBER_TEST_JOBS: a whole number >= 0, where 0 means one job per
 * online CPU. */
static bool em_parse_jobs(const char *text, int *jobs) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (!*text || *end || errno || v < 0) return false;
    if (v == 0) v = sysconf(_SC_NPROCESSORS_ONLN);
    if (v < 1) v = 1;
    *jobs = v > EM_MAX_JOBS ? EM_MAX_JOBS : (int)v;
    return true;
}

int main(int argc, char **argv) {
    em_opts o = {0};
    o.timeout = 120;
    o.jobs = 1;
    o.filters = calloc((size_t)argc, sizeof(*o.filters));
    const char *env = getenv("EMBER_TEST_TIMEOUT");
    if (env && *env) {
        char *end;
        double t = strtod(env, &end);
        if (*end || t < 0) {
            fprintf(stderr, "ember_tests: EMBER_TEST_TIMEOUT=%s is not a number of seconds\n", env);
            return 2;
        }
        o.timeout = t;
    }
    env = getenv("EMBER_TEST_JOBS");
    if (env && *env && !em_parse_jobs(env, &o.jobs)) {
        fprintf(stderr, "ember_tests: EMBER_TEST_JOBS=%s is not a number of jobs\n", env);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (strcmp(a, "--backend") == 0 && i + 1 < argc)
            val = argv[++i];
        else if (strncmp(a, "--backend=", 10) == 0)
            val = a + 10;
        if (val) {
            if (strcmp(val, "cpu") == 0)
                o.only = AF_BACKEND_CPU;
            else if (strcmp(val, "cuda") == 0)
                o.only = AF_BACKEND_CUDA;
            else {
                fprintf(stderr, "ember_tests: unknown backend '%s' (cpu or cuda)\n", val);
                return 2;
            }
        } else if (strcmp(a, "--backend") == 0) {
            fprintf(stderr, "ember_tests: --backend needs cpu or cuda\n");
            return 2;
        } else if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0 ||
                   strncmp(a, "--jobs=", 7) == 0 || (strncmp(a, "-j", 2) == 0 && a[2])) {
            const char *num = a[1] == 'j' ? (a[2] ? a + 2 : NULL) : (a[6] ? a + 7 : NULL);
            if (!num && i + 1 < argc) num = argv[++i];
            if (!num || !em_parse_jobs(num, &o.jobs)) {
                fprintf(stderr, "ember_tests: %s needs a number of jobs (0 for one per CPU)\n", a);
                return 2;
            }
        } else if (strcmp(a, "--no-fork") == 0) {
            o.no_fork = true;
        } else if (strcmp(a, "--list") == 0) {
            o.list = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o.verbose = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            em_usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "ember_tests: unknown option %s\n", a);
            em_usage(stderr);
            return 2;
        } else {
            o.filters[o.nfilters++] = a;
        }
    }

    size_t total = em_test_count(), n = 0;
    const em_test_case **cases = calloc(total + 1, sizeof(*cases));
    for (size_t i = 0; i < total; i++) {
        const em_test_case *c = em_test_at(i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(em_test_at(j)->name, c->name) == 0)
                fprintf(stderr, "ember_tests: warning: case %s is registered by %s and %s\n",
                        c->name, em_test_at(j)->file, c->file);
        if (em_selected(c, &o)) cases[n++] = c;
    }
    if (o.list) {
        for (size_t i = 0; i < n; i++) {
            const char *slash = strrchr(cases[i]->file, '/');
            printf("%s  (%s)\n", cases[i]->name, slash ? slash + 1 : cases[i]->file);
        }
        return 0;
    }
    if (o.nfilters && n == 0) printf("no case matches the filter\n");

    signal(SIGINT, em_on_signal);
    signal(SIGTERM, em_on_signal);
    signal(SIGPIPE, SIG_IGN);

    /* One slot per case that may run at once. Each slot captures its child's output in a file of
     * its own, so a chatty case can never block on a full pipe. */
    em_slot slots[EM_MAX_JOBS];
    for (int k = 0; k < o.jobs; k++)
        slots[k] = (em_slot){.fd = -1};

    em_tally tallies[2] = {{0}};
    bool ran[2] = {false, false};
    if (o.only != AF_BACKEND_CUDA) {
        em_run_backend(AF_BACKEND_CPU, cases, n, &o, slots, NULL, &tallies[0]);
        ran[0] = true;
    }
    if (o.only != AF_BACKEND_CPU && (EMBER_TEST_CUDA_BUILT || o.only == AF_BACKEND_CUDA)) {
        char why[256];
        const char *unavailable = NULL;
        if (!EMBER_TEST_CUDA_BUILT)
            unavailable = "libafcuda.so.3 is not built";
        else if (n && !em_cuda_available(&o, why, sizeof(why)))
            unavailable = why;
        em_run_backend(AF_BACKEND_CUDA, cases, n, &o, slots, unavailable, &tallies[1]);
        ran[1] = true;
    }

    int passed = 0, failed = 0, skipped = 0;
    for (int k = 0; k < 2; k++) {
        if (!ran[k]) continue;
        printf("%s: %d passed, %d failed, %d skipped (%.1f s)\n", k ? "cuda" : "cpu",
               tallies[k].passed, tallies[k].failed, tallies[k].skipped, tallies[k].seconds);
        passed += tallies[k].passed;
        failed += tallies[k].failed;
        skipped += tallies[k].skipped;
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    fflush(stdout);
    for (int k = 0; k < o.jobs; k++)
        if (slots[k].capture) fclose(slots[k].capture);
    free(cases);
    free(o.filters);
    return failed ? 1 : 0;
}
