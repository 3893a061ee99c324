#!/usr/bin/env bash
# Builds a small memcached image for testutil/container from the host's own
# memcached binary, for machines that cannot pull images from a registry.
#
# Usage: scripts/build-memcached-image.sh [TAG]
#
# The image (default tag mcsession/memcached:local) holds /usr/bin/memcached,
# the shared libraries ldd lists for it, the dynamic loader, and an
# /etc/passwd and /etc/group with the user "nobody", which memcached runs as.
# Its command is "memcached", so "memcached -I 2m" style commands work as
# with the official image. The script installs Debian's memcached package
# when no memcached is on PATH (as root), skips the import when an image with
# the same files already exists, and prints the tag, alone, on stdout.
set -euo pipefail

tag=${1:-mcsession/memcached:local}
log() { echo "build-memcached-image: $*" >&2; }

if ! command -v memcached >/dev/null; then
	log "installing memcached"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >&2
	apt-get install -y -q memcached >&2
fi
bin=$(readlink -f "$(command -v memcached)")

# The files of the image: the binary, then every path ldd prints (libraries
# after "=>", the loader alone on its line). Symlinks are copied as the
# files they point to, at the path the loader asks for.
files=("$bin")
while read -r path; do
	files+=("$path")
done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
	$1 ~ /^\// { print $1 }')

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
for f in "${files[@]}"; do
	mkdir -p "$root$(dirname "$f")"
	cp -L "$f" "$root$f"
done
if [ "$bin" != /usr/bin/memcached ]; then
	mkdir -p "$root/usr/bin"
	cp -L "$bin" "$root/usr/bin/memcached"
fi
mkdir -p "$root/etc" "$root/tmp"
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"$root/etc/passwd"
printf 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' \
	>>"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

# A digest of the tree and of this script names the build, so that an
# unchanged host rebuilds nothing and leaves no dangling image behind.
digest=$({
	(cd "$root" && find . -type f | LC_ALL=C sort | xargs sha256sum)
	sha256sum <"$0"
} | sha256sum | cut -c1-16)
format='{{.Id}} {{index .Config.Labels "io.mcsession.rootfs"}}'
old=$(docker image inspect --format "$format" "$tag" 2>/dev/null || true)
if [ "${old#* }" = "$digest" ]; then
	log "$tag is up to date ($(memcached -V))"
	echo "$tag"
	exit 0
fi

log "importing $tag from $bin ($(memcached -V), ${#files[@]} files)"
tar -C "$root" --numeric-owner --owner=0 --group=0 -c . |
	docker import \
		--change 'ENV PATH=/usr/bin:/bin' \
		--change 'USER nobody' \
		--change 'EXPOSE 11211' \
		--change 'CMD ["memcached"]' \
		--change "LABEL io.mcsession.rootfs=$digest" \
		- "$tag" >/dev/null

# The image must run: a missing library would show here, not in a test.
docker run --rm --network none "$tag" memcached -V >&2
if [ -n "$old" ]; then
	docker image rm "${old%% *}" >/dev/null 2>&1 || true
fi
echo "$tag"
