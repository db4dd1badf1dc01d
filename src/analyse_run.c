#include "analyse_run.h"

#include <stdio.h>
#include <string.h>

#include "opts.h"
#include "progress.h"

int gs_user_keys(grokscope_run *run, char *keys, char *msg)
{
    int k[GROKSCOPE_MAX_STORED_KEYS], n = -1;
    long epoch = -2;
    keys[0] = '\0';
    if (grokscope_run_key_freqs(run, k, GROKSCOPE_MAX_STORED_KEYS, &n, &epoch) != GROKSCOPE_OK)
        return gs_cli_set(msg, "%s", grokscope_run_error(run));
    for (int i = 0; epoch == -1 && i < n; i++) {
        const size_t at = strlen(keys);
        snprintf(keys + at, GS_KEYS_TEXT - at, "%s%d", i ? "," : "", k[i]);
    }
    return 0;
}

int gs_analyse_run(const char *path, const char *keys, int quiet, int threads, char *msg)
{
    char stored[GS_KEYS_TEXT] = "";
    if (!keys || !keys[0]) {
        grokscope_run *run;
        int rc = grokscope_run_open(path, &run) == GROKSCOPE_OK ? gs_user_keys(run, stored, msg)
               : gs_cli_set(msg, "%s", run ? grokscope_run_error(run) : "out of memory");
        grokscope_run_close(run);
        if (rc != 0)
            return -1;
        keys = stored;
    }
    grokscope_analysis *an = grokscope_analysis_new();
    if (!an)
        return gs_cli_set(msg, "out of memory");
    gs_progress pr;
    gs_progress_start(&pr, "checkpoint", 0, 0, quiet);
    int code = grokscope_analysis_set_progress(an, gs_progress_callback, &pr);
    if (code == GROKSCOPE_OK)
        code = grokscope_analysis_set_threads(an, threads);
    if (code == GROKSCOPE_OK && keys[0])
        code = grokscope_analysis_set_key_freqs(an, keys, NULL);
    if (code == GROKSCOPE_OK)
        code = grokscope_analysis_run(an, path);
    gs_progress_end(&pr);
    if (code != GROKSCOPE_OK)
        gs_cli_set(msg, "%s", grokscope_analysis_error(an));
    grokscope_analysis_free(an);
    return code == GROKSCOPE_OK ? 0 : -1;
}
