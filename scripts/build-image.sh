#!/usr/bin/env bash
# Builds the kubeshark container image without a Docker engine, from packages only:
#   mmdebstrap  → a minimal Debian bookworm root filesystem (Essential packages + tcpdump +
#                 ca-certificates + libstdc++6 for the executable; merged /usr; no apt lists,
#                 caches, man pages, docs or locales)
#   buildah     → an image FROM scratch holding that rootfs and dist/kubeshark, with
#                 ENTRYPOINT ["/usr/local/bin/kubeshark"] and OCI labels
# One image runs all three roles: `kubeshark hub|front|worker …` (the manifests pass the role as
# args). tcpdump keeps Debian's behaviour of dropping privileges to the `tcpdump` user, which
# the package creates in the rootfs. The Dockerfile at the repository root builds the same
# image on machines with a Docker engine (and is what the release workflow pushes).
#
# Usage: sudo scripts/build-image.sh [--binary PATH] [--save FILE.tar] [--no-verify]
#   REGISTRY (default ghcr.io/kubeshark-ts), TAG (default: package.json's version)
#   → image ${REGISTRY}/kubeshark:${TAG} in the local containers storage
#   --save FILE.tar  also writes the image as an oci-archive
#   --no-verify      skips running the image (`version`, `tcpdump --version`) after the build
#   MIRROR           Debian mirror for mmdebstrap (default http://deb.debian.org/debian)
#
# Needs root (mmdebstrap's root mode, buildah/podman rootful storage). Missing tools are installed
# with apt-get (buildah, podman, runc, mmdebstrap). Nothing in /etc is changed: the containers
# configuration this needs (runc as the runtime, ulimits this machine allows) is written to a
# temporary file named by CONTAINERS_CONF.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BINARY="$ROOT/dist/kubeshark"
SAVE=""
VERIFY=1
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) BINARY="$2"; shift 2 ;;
    --save) SAVE="$2"; shift 2 ;;
    --no-verify) VERIFY=0; shift ;;
    -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-image: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "build-image: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap root mode, rootful buildah storage)"
[ -x "$BINARY" ] || die "$BINARY not found: run 'npm run build' first (or pass --binary)"
[ "$(uname -s)" = Linux ] || die "builds Linux images on Linux only; use the Dockerfile elsewhere"

VERSION="$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$ROOT/package.json" | head -n 1)"
[ -n "$VERSION" ] || die "no version in package.json"
REGISTRY="${REGISTRY:-ghcr.io/kubeshark-ts}"
TAG="${TAG:-$VERSION}"
IMAGE="$REGISTRY/kubeshark:$TAG"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
REVISION="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"

# The image's architecture is the executable's: an x86-64 binary goes into an amd64 rootfs.
case "$(od -An -tx1 -j18 -N2 "$BINARY" | tr -d ' \n')" in
  3e00) ARCH=amd64 ;;
  b700) ARCH=arm64 ;;
  *) die "$BINARY is not an x86-64 or aarch64 ELF executable" ;;
esac
[ "$ARCH" = "$(dpkg --print-architecture)" ] ||
  die "$BINARY is $ARCH but this machine is $(dpkg --print-architecture); build on a matching machine"

need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v buildah >/dev/null || need+=(buildah)
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
if [ ${#need[@]} -gt 0 ]; then
  echo "build-image: installing ${need[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

T0=$(date +%s)
WORK="$(mktemp -d /tmp/kubeshark-image.XXXXXX)"
CTR=""
cleanup() {
  if [ -n "$CTR" ]; then buildah rm "$CTR" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# runc, not crun (not installed here); nofile/nproc no higher than this machine allows: without
# CAP_SYS_RESOURCE podman's defaults (1048576) cannot be set and every container fails with
# "error setting rlimit". nproc is also capped by pid_max, the limit conmon runs with.
nofile="$(ulimit -Hn)"
nproc="$(ulimit -Hu)"
pidmax="$(cat /proc/sys/kernel/pid_max)"
if [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; then nofile=1048576; fi
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pidmax" ]; then nproc="$pidmax"; fi
cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$WORK/containers.conf"

echo "build-image: bookworm rootfs (mmdebstrap, $ARCH)" >&2
# essential + merged-usr hook: no apt, no perl (usrmerge would pull it in), no init system.
# The hooks' "$1" is the rootfs, expanded by mmdebstrap's hook shell, not here.
# shellcheck disable=SC2016
mmdebstrap --quiet --mode=root --arch="$ARCH" --variant=essential \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --include=tcpdump,ca-certificates,libstdc++6 \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/cache/debconf/*-old "$1"/var/log/apt "$1"/var/log/dpkg.log "$1"/var/log/alternatives.log' \
  --customize-hook='chroot "$1" getent passwd tcpdump >/dev/null' \
  bookworm "$WORK/rootfs.tar" "$MIRROR" >&2

echo "build-image: image $IMAGE (buildah)" >&2
CTR="$(buildah from --quiet scratch)"
buildah add --quiet "$CTR" "$WORK/rootfs.tar" / >/dev/null
buildah copy --quiet --chmod 0755 "$CTR" "$BINARY" /usr/local/bin/kubeshark >/dev/null
buildah config \
  --arch "$ARCH" --os linux \
  --entrypoint '["/usr/local/bin/kubeshark"]' --cmd '' \
  --workingdir / \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --label org.opencontainers.image.title=kubeshark \
  --label "org.opencontainers.image.description=Wireshark for Kubernetes: worker, hub and front in one executable (kubeshark hub|front|worker)" \
  --label "org.opencontainers.image.version=$VERSION" \
  --label "org.opencontainers.image.revision=$REVISION" \
  --label "org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --label org.opencontainers.image.source=https://github.com/kubeshark-ts/kubeshark \
  --label org.opencontainers.image.licenses=Apache-2.0 \
  --label org.opencontainers.image.base.name=debian:bookworm \
  "$CTR"
previous="$(buildah images --quiet --noheading "$IMAGE" 2>/dev/null || true)"
buildah commit --quiet --rm "$CTR" "$IMAGE" >/dev/null
CTR=""
# A rebuild moves the tag: drop the image it leaves untagged (kept if a container uses it).
if [ -n "$previous" ] && [ "$previous" != "$(buildah images --quiet --noheading "$IMAGE")" ]; then
  buildah rmi "$previous" >/dev/null 2>&1 || true
fi

if [ -n "$SAVE" ]; then
  rm -f "$SAVE"
  buildah push --quiet "$IMAGE" "oci-archive:$SAVE:$IMAGE"
  echo "build-image: saved $SAVE ($(du -h "$SAVE" | cut -f1))" >&2
fi

if [ "$VERIFY" = 1 ]; then
  got="$(podman run --rm --network=none "$IMAGE" version)"
  [ "$got" = "$VERSION" ] || die "the image's 'kubeshark version' printed '$got', expected '$VERSION'"
  podman run --rm --network=none --entrypoint tcpdump "$IMAGE" --version >/dev/null 2>&1 ||
    die "tcpdump does not run in the image"
  podman run --rm --network=none --entrypoint getent "$IMAGE" passwd tcpdump >/dev/null ||
    die "the image has no tcpdump user"
fi

SIZE="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
echo "build-image: built $IMAGE ($((SIZE / 1000000)) MB) in $(($(date +%s) - T0))s" >&2
echo "$IMAGE"
