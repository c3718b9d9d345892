// loadgen: a small HTTP/1.1 keep-alive load client for Portero's benchmarks (bench/http/run.py).
//
// wrk speaks TCP only; this client also speaks to a Unix socket, can pace requests at a fixed rate (for latency at
// a given load rather than at saturation), and can follow a chain of refresh tokens (each POST /refresh spends the
// token it sends and answers the next one). One thread, epoll, `-c` connections, each with one request in flight.
//
//   loadgen (--unix PATH | --tcp HOST:PORT) [-c CONNECTIONS] [-d SECONDS] [-R REQUESTS_PER_SECOND]
//           [-m METHOD] [-p PATH] [-H 'Name: value']... [-b BODY] [--refresh-tokens FILE]
//
// --refresh-tokens FILE: one refresh token a line, one per connection (at least -c lines); the body becomes
// {"refresh_token":"<token>"} and each answer's "refresh_token" replaces the connection's token.
//
// Prints one JSON object: requests, errors (transport), non2xx, seconds, rps, p50/p90/p99/p999/max in ms. Latency
// is measured from the moment a request is written (or, with -R, from when it was due, so that a stalled server
// is not hidden by a client that waits for it).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 16
#define BUFFER 65536

typedef struct {
    int fd;
    char in[BUFFER];
    size_t in_len;
    char *out;
    size_t out_len, out_sent;
    double started;  // when the request in flight was written (or due)
    double next_due; // paced mode: when the next request is due
    int waiting;     // paced mode: idle until next_due
    char token[1024];
} connection;

static const char *unix_path, *tcp_address, *method = "GET", *path = "/", *body;
static const char *headers[MAX_HEADERS];
static int header_count, connections = 16;
static double seconds = 5, rate;
static const char *refresh_file;

static double *latencies;
static size_t latency_count, latency_capacity;
static long requests, errors, non2xx;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void record(double latency) {
    if (latency_count == latency_capacity) {
        latency_capacity = latency_capacity ? latency_capacity * 2 : 1 << 16;
        latencies = realloc(latencies, latency_capacity * sizeof(double));
        if (!latencies) abort();
    }
    latencies[latency_count++] = latency;
}

static int open_connection(void) {
    int fd;
    if (unix_path) {
        struct sockaddr_un address = {.sun_family = AF_UNIX};
        strncpy(address.sun_path, unix_path, sizeof(address.sun_path) - 1);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) return -1;
    } else {
        char host[256];
        strncpy(host, tcp_address, sizeof(host) - 1);
        host[sizeof(host) - 1] = 0;
        char *colon = strrchr(host, ':');
        if (!colon) return -1;
        *colon = 0;
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *result;
        if (getaddrinfo(host, colon + 1, &hints, &result) != 0) return -1;
        fd = socket(result->ai_family, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, result->ai_addr, result->ai_addrlen) < 0) {
            freeaddrinfo(result);
            return -1;
        }
        freeaddrinfo(result);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static char *build_request(const connection *c, size_t *length) {
    char payload[2048];
    const char *content = body;
    if (refresh_file) {
        snprintf(payload, sizeof(payload), "{\"refresh_token\":\"%s\"}", c->token);
        content = payload;
    }
    size_t size = 4096 + (content ? strlen(content) : 0);
    for (int i = 0; i < header_count; i++) size += strlen(headers[i]) + 2;
    char *request = malloc(size);
    int n = snprintf(request, size, "%s %s HTTP/1.1\r\nHost: localhost\r\n", method, path);
    for (int i = 0; i < header_count; i++) n += snprintf(request + n, size - n, "%s\r\n", headers[i]);
    if (content) n += snprintf(request + n, size - n, "Content-Length: %zu\r\n\r\n%s", strlen(content), content);
    else n += snprintf(request + n, size - n, "\r\n");
    *length = (size_t)n;
    return request;
}

static int send_request(connection *c, double due) {
    if (refresh_file || !c->out) {
        free(c->out);
        c->out = build_request(c, &c->out_len);
    }
    c->out_sent = 0;
    c->started = due;
    while (c->out_sent < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_sent, c->out_len - c->out_sent);
        if (n < 0) {
            if (errno == EAGAIN) return 0; // EPOLLOUT would be needed; requests are small, this does not happen
            return -1;
        }
        c->out_sent += (size_t)n;
    }
    return 0;
}

