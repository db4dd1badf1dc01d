/* gs_plot_file: text written under a temporary name and renamed when complete, so a
 * full disk or a crash never leaves a half-written file under its final name. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plot_internal.h"

int gs_plot_file_open(gs_plot_file *f, const char *dir, const char *name, gs_err *err)
{
    memset(f, 0, sizeof *f);
    if ((size_t)snprintf(f->final, sizeof f->final, "%s/%s", dir, name) >= sizeof f->final ||
        (size_t)snprintf(f->tmp, sizeof f->tmp, "%s/.%s.tmp-%ld", dir, name, (long)getpid()) >= sizeof f->tmp)
        return gs_err_set(err, "%s/%s: path too long", dir, name);
    /* O_EXCL: never write through a symlink or into someone else's file; a stale temp
     * of ours (same pid, earlier crash) is removed once. */
    int fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST && unlink(f->tmp) == 0)
        fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        gs_err_set(err, "cannot create %s: %s", f->tmp, strerror(errno));
        f->tmp[0] = '\0';
        return -1;
    }
    f->fp = fdopen(fd, "w");
    if (!f->fp) {
        int e = errno;
        close(fd);
        unlink(f->tmp);
        gs_err_set(err, "cannot write %s: %s", f->tmp, strerror(e));
        f->tmp[0] = '\0';
        return -1;
    }
    return 0;
}

void gs_plot_printf(gs_plot_file *f, const char *fmt, ...)
{
    if (!f->fp || f->err_no)
        return;
    va_list ap;
    va_start(ap, fmt);
    errno = 0;
    int n = vfprintf(f->fp, fmt, ap);
    va_end(ap);
    if (n < 0)
        f->err_no = errno ? errno : EIO;
}

void gs_plot_value(gs_plot_file *f, double v)
{
    if (isnan(v))
        gs_plot_printf(f, " NaN");
    else if (isinf(v))
        gs_plot_printf(f, v > 0 ? " Inf" : " -Inf");
    else
        gs_plot_printf(f, " %.17g", v);
}

void gs_plot_quoted(gs_plot_file *f, const char *s)
{
    gs_plot_printf(f, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            gs_plot_printf(f, "\\%c", c);
        else if (c == '\n')
            gs_plot_printf(f, "\\n");
        else if (c < 0x20 || c == 0x7f)
            gs_plot_printf(f, "?"); /* control characters in a file name: show, don't obey */
        else
            gs_plot_printf(f, "%c", c);
    }
    gs_plot_printf(f, "\"");
}

int gs_plot_file_close(gs_plot_file *f, gs_err *err)
{
    if (!f->fp)
        return 0;
    FILE *fp = f->fp;
    f->fp = NULL;
    int e = f->err_no;
    if (!e && fflush(fp) != 0)
        e = errno;
    if (!e && ferror(fp))
        e = EIO;
    if (!e && fsync(fileno(fp)) != 0 && errno != EINVAL)
        e = errno;
    if (fclose(fp) != 0 && !e)
        e = errno;
    if (e) {
        f->err_no = e;
        return gs_err_set(err, "cannot write %s: %s", f->final, strerror(e));
    }
    return 0;
}

int gs_plot_file_commit(gs_plot_file *f, gs_err *err)
{
    if (rename(f->tmp, f->final) != 0)
        return gs_err_set(err, "cannot rename %s to %s: %s", f->tmp, f->final, strerror(errno));
    f->tmp[0] = '\0';
    return 0;
}

void gs_plot_file_discard(gs_plot_file *f)
{
    if (f->fp) {
        fclose(f->fp);
        f->fp = NULL;
    }
    if (f->tmp[0]) {
        unlink(f->tmp);
        f->tmp[0] = '\0';
    }
}
