/*
 * static.c: the web UI's files from ui-static/ at /. The URL path is
 * percent-decoded first and then refused when a segment is "." or "..",
 * when it holds a backslash or a NUL, or when the file it names resolves
 * (symlinks followed) to a place outside the directory: an encoded ../
 * cannot climb out, and neither can a symlink. Answers carry the content
 * type by extension, an ETag from size and mtime (If-None-Match gives 304)
 * and Cache-Control: no-cache, so browsers revalidate instead of guessing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "server.h"

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },  { ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" }, { ".mjs", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },        { ".svg", "image/svg+xml" },
	{ ".png", "image/png" },                { ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" }, { ".map", "application/json" },
	{ ".woff2", "font/woff2" },
};

static const char *content_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* "." and ".." segments, backslashes and control bytes have no business in
 * a file name we serve. */
static bool path_ok(const char *p)
{
	const char *seg = p;

	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '\\' || *p == 0x7f)
			return false;
	for (p = seg; *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

char *static_path_decode(const char *raw_path)
{
	size_t len = 0;
	char *path = evhttp_uridecode(raw_path, 0, &len);

	if (path && (strlen(path) != len || !path_ok(path))) {
		free(path);
		path = NULL;
	}
	return path;
}

void static_serve(struct srv *S, struct evhttp_request *req, const char *raw_path)
{
	char *path = NULL, full[PATH_MAX], real[PATH_MAX], etag[64];
	size_t len = 0, dl = strlen(S->ui_dir);
	struct stat st;
	const char *inm;
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	struct evbuffer *b;
	int fd;

	if (!S->ui_dir[0]) {
		srv_reply_error(S, req, "static", 404, "not_found", "no ui-static/ directory under %s", S->conf.root);
		return;
	}
	if (!(path = static_path_decode(raw_path)) || !(len = strlen(path))) {
		srv_reply_error(S, req, "static", 400, "bad_path", "the path is not a file name under ui-static/");
		goto out;
	}
	if ((size_t)snprintf(full, sizeof(full), "%s%s%s", S->ui_dir, path, path[len - 1] == '/' ? "index.html" : "") >=
	    sizeof(full) || !realpath(full, real) || strncmp(real, S->ui_dir, dl) || (real[dl] != '/' && real[dl]) ||
	    stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		srv_reply_error(S, req, "static", 404, "not_found", "no file %s", raw_path);
		goto out;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec);
	evhttp_add_header(out, "ETag", etag);
	evhttp_add_header(out, "Cache-Control", "no-cache");
	inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
	if (inm && !strcmp(inm, etag)) {
		srv_reply_text(S, req, "static", 304, NULL, NULL);
		goto out;
	}
	if ((fd = open(real, O_RDONLY | O_CLOEXEC)) < 0 || !(b = evbuffer_new())) {
		if (fd >= 0)
			close(fd);
		srv_reply_error(S, req, "static", 404, "not_found", "no file %s", raw_path);
		goto out;
	}
	evhttp_add_header(out, "Content-Type", content_type(real));
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evbuffer_add_file(b, fd, 0, st.st_size);	/* takes fd */
	metrics_http(S->metrics, "static", 200);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
out:
	free(path);
}
