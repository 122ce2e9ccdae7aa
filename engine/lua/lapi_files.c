/*
 * lapi_files.c: ctx.files, read-only access to local files for nodes, which
 * have no `io` (the context collector reads log files, OTLP trace exports
 * and deploy lists this way).
 *
 *   ctx.files.read_lines(path [, { max_bytes=, max_lines=, from_end= }])
 *       -> { lines = {...}, truncated, size, path } | nil, message, kind
 *   ctx.files.list(dir) -> { "name", ... } | nil, message, kind
 *
 * Only files under the directories of ctx.config.files_allow (a list of
 * paths) can be read. Both sides are resolved with realpath, so "..", a
 * symbolic link or a relative path cannot leave an allowed directory, and
 * the resolved path is opened without following links and must be a regular
 * file (a FIFO or a device cannot block or flood the node). kind is one of
 * not_allowed, not_found, denied, not_a_file, io.
 *
 * read_lines reads at most max_bytes (default 4 MiB, at most 64 MiB) and
 * returns at most max_lines lines (default 100000, at most 1000000), from the
 * start of the file, or its end with from_end = true (then a cut first line
 * is dropped; from the start a cut last line is). truncated says something
 * was left out. Lines lose their "\n" and "\r\n"; NUL and bytes that are not
 * UTF-8 become U+FFFD, so every result can be journaled. list returns the
 * names of the regular files of the directory, sorted, at most 10000.
 *
 * Bad arguments (types, unknown options, out-of-range numbers) raise; a file
 * that cannot be read is the nil, message, kind result. Every result is
 * journaled (kinds "files.read_lines", "files.list") with the path asked
 * for, so a node that re-runs after an interrupt sees the file as it was
 * and a re-run asking for another path fails loudly.
 */
#include "lvm_int.h"
#include "lconv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#define FILES_DEFAULT_MAX_BYTES (4 * 1024 * 1024)
#define FILES_MAX_BYTES (64 * 1024 * 1024)
#define FILES_DEFAULT_MAX_LINES 100000
#define FILES_MAX_LINES 1000000
#define FILES_MAX_ALLOW 64
#define FILES_MAX_LIST 10000

/* ---- memory held by a userdata, freed even when Lua raises midway ---------- */

struct buf_box {
	char *p;
};

static const char buf_box_mt_key;

static int buf_box_gc(lua_State *L)
{
	struct buf_box *b = lua_touserdata(L, 1);

	free(b->p);
	b->p = NULL;
	return 0;
}

/* ---- results ----------------------------------------------------------------- */

/* [-0, +3, m] nil, message, kind; the journal gets {ok=false, path, err, kind} */
static int push_failure(lua_State *L, const char *kind_name, const char *path, const char *kind,
			const char *fmt, const char *detail)
{
	lua_createtable(L, 0, 4);
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "ok");
	lua_pushstring(L, path);
	lua_setfield(L, -2, "path");
	lua_pushfstring(L, fmt, path, detail);
	lua_setfield(L, -2, "err");
	lua_pushstring(L, kind);
	lua_setfield(L, -2, "kind");
	lapi_journal_record(L, kind_name, -1);
	luaL_pushfail(L);
	lua_getfield(L, -2, "err");
	lua_getfield(L, -3, "kind");
	return 3;
}

/* [-1, +(1|3), e] the journaled entry on top as the call's result */
static int push_replayed(lua_State *L, const char *fname, const char *path)
{
	int t = lua_gettop(L);

	if (!lua_istable(L, t))
		return luaL_error(L, "%s: the journal entry of this call is damaged (not a table)", fname);
	lua_getfield(L, t, "path");
	if (!lua_isstring(L, -1) || strcmp(lua_tostring(L, -1), path))
		return luaL_error(L, "%s re-ran differently: this %s call read '%s', now it reads '%s'; a node must make "
				  "the same ctx calls in the same order when it re-runs after an interrupt (move the "
				  "varying part after og.interrupt or into another node)", lvm_from(L)->what, fname,
				  lua_isstring(L, -1) ? lua_tostring(L, -1) : "?", path);
	lua_pop(L, 1);
	lua_getfield(L, t, "ok");
	if (lua_toboolean(L, -1)) {
		lua_pop(L, 1);
		lua_getfield(L, t, "result");
		return 1;
	}
	lua_pop(L, 1);
	luaL_pushfail(L);
	lua_getfield(L, t, "err");
	lua_getfield(L, t, "kind");
	return 3;
}

/* [-1, +1, m] wraps the result on top as {ok=true, path, result}, journals
 * it, and leaves the result on top */
