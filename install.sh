#!/bin/sh
# Installs the kubeshark executable from a GitHub release, after checking its sha256 against
# the release's checksums.txt.
#
#   curl -fsSL https://github.com/kubeshark-ts/kubeshark/releases/latest/download/install.sh | sh
#
# Environment:
#   KUBESHARK_VERSION     version to install (1.2.3 or v1.2.3; default: the latest release)
#   INSTALL_DIR           where to put it (default /usr/local/bin, or ~/.local/bin when
#                         /usr/local/bin is not writable)
#   KUBESHARK_BASE_URL    release downloads (default
#                         https://github.com/kubeshark-ts/kubeshark/releases/download);
#                         files are fetched from $KUBESHARK_BASE_URL/v<version>/
#   KUBESHARK_LATEST_URL  the page that redirects to the latest release's tag (default
#                         https://github.com/kubeshark-ts/kubeshark/releases/latest)
#   KUBESHARK_DOWNLOADER  curl or wget (default: curl when present, else wget)
set -eu

BASE_URL="${KUBESHARK_BASE_URL:-https://github.com/kubeshark-ts/kubeshark/releases/download}"
LATEST_URL="${KUBESHARK_LATEST_URL:-https://github.com/kubeshark-ts/kubeshark/releases/latest}"

say() { printf 'kubeshark install: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) die "unsupported operating system $(uname -s) (linux and darwin only)" ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "unsupported architecture $(uname -m) (x86_64/amd64 and aarch64/arm64 only)" ;;
esac

downloader="${KUBESHARK_DOWNLOADER:-}"
if [ -z "$downloader" ]; then
  if command -v curl >/dev/null 2>&1; then
    downloader=curl
  elif command -v wget >/dev/null 2>&1; then
    downloader=wget
  else
    die "needs curl or wget"
  fi
fi
case "$downloader" in
  curl | wget) command -v "$downloader" >/dev/null 2>&1 || die "$downloader not found" ;;
  *) die "KUBESHARK_DOWNLOADER must be curl or wget, not $downloader" ;;
esac

# fetch URL FILE
fetch() {
  if [ "$downloader" = curl ]; then
    curl -fsSL --proto '=https,http' -o "$2" "$1"
  else
    wget -q -O "$2" "$1"
  fi
}

# The URL the latest-release page redirects to (…/releases/tag/v1.2.3).
latest_tag_url() {
  if [ "$downloader" = curl ]; then
    curl -fsSL -o /dev/null -w '%{url_effective}' "$LATEST_URL"
  else
    # wget follows the redirect; its log names every Location it went through.
    wget -S -O /dev/null "$LATEST_URL" 2>&1 | tr -d '\r' |
      sed -n 's/^ *[Ll]ocation: *\([^ ]*\).*/\1/p' | tail -n 1
  fi
}

version="${KUBESHARK_VERSION:-}"
if [ -z "$version" ]; then
  url="$(latest_tag_url)" || die "cannot reach $LATEST_URL"
  version="${url##*/}"
  [ -n "$version" ] || die "cannot tell the latest version from $LATEST_URL"
fi
version="${version#v}"
case "$version" in
  *[!0-9A-Za-z.+-]* | '') die "not a version: $version" ;;
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) die "not a version: $version" ;;
esac

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d ' ' -f 1; }
else
  die "needs sha256sum or shasum to check the download"
fi

tarball="kubeshark_${version}_${os}_${arch}.tar.gz"
tmp="$(mktemp -d 2>/dev/null || mktemp -d -t kubeshark)"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

say "downloading kubeshark $version for $os/$arch"
fetch "$BASE_URL/v$version/$tarball" "$tmp/$tarball" || die "cannot download $BASE_URL/v$version/$tarball"
fetch "$BASE_URL/v$version/checksums.txt" "$tmp/checksums.txt" ||
  die "cannot download $BASE_URL/v$version/checksums.txt"

expected="$(awk -v f="$tarball" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/checksums.txt")"
[ -n "$expected" ] || die "checksums.txt of v$version has no entry for $tarball; not installing"
actual="$(sha256 "$tmp/$tarball")"
if [ "$actual" != "$expected" ]; then
  die "checksum mismatch for $tarball: checksums.txt says $expected, the download has $actual; not installing"
fi

mkdir "$tmp/x"
tar -xzf "$tmp/$tarball" -C "$tmp/x" kubeshark || die "$tarball does not hold a kubeshark executable"
[ -f "$tmp/x/kubeshark" ] || die "$tarball does not hold a kubeshark executable"

dir="${INSTALL_DIR:-}"
if [ -z "$dir" ]; then
  dir=/usr/local/bin
  if ! { [ -d "$dir" ] && [ -w "$dir" ]; }; then
    [ -n "${HOME:-}" ] || die "/usr/local/bin is not writable and HOME is not set; set INSTALL_DIR"
    dir="$HOME/.local/bin"
    say "/usr/local/bin is not writable; installing into $dir"
  fi
fi
mkdir -p "$dir" 2>/dev/null || die "cannot create $dir"
[ -w "$dir" ] || die "$dir is not writable (run as a user who can write there, or set INSTALL_DIR)"

# Copy next to the target, then rename: a running kubeshark is never overwritten in place.
cp "$tmp/x/kubeshark" "$dir/.kubeshark.$$"
chmod 0755 "$dir/.kubeshark.$$"
mv -f "$dir/.kubeshark.$$" "$dir/kubeshark"

installed="$("$dir/kubeshark" version)" || die "$dir/kubeshark does not run"
printf 'kubeshark %s installed to %s\n' "$installed" "$dir/kubeshark"
case ":${PATH:-}:" in
  *":$dir:"*) ;;
  *) say "note: $dir is not in PATH" ;;
esac
