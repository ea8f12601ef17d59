package microvm

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// InstallScript returns the shell script that installs what the driver
// needs, from Debian's packages only: qemu, nftables and socat with apt,
// and the guest kernel, downloaded with apt-get download and unpacked
// into [DefaultDir]/kernel (not installed: it must not become the host's
// boot kernel). On Debian 12 (bookworm) they come from
// bookworm-backports, which the script adds to apt's sources when it is
// missing (qemu 10 and Linux 6.12: bookworm's qemu 7.2 crashes 6.12
// guests, and its Linux 6.1 is too old for the recorder); on Debian 13
// and later from the release itself. osRelease is /etc/os-release;
// mirror is the Debian mirror apt uses ([DebianMirror]). The script is
// idempotent: run again, it only updates what changed.
func InstallScript(osRelease []byte, mirror string) (string, error) {
	codename := osField(osRelease, "VERSION_CODENAME")
	id := osField(osRelease, "ID")
	var b strings.Builder
	b.WriteString("set -eu\nexport DEBIAN_FRONTEND=noninteractive\n")
	target := ""
	switch {
	case id != "debian":
		return "", fmt.Errorf("the microvm driver's install knows Debian 12 and later, not %q: install qemu 8 or later, nftables and socat, and unpack a Linux 6.7 or later kernel package into %s", id, kernelRoot(DefaultDir))
	case codename == "bookworm":
		target = "-t bookworm-backports "
		fmt.Fprintf(&b, `# qemu 10 and Linux 6.12 come from bookworm-backports.
if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat >/etc/apt/sources.list.d/rgraph-bookworm-backports.sources <<'EOF'
Types: deb
URIs: %s
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
`, mirror)
	case codename == "bullseye" || codename == "buster" || codename == "":
		return "", fmt.Errorf("the microvm driver needs Debian 12 (bookworm) or later, not %q", codename)
	}
	dir := DefaultDir
	fmt.Fprintf(&b, `apt-get update -qq
apt-get install -y -qq --no-install-recommends %[1]sqemu-system-x86 nftables socat
# The guest kernel: the package linux-image-amd64 depends on, unpacked.
pkg=$(apt-cache depends %[1]slinux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1)
[ -n "$pkg" ] || { echo "no kernel package behind linux-image-amd64" >&2; exit 1; }
if [ ! -e %[2]s/kernel/boot/vmlinuz-"${pkg#linux-image-}" ]; then
  tmp=$(mktemp -d)
  chown _apt "$tmp" 2>/dev/null || true
  (cd "$tmp" && apt-get download -qq %[1]s"$pkg")
  rm -rf %[2]s/kernel.new
  mkdir -p %[2]s
  dpkg-deb -x "$tmp"/*.deb %[2]s/kernel.new
  rm -rf %[2]s/kernel "$tmp"
  mv %[2]s/kernel.new %[2]s/kernel
fi
echo "microvm driver: qemu $(qemu-system-x86_64 --version | sed -n '1s/.*version \([^ ]*\).*/\1/p'), kernel ${pkg#linux-image-} in %[2]s/kernel"
`, target, dir)
	return b.String(), nil
}

// osField returns a field of /etc/os-release, unquoted.
func osField(osRelease []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(osRelease))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && k == key {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

// DebianMirror returns the mirror apt's sources use for Debian's main
// archive, or deb.debian.org's.
func DebianMirror() string {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, stanza := range strings.Split(string(b), "\n\n") {
			var uris, suites string
			for _, l := range strings.Split(stanza, "\n") {
				if v, ok := strings.CutPrefix(l, "URIs:"); ok {
					uris = strings.TrimSpace(v)
				}
				if v, ok := strings.CutPrefix(l, "Suites:"); ok {
					suites = v
				}
			}
			if uris != "" && !strings.Contains(uris, "security") && strings.Contains(suites, "bookworm") {
				return strings.Fields(uris)[0]
			}
		}
	}
	if b, err := os.ReadFile("/etc/apt/sources.list"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) >= 3 && f[0] == "deb" && !strings.Contains(f[1], "security") && strings.HasPrefix(f[2], "bookworm") {
				return f[1]
			}
		}
	}
	return "http://deb.debian.org/debian"
}