// Returns the length of one complete response at the start of c->in, 0 if incomplete, -1 if malformed.
static long complete_response(connection *c, int *status, int *closing) {
    c->in[c->in_len] = 0;
    char *end = strstr(c->in, "\r\n\r\n");
    if (!end) return 0;
    size_t head = (size_t)(end - c->in) + 4;
    if (sscanf(c->in, "HTTP/1.%*d %d", status) != 1) return -1;
    long content_length = -1;
    int chunked = 0;
    for (char *line = strstr(c->in, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
        if (strncasecmp(line, "content-length:", 15) == 0) content_length = atol(line + 15);
        if (strncasecmp(line, "transfer-encoding:", 18) == 0 && strcasestr(line, "chunked")) chunked = 1;
        if (strncasecmp(line, "connection:", 11) == 0 && strcasestr(line, "close")) *closing = 1;
    }
    if (chunked) {
        char *terminator = strstr(c->in + head, "\r\n0\r\n\r\n");
        if (!terminator) {
            if (strncmp(c->in + head, "0\r\n\r\n", 5) == 0) return (long)head + 5;
            return 0;
        }
        return (long)(terminator - c->in) + 7;
    }
    if (content_length < 0) content_length = 0;
    if (c->in_len < head + (size_t)content_length) return 0;
    return (long)(head + (size_t)content_length);
}

static void take_token(connection *c, size_t length) {
    char *key = memmem(c->in, length, "\"refresh_token\":\"", 17);
    if (!key) return;
    key += 17;
    char *end = memchr(key, '"', length - (size_t)(key - c->in));
    if (!end || (size_t)(end - key) >= sizeof(c->token)) return;
    memcpy(c->token, key, (size_t)(end - key));
    c->token[end - key] = 0;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(double p) {
    if (!latency_count) return 0;
    size_t index = (size_t)(p / 100.0 * (double)(latency_count - 1) + 0.5);
    return latencies[index] * 1000;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "missing value for %s\n", a); return 2; }
        if (!strcmp(a, "--unix")) unix_path = v;
        else if (!strcmp(a, "--tcp")) tcp_address = v;
        else if (!strcmp(a, "-c")) connections = atoi(v);
        else if (!strcmp(a, "-d")) seconds = atof(v);
        else if (!strcmp(a, "-R")) rate = atof(v);
        else if (!strcmp(a, "-m")) method = v;
        else if (!strcmp(a, "-p")) path = v;
        else if (!strcmp(a, "-b")) body = v;
        else if (!strcmp(a, "-H") && header_count < MAX_HEADERS) headers[header_count++] = v;
        else if (!strcmp(a, "--refresh-tokens")) refresh_file = v;
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
        i++;
    }
    if (!unix_path == !tcp_address || connections < 1) {
        fprintf(stderr, "usage: loadgen (--unix PATH | --tcp HOST:PORT) [-c N] [-d S] [-R RPS] [-m M] [-p PATH] "
                        "[-H H]... [-b BODY] [--refresh-tokens FILE]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    connection *pool = calloc((size_t)connections, sizeof(connection));
    if (refresh_file) {
        FILE *file = fopen(refresh_file, "r");
        if (!file) { perror(refresh_file); return 2; }
        for (int i = 0; i < connections; i++) {
            if (!fgets(pool[i].token, sizeof(pool[i].token), file)) {
                fprintf(stderr, "%s: fewer tokens than connections\n", refresh_file);
                return 2;
            }
            pool[i].token[strcspn(pool[i].token, "\r\n")] = 0;
        }
        fclose(file);
    }
    int epoll = epoll_create1(0);
    double start = now(), interval = rate > 0 ? connections / rate : 0;
    for (int i = 0; i < connections; i++) {
        pool[i].fd = open_connection();
        if (pool[i].fd < 0) { perror("connect"); return 1; }
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = &pool[i]};
        epoll_ctl(epoll, EPOLL_CTL_ADD, pool[i].fd, &event);
        if (rate > 0) {
            pool[i].next_due = start + interval * i / connections;
            pool[i].waiting = 1;
        } else if (send_request(&pool[i], now()) < 0) {
            perror("write");
            return 1;
        }
    }
    double deadline = start + seconds;
    struct epoll_event events[256];
    while (1) {
        double current = now();
        if (current >= deadline) break;
        int timeout = 100;
        if (rate > 0) {
            for (int i = 0; i < connections; i++) {
                connection *c = &pool[i];
                if (!c->waiting) continue;
                if (c->next_due <= current) {
                    c->waiting = 0;
                    if (send_request(c, c->next_due) < 0) errors++;
                    c->next_due += interval;
                } else {
                    int wait = (int)((c->next_due - current) * 1000);
                    if (wait < timeout) timeout = wait;
                }
            }
        }
        int ready = epoll_wait(epoll, events, 256, timeout < 0 ? 0 : timeout);
        for (int e = 0; e < ready; e++) {
            connection *c = events[e].data.ptr;
            ssize_t n = read(c->fd, c->in + c->in_len, BUFFER - 1 - c->in_len);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) continue;
                errors++;
                epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->fd = open_connection();
                c->in_len = 0;
                if (c->fd < 0) { perror("reconnect"); return 1; }
                struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event);
                if (rate > 0) c->waiting = 1;
                else send_request(c, now());
                continue;
            }
            c->in_len += (size_t)n;
            int status = 0, closing = 0;
            long length = complete_response(c, &status, &closing);
            if (length == 0) continue;
            double finished = now();
            if (length < 0) { errors++; c->in_len = 0; continue; }
            requests++;
            if (status < 200 || status > 299) {
                if (non2xx++ == 0 && getenv("LOADGEN_DEBUG")) fprintf(stderr, "%.*s\n", (int)length, c->in);
            }
            record(finished - c->started);
            if (refresh_file && status == 200) take_token(c, (size_t)length);
            memmove(c->in, c->in + length, c->in_len - (size_t)length);
            c->in_len -= (size_t)length;
            if (closing) { // the server ends the connection after this answer (gunicorn's sync workers): a new one
                epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->fd = open_connection();
                c->in_len = 0;
                if (c->fd < 0) { perror("reconnect"); return 1; }
                struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event);
            }
            if (rate > 0) {
                c->waiting = 1;
            } else if (finished < deadline && send_request(c, finished) < 0) {
                errors++;
            }
        }
    }
    double elapsed = now() - start;
    qsort(latencies, latency_count, sizeof(double), compare);
    printf("{\"requests\":%ld,\"errors\":%ld,\"non2xx\":%ld,\"seconds\":%.3f,\"rps\":%.1f,\"p50\":%.3f,\"p90\":%.3f,"
           "\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}\n",
           requests, errors, non2xx, elapsed, requests / elapsed, percentile(50), percentile(90), percentile(99),
           percentile(99.9), percentile(100));
    return 0;
}
