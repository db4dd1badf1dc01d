/* test_api_threads OUT_A SETTINGS_A THREADS_A OUT_B SETTINGS_B THREADS_B: trains two
 * runs through the public API at the same time, on two threads of this process, each
 * with its own worker-thread count; SETTINGS are "key=value,key=value" config keys.
 * tests/api_threads.sh compares the files with those of two separate CLI processes. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grokscope.h"

typedef struct {
    const char *out, *settings;
    int threads;
    long epochs_seen;
    int code;
    char err[1024];
} job;

static pthread_barrier_t start;

static int count(void *ctx, const grokscope_epoch *e, int final)
{
    (void)final;
    ((job *)ctx)->epochs_seen = e->epoch + 1;
    return 0;
}

static void *train(void *arg)
{
    job *j = arg;
    grokscope_config *cfg = grokscope_config_new();
    grokscope_train *t = grokscope_train_new();
    char *list = strdup(j->settings), *save = NULL;
    j->code = cfg && t && list ? GROKSCOPE_OK : GROKSCOPE_ERR_NOMEM;
    for (char *kv = strtok_r(list, ",", &save); kv && j->code == GROKSCOPE_OK; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            j->code = GROKSCOPE_ERR_INVALID;
            snprintf(j->err, sizeof j->err, "bad setting '%s'", kv);
            break;
        }
        *eq = '\0';
        if ((j->code = grokscope_config_set(cfg, kv, eq + 1)) != GROKSCOPE_OK)
            snprintf(j->err, sizeof j->err, "%s", grokscope_config_error(cfg));
    }
    pthread_barrier_wait(&start); /* both configured: train at the same time */
    if (j->code == GROKSCOPE_OK) {
        grokscope_train_set_threads(t, j->threads);
        grokscope_train_set_force(t, 1);
        grokscope_train_set_callback(t, count, j);
        if ((j->code = grokscope_train_create(t, j->out, cfg)) == GROKSCOPE_OK)
            j->code = grokscope_train_run(t);
        if (j->code != GROKSCOPE_OK)
            snprintf(j->err, sizeof j->err, "%s", grokscope_train_error(t));
    }
    free(list);
    grokscope_train_free(t);
    grokscope_config_free(cfg);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: test_api_threads OUT_A SETTINGS_A THREADS_A OUT_B SETTINGS_B THREADS_B\n");
        return 2;
    }
    job jobs[2] = {{argv[1], argv[2], atoi(argv[3]), 0, 0, ""},
                   {argv[4], argv[5], atoi(argv[6]), 0, 0, ""}};
    pthread_t th[2];
    if (pthread_barrier_init(&start, NULL, 2) != 0)
        return 2;
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, train, &jobs[i]) != 0) {
            fprintf(stderr, "cannot start thread %d\n", i);
            return 2;
        }
    int bad = 0;
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].code != GROKSCOPE_OK) {
            fprintf(stderr, "run %s: %s (%s)\n", jobs[i].out, jobs[i].err,
                    grokscope_code_name(jobs[i].code));
            bad = 1;
        } else {
            printf("run %s: %ld epochs on %d threads\n", jobs[i].out, jobs[i].epochs_seen,
                   jobs[i].threads);
        }
    }
    pthread_barrier_destroy(&start);
    return bad;
}
