/* profile_keyfile.c — profile.key: the key derivation parameters of the
 * profile database, in the clear (profile_keyfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile_keyfile.h"
#include "tr.h"

#define KEYFILE_MAGIC "liaison-profile-key 1"
#define KEYFILE_ALG   "argon2id13"
#define KEYFILE_BYTES 512

static enum lsn_err
damaged(const char *path, struct lsn_status *st)
{
	return lsn_fail(st, LSN_ERR_INTERNAL,
			_("the profile key file %s is damaged; the profile cannot be opened"), path);
}

/* "argon2id13 OPS MEM SALTHEX" into kdf. */
static bool
parse_line(char *line, struct seal_kdf *kdf)
{
	char *save = NULL;
	char *alg = strtok_r(line, " ", &save);
	char *ops = strtok_r(NULL, " ", &save);
	char *mem = strtok_r(NULL, " ", &save);
	char *salt = strtok_r(NULL, " ", &save);
	if (alg == NULL || ops == NULL || mem == NULL || salt == NULL ||
	    strtok_r(NULL, " ", &save) != NULL || strcmp(alg, KEYFILE_ALG) != 0)
		return false;
	char *end = NULL;
	errno = 0;
	long long o = strtoll(ops, &end, 10);
	if (errno || *end || o <= 0)
		return false;
	long long m = strtoll(mem, &end, 10);
	if (errno || *end || m <= 0)
		return false;
	size_t len = 0;
	if (strlen(salt) != 2 * sizeof kdf->salt ||
	    sodium_hex2bin(kdf->salt, sizeof kdf->salt, salt, strlen(salt), NULL, &len, NULL) != 0 ||
	    len != sizeof kdf->salt)
		return false;
	kdf->opslimit = o;
	kdf->memlimit = m;
	kdf->alg = crypto_pwhash_ALG_ARGON2ID13;
	return true;
}

enum lsn_err
keyfile_read(const char *path, struct keyfile *kf, struct lsn_status *st)
{
	memset(kf, 0, sizeof *kf);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return LSN_ERR_NOT_FOUND;
		return lsn_fail(st, LSN_ERR_INTERNAL, _("cannot read the profile key file %s: %s"), path,
				strerror(errno));
	}
	char buf[KEYFILE_BYTES + 1];
	size_t got = 0;
	while (got < KEYFILE_BYTES) {
		ssize_t n = read(fd, buf + got, KEYFILE_BYTES - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	if (got == KEYFILE_BYTES || strlen(buf) != got)
		return damaged(path, st);
	char *save = NULL;
	char *line = strtok_r(buf, "\n", &save);
	if (line == NULL || strcmp(line, KEYFILE_MAGIC) != 0)
		return damaged(path, st);
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		if (kf->n == KEYFILE_MAX || !parse_line(line, &kf->kdf[kf->n]))
			return damaged(path, st);
		kf->n++;
	}
	return kf->n > 0 ? LSN_OK : damaged(path, st);
}

static void
sync_parent(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

enum lsn_err
keyfile_write(const char *path, const struct keyfile *kf, struct lsn_status *st)
{
	char text[KEYFILE_BYTES];
	int len = snprintf(text, sizeof text, "%s\n", KEYFILE_MAGIC);
	for (size_t i = 0; i < kf->n && len > 0 && (size_t)len < sizeof text; i++) {
		char salt[2 * SEAL_SALTBYTES + 1];
		sodium_bin2hex(salt, sizeof salt, kf->kdf[i].salt, sizeof kf->kdf[i].salt);
		len += snprintf(text + len, sizeof text - (size_t)len, "%s %lld %lld %s\n",
				KEYFILE_ALG, (long long)kf->kdf[i].opslimit,
				(long long)kf->kdf[i].memlimit, salt);
	}
	if (len <= 0 || (size_t)len >= sizeof text)
		return lsn_fail(st, LSN_ERR_INTERNAL, "the profile key file is too long (a bug)");
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return lsn_fail(st, LSN_ERR_INTERNAL, _("the profile path is too long"));
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return lsn_fail(st, LSN_ERR_INTERNAL, _("cannot write the profile key file %s: %s"), tmp,
				strerror(errno));
	bool ok = write(fd, text, (size_t)len) == (ssize_t)len && fsync(fd) == 0;
	int e = errno;
	ok = close(fd) == 0 && ok;
	if (ok && rename(tmp, path) != 0) {
		e = errno;
		ok = false;
	}
	if (!ok) {
		unlink(tmp);
		return lsn_fail(st, LSN_ERR_INTERNAL, _("cannot write the profile key file %s: %s"), path,
				strerror(e));
	}
	sync_parent(path);
	return LSN_OK;
}
