/* bench_idx: how long loading MNIST-sized IDX data takes (core/images.h), against
 * numpy reading the same .gz files in the same run (this machine is noisy, so the
 * ratio is the figure to read).
 *
 * Times gs_images_load of all 60,000 + 10,000 images and of the first 1,000 + 10,000
 * (Omnigrok's size; every file is still read to its end and checked), best and median
 * of R rounds; then /usr/bin/python3 with numpy (and gzip for .gz files): read the four
 * files (plain if there, like the reader) and scale the pixels to float32 in [0, 1],
 * unchecked.
 *
 *   bench_idx [DIR] [--rounds R]     DIR: default /usr/share/datasets/fashion-mnist */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "images.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* best and median of r timings of loading (train_size, 0) */
static int time_load(const char *dir, int train_size, int rounds, double *best, double *median)
{
    double t[64];
    for (int i = 0; i < rounds; i++) {
        gs_images im;
        gs_err err = {0};
        double t0 = now();
        if (gs_images_load(&im, dir, train_size, 0, &err) != 0) {
            fprintf(stderr, "bench_idx: %s\n", err.msg);
            return -1;
        }
        t[i] = now() - t0;
        gs_images_free(&im);
    }
    qsort(t, (size_t)rounds, sizeof *t, cmp_double);
    *best = t[0];
    *median = t[rounds / 2];
    return 0;
}

/* numpy's time for the same work, minus the interpreter's start (timed inside) */
static int time_numpy(const char *dir, int rounds, double *best)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c '\n"
             "import gzip, os, sys, time, numpy as np\n"
             "d, r = sys.argv[1], int(sys.argv[2]); best = 1e9\n"
             "def rd(p):\n"
             "    return open(p, \"rb\").read() if os.path.exists(p) else gzip.open(p + \".gz\").read()\n"
             "for _ in range(r):\n"
             "    t0 = time.perf_counter()\n"
             "    for s in (\"train\", \"t10k\"):\n"
             "        im = np.frombuffer(rd(d + \"/\" + s + \"-images-idx3-ubyte\"), np.uint8, offset=16)\n"
             "        x = (im.astype(np.float32) / 255).reshape(-1, 784)\n"
             "        y = np.frombuffer(rd(d + \"/\" + s + \"-labels-idx1-ubyte\"), np.uint8, offset=8).astype(np.int32)\n"
             "    best = min(best, time.perf_counter() - t0)\n"
             "print(best)' '%s' %d",
             dir, rounds);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int ok = fscanf(p, "%lf", best) == 1;
    return pclose(p) == 0 && ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *dir = "/usr/share/datasets/fashion-mnist";
    int rounds = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (argv[i][0] != '-')
            dir = argv[i];
        else {
            fprintf(stderr, "usage: bench_idx [DIR] [--rounds R]\n");
            return 2;
        }
    }
    if (rounds < 1 || rounds > 64) {
        fprintf(stderr, "bench_idx: --rounds must be 1..64\n");
        return 2;
    }
    double all_best, all_med, some_best, some_med, np_best;
    if (time_load(dir, 0, rounds, &all_best, &all_med) != 0 ||
        time_load(dir, 1000, rounds, &some_best, &some_med) != 0)
        return 1;
    printf("load %s, %d rounds (best / median)\n", dir, rounds);
    printf("  all 60000 + 10000 images       %.3f s / %.3f s\n", all_best, all_med);
    printf("  first 1000 + all 10000 images  %.3f s / %.3f s (files still read to the end)\n", some_best,
           some_med);
    if (time_numpy(dir, rounds, &np_best) == 0)
        printf("  numpy, all, unchecked          %.3f s: grokscope all / numpy = %.2f\n", np_best,
               all_best / np_best);
    else
        printf("  numpy baseline did not run (needs /usr/bin/python3 with numpy)\n");
    return 0;
}
