// argon2rate: the raw libargon2 argon2id verify rate on this machine's cores, the ceiling for Portero's login rate
// (bench/http/run.py). Each of --threads threads verifies the password against a PHC string with Portero's default
// parameters (m=19 MiB, t=2, p=1, 16-byte salt, 32-byte hash) for --seconds; prints one JSON object.
//
//   argon2rate [--threads N] [--seconds S] [--memory KiB] [--iterations T]
#include <argon2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double seconds = 5;
static char encoded[256];
static const char password[] = "bench password 2026";

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *worker(void *argument) {
    long *count = argument;
    double deadline = now() + seconds;
    while (now() < deadline) {
        if (argon2id_verify(encoded, password, strlen(password)) != ARGON2_OK) abort();
        (*count)++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    int threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t memory = 19 * 1024, iterations = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--memory")) memory = (uint32_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--iterations")) iterations = (uint32_t)atoi(argv[i + 1]);
    }
    const unsigned char salt[16] = "0123456789abcdef";
    if (argon2id_hash_encoded(iterations, memory, 1, password, strlen(password), salt, sizeof(salt), 32, encoded,
                              sizeof(encoded)) != ARGON2_OK)
        return 1;
    pthread_t ids[64];
    long counts[64] = {0};
    if (threads > 64) threads = 64;
    double start = now();
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, worker, &counts[i]);
    long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        total += counts[i];
    }
    double elapsed = now() - start;
    printf("{\"threads\":%d,\"verifies\":%ld,\"seconds\":%.3f,\"rate\":%.2f}\n", threads, total, elapsed,
           total / elapsed);
    return 0;
}