static int record_success(lua_State *L, const char *kind_name, const char *path)
{
	lua_createtable(L, 0, 3);			/* result entry */
	lua_pushboolean(L, 1);
	lua_setfield(L, -2, "ok");
	lua_pushstring(L, path);
	lua_setfield(L, -2, "path");
	lua_pushvalue(L, -2);
	lua_setfield(L, -2, "result");
	lapi_journal_record(L, kind_name, -1);
	lua_pop(L, 1);					/* result */
	return 1;
}

/* ---- the allow list --------------------------------------------------------- */

static const char *errno_kind(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return "not_found";
	case EACCES:
	case EPERM:
		return "denied";
	default:
		return "io";
	}
}

/* Is `real` (a realpath) inside one of the config's files_allow directories?
 * Returns 1 yes, 0 no; *nallow tells how many entries there are. */
static int is_allowed(lua_State *L, const char *real, int *nallow)
{
	int top = lua_gettop(L), i, found = 0;

	*nallow = 0;
	lua_rawgetp(L, LUA_REGISTRYINDEX, &lvm_key_ctx);
	lua_getfield(L, -1, "config");
	if (!lua_istable(L, -1) || lua_getfield(L, -1, "files_allow") == LUA_TNIL || !lua_istable(L, -1)) {
		lua_settop(L, top);
		return 0;
	}
	for (i = 1; i <= FILES_MAX_ALLOW && !found; i++) {
		char dir[PATH_MAX];
		size_t n;

		if (lua_geti(L, -1, i) == LUA_TNIL) {
			lua_pop(L, 1);
			break;
		}
		if (lua_type(L, -1) == LUA_TSTRING && realpath(lua_tostring(L, -1), dir)) {
			(*nallow)++;
			n = strlen(dir);
			/* "/" allows everything; otherwise a whole path component must match */
			if ((n == 1 && dir[0] == '/') ||
			    (!strncmp(real, dir, n) && (real[n] == '/' || real[n] == '\0')))
				found = 1;
		} else if (lua_type(L, -1) == LUA_TSTRING) {
			(*nallow)++;		/* a missing allowed directory allows nothing */
		}
		lua_pop(L, 1);
	}
	lua_settop(L, top);
	return found;
}

/* Resolves and checks path; fills real. Returns 0, or pushes the failure
 * (3 values) and returns 3. */
static int resolve(lua_State *L, const char *kind_name, const char *path, char *real)
{
	int nallow;

	if (!realpath(path, real))
		return push_failure(L, kind_name, path, errno_kind(errno), "ctx.files: cannot open '%s': %s",
				    strerror(errno));
	if (!is_allowed(L, real, &nallow)) {
		if (!nallow)
			return push_failure(L, kind_name, path, "not_allowed",
					    "ctx.files: '%s' is not readable: no directories are allowed%s; list the "
					    "directories nodes may read in the config file, e.g. \"files_allow\": "
					    "[\"/var/log/myapp\"]", "");
		return push_failure(L, kind_name, path, "not_allowed",
				    "ctx.files: '%s' is outside the directories of config files_allow (resolved to "
				    "%s); add its directory to files_allow in the config file", real);
	}
	return 0;
}

/* ---- options --------------------------------------------------------------- */

static lua_Integer opt_int(lua_State *L, int t, const char *name, lua_Integer def, lua_Integer max)
{
	lua_Integer v = def;
	int isnum;

	if (lua_getfield(L, t, name) != LUA_TNIL) {
		v = lua_tointegerx(L, -1, &isnum);
		if (!isnum || v < 1 || v > max)
			luaL_error(L, "ctx.files.read_lines: %s must be an integer from 1 to %d (got %s)", name,
				   (int)max, luaL_tolstring(L, -1, NULL));
	}
	lua_pop(L, 1);
	return v;
}

/* ---- read_lines ---------------------------------------------------------------- */

/* reads up to want bytes at off; returns the count or -1 (errno set) */
static ssize_t read_at(int fd, char *p, size_t want, off_t off)
{
	size_t got = 0;

	while (got < want) {
		ssize_t r = pread(fd, p + got, want - got, off + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int lapi_files_read_lines(lua_State *L)
{
	static const char *const known[] = { "max_bytes", "max_lines", "from_end", NULL };
	const char *kind_name = "files.read_lines", *path;
	char real[PATH_MAX];
	lua_Integer max_bytes = FILES_DEFAULT_MAX_BYTES, max_lines = FILES_DEFAULT_MAX_LINES;
	struct buf_box *box;
	struct stat st = { 0 };
	bool from_end = false, truncated = false;
	size_t want, start, end, pos, nlines = 0, first = 1;
	ssize_t got;
	off_t off = 0;
	int fd, e, t;

	lua_settop(L, 2);
	if (lua_type(L, 1) != LUA_TSTRING)
		return luaL_error(L, "ctx.files.read_lines: the first argument must be the file's path (got %s)",
				  luaL_typename(L, 1));
	path = lua_tostring(L, 1);
	if (strlen(path) != lua_rawlen(L, 1) || !*path)
		return luaL_error(L, "ctx.files.read_lines: the path is empty or holds a NUL byte");
	if (!lua_isnil(L, 2)) {
		if (!lua_istable(L, 2))
			return luaL_error(L, "ctx.files.read_lines: options must be a table {max_bytes, max_lines, "
					  "from_end} (got %s)", luaL_typename(L, 2));
		lua_pushnil(L);
		while (lua_next(L, 2)) {
			int i, ok = 0;
			lua_pop(L, 1);
			for (i = 0; known[i] && lua_type(L, -1) == LUA_TSTRING; i++)
				ok |= !strcmp(lua_tostring(L, -1), known[i]);
			if (!ok)
				return luaL_error(L, "ctx.files.read_lines: unknown option '%s' (known: max_bytes, "
						  "max_lines, from_end)", luaL_tolstring(L, -1, NULL));
		}
		max_bytes = opt_int(L, 2, "max_bytes", FILES_DEFAULT_MAX_BYTES, FILES_MAX_BYTES);
		max_lines = opt_int(L, 2, "max_lines", FILES_DEFAULT_MAX_LINES, FILES_MAX_LINES);
		lua_getfield(L, 2, "from_end");
		if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
			return luaL_error(L, "ctx.files.read_lines: from_end must be a boolean (got %s)",
					  luaL_typename(L, -1));
		from_end = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}

	if (lapi_journal_replay(L, kind_name))
		return push_replayed(L, "ctx.files.read_lines", path);
	if ((t = resolve(L, kind_name, path, real)))
		return t;
	fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return push_failure(L, kind_name, path, errno_kind(errno), "ctx.files: cannot open '%s': %s",
				    strerror(errno));
	e = fstat(fd, &st) < 0 ? errno : 0;	/* errno only when fstat failed: it is stale otherwise */
	if (e || !S_ISREG(st.st_mode)) {
		close(fd);
		if (S_ISDIR(st.st_mode))
			return push_failure(L, kind_name, path, "not_a_file", "ctx.files: '%s' is %s, not a file; "
					    "list it with ctx.files.list", "a directory");
		return push_failure(L, kind_name, path, e ? errno_kind(e) : "not_a_file",
				    "ctx.files: '%s' is not a regular file (%s)", e ? strerror(e) : "a device, FIFO or socket");
	}
	want = (size_t)st.st_size < (size_t)max_bytes ? (size_t)st.st_size : (size_t)max_bytes;
	if (from_end && (size_t)st.st_size > want)
		off = st.st_size - (off_t)want;
	box = lapi_push_gc_box(L, sizeof(*box), buf_box_gc, &buf_box_mt_key);	/* 3 */
	if (!(box->p = malloc(want + 1))) {
		close(fd);
		return luaL_error(L, "ctx.files.read_lines: out of memory (%d bytes)", (int)want);
	}
	got = read_at(fd, box->p, want, off);
	e = errno;
	close(fd);
	if (got < 0)
		return push_failure(L, kind_name, path, errno_kind(e), "ctx.files: cannot read '%s': %s", strerror(e));
	start = 0;
	end = (size_t)got;
	if (off > 0) {				/* the first line is cut: drop it */
		truncated = true;
		while (start < end && box->p[start] != '\n')
			start++;
		if (start < end)
			start++;
	}
	if (!from_end && (off_t)got < st.st_size && end > 0 && box->p[end - 1] != '\n') {
		truncated = true;		/* the last line is cut: drop it */
		while (end > start && box->p[end - 1] != '\n')
			end--;
	}
	for (pos = start; pos < end; pos++)
		if (box->p[pos] == '\n')
			nlines++;
	if (end > start && box->p[end - 1] != '\n')
		nlines++;
	if (nlines > (size_t)max_lines) {	/* keep the first, or the last, max_lines */
		truncated = true;
		if (from_end)
			first = nlines - (size_t)max_lines + 1;
		nlines = (size_t)max_lines;
	}

	lua_createtable(L, 0, 4);				/* 4: result */
	lua_createtable(L, (int)nlines, 0);			/* 5: lines */
	og_lconv_push_array_mt(L);			/* a JSON list even when empty */
	lua_setmetatable(L, 5);
	{
		size_t ln = 0, k = 0, b = start;

		while (b < end && k < nlines) {
			size_t e2 = b, n;

			while (e2 < end && box->p[e2] != '\n')
				e2++;
			if (++ln >= first) {
				n = e2 - b;
				if (n && box->p[b + n - 1] == '\r')
					n--;
				og_lconv_push_utf8(L, box->p + b, n);
				lua_rawseti(L, 5, (lua_Integer)++k);
			}
			b = e2 + 1;
		}
	}
	free(box->p);
	box->p = NULL;
	lua_setfield(L, 4, "lines");
	lua_pushboolean(L, truncated);
	lua_setfield(L, 4, "truncated");
	lua_pushinteger(L, (lua_Integer)st.st_size);
	lua_setfield(L, 4, "size");
	lua_pushstring(L, real);
	lua_setfield(L, 4, "path");
	return record_success(L, kind_name, path);
}

/* ---- list ---------------------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names_box {
	char **v;
	size_t n;
	DIR *d;
};

static const char names_box_mt_key;

static int names_box_gc(lua_State *L)
{
	struct names_box *b = lua_touserdata(L, 1);
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->v[i]);
	free(b->v);
	if (b->d)
		closedir(b->d);
	memset(b, 0, sizeof(*b));
	return 0;
}

static int lapi_files_list(lua_State *L)
{
	const char *kind_name = "files.list", *path;
	char real[PATH_MAX];
	struct names_box *box;
	struct dirent *de;
	size_t i, cap = 0;
	int t, fd;

	lua_settop(L, 1);
	if (lua_type(L, 1) != LUA_TSTRING)
		return luaL_error(L, "ctx.files.list: the argument must be a directory's path (got %s)",
				  luaL_typename(L, 1));
	path = lua_tostring(L, 1);
	if (strlen(path) != lua_rawlen(L, 1) || !*path)
		return luaL_error(L, "ctx.files.list: the path is empty or holds a NUL byte");
	if (lapi_journal_replay(L, kind_name))
		return push_replayed(L, "ctx.files.list", path);
	if ((t = resolve(L, kind_name, path, real)))
		return t;
	box = lapi_push_gc_box(L, sizeof(*box), names_box_gc, &names_box_mt_key);	/* 2 */
	fd = open(real, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(box->d = fdopendir(fd))) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (e == ENOTDIR)
			return push_failure(L, kind_name, path, "not_a_file", "ctx.files: '%s' is %s, not a directory; "
					    "read it with ctx.files.read_lines", "a file");
		return push_failure(L, kind_name, path, errno_kind(e), "ctx.files: cannot list '%s': %s", strerror(e));
	}
	while ((de = readdir(box->d)) && box->n < FILES_MAX_LIST) {
		struct stat st;

		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		/* regular files only, not followed through links */
		if (fstatat(dirfd(box->d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (box->n == cap) {
			char **nv = realloc(box->v, (cap ? cap * 2 : 32) * sizeof(*nv));
			if (!nv)
				return luaL_error(L, "ctx.files.list: out of memory");
			box->v = nv;
			cap = cap ? cap * 2 : 32;
		}
		if (!(box->v[box->n] = strdup(de->d_name)))
			return luaL_error(L, "ctx.files.list: out of memory");
		box->n++;
	}
	if (box->n)
		qsort(box->v, box->n, sizeof(*box->v), cmp_names);
	lua_createtable(L, (int)box->n, 0);			/* 3 */
	og_lconv_push_array_mt(L);
	lua_setmetatable(L, 3);
	for (i = 0; i < box->n; i++) {
		og_lconv_push_utf8(L, box->v[i], strlen(box->v[i]));
		lua_rawseti(L, 3, (lua_Integer)i + 1);
	}
	lua_pushcfunction(L, names_box_gc);		/* free now, not at the next GC */
	lua_pushvalue(L, 2);
	lua_call(L, 1, 0);
	return record_success(L, kind_name, path);
}

#define LAPI_FN(ns, name) { #name, lapi_##ns##_##name }

static const luaL_Reg lapi_files_fns[] = {
	LAPI_FN(files, read_lines),
	LAPI_FN(files, list),
	{ NULL, NULL }
};

/* [-0, +0, m] sets t.files, t being the table on top: the namespace, read-only */
void lapi_files_install(lua_State *L)
{
	luaL_newlib(L, lapi_files_fns);
	lapi_push_readonly(L);
	lua_setfield(L, -2, "files");
}
