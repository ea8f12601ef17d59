package microvm

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// kernel is a guest kernel unpacked from a Debian linux-image package:
// Root holds boot/vmlinuz-VERSION and lib/modules/VERSION.
type kernel struct {
	Root    string
	Version string
}

func (k kernel) image() string  { return filepath.Join(k.Root, "boot", "vmlinuz-"+k.Version) }
func (k kernel) modDir() string { return filepath.Join(k.Root, "lib", "modules", k.Version) }

// errNoKernel is wrapped when no guest kernel is unpacked.
var errNoKernel = errors.New("no guest kernel")

// findKernel returns the newest kernel unpacked under root (the
// directory `rgraph sandbox install --driver microvm` unpacks into).
func findKernel(root string) (kernel, error) {
	imgs, _ := filepath.Glob(filepath.Join(root, "boot", "vmlinuz-*"))
	var versions []string
	for _, img := range imgs {
		v := strings.TrimPrefix(filepath.Base(img), "vmlinuz-")
		if _, err := os.Stat(filepath.Join(root, "lib", "modules", v)); err == nil {
			versions = append(versions, v)
		}
	}
	if len(versions) == 0 {
		return kernel{}, fmt.Errorf("%w in %s (no boot/vmlinuz-VERSION with lib/modules/VERSION)", errNoKernel, root)
	}
	slices.SortFunc(versions, compareVersions)
	return kernel{Root: root, Version: versions[len(versions)-1]}, nil
}

// compareVersions orders kernel releases such as "6.12.95+deb12-amd64"
// by their numeric parts, then as text.
func compareVersions(a, b string) int {
	na, nb := versionNumbers(a), versionNumbers(b)
	if c := slices.Compare(na, nb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func versionNumbers(v string) []int {
	var out []int
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
		if len(out) == 3 {
			break
		}
	}
	return out
}

// atLeast reports whether the kernel's release is major.minor or later.
func (k kernel) atLeast(major, minor int) bool {
	n := versionNumbers(k.Version)
	return len(n) >= 2 && (n[0] > major || n[0] == major && n[1] >= minor)
}

// extractVmlinux writes the ELF kernel inside the bzImage at image to
// dst, so that qemu boots it through its PVH entry point, which skips
// the decompressor (slow under emulation). It returns errKeepBzImage when
// the image's compression is one it does not read; the bzImage then boots
// as it is.
func extractVmlinux(image, dst string) error {
	b, err := os.ReadFile(image)
	if err != nil {
		return err
	}
	payload, err := bzPayload(b)
	if err != nil {
		return fmt.Errorf("%s: %w", image, err)
	}
	var r io.Reader
	switch {
	case bytes.HasPrefix(payload, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		// The kernel's build appends the uncompressed size (4 bytes) to
		// the zstd frame.
		d, err := zstd.NewReader(bytes.NewReader(payload[:len(payload)-4]), zstd.WithDecoderMaxWindow(1<<31), zstd.WithDecoderConcurrency(1))
		if err != nil {
			return err
		}
		defer d.Close()
		r = d
	case bytes.HasPrefix(payload, []byte{0x1f, 0x8b}):
		z, err := gzip.NewReader(bytes.NewReader(payload))
		if err != nil {
			return err
		}
		z.Multistream(false)
		r = z
	default:
		return errKeepBzImage
	}
	return writeAtomic(dst, 0o644, func(w io.Writer) error {
		var head [4]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return fmt.Errorf("decompressing %s: %w", image, err)
		}
		if string(head[:]) != elf.ELFMAG {
			return fmt.Errorf("%s: the payload is not an ELF kernel", image)
		}
		if _, err := w.Write(head[:]); err != nil {
			return err
		}
		if _, err := io.Copy(w, r); err != nil {
			return fmt.Errorf("decompressing %s: %w", image, err)
		}
		return nil
	})
}

// errKeepBzImage says the bzImage must boot as it is.
var errKeepBzImage = errors.New("kernel compression not supported: boot the bzImage")

// bzPayload returns the compressed kernel of an x86 bzImage, found
// through its setup header (Documentation/arch/x86/boot.rst).
func bzPayload(b []byte) ([]byte, error) {
	if len(b) < 0x250 || string(b[0x202:0x206]) != "HdrS" {
		return nil, errors.New("not an x86 bzImage")
	}
	setupSects := int(b[0x1f1])
	if setupSects == 0 {
		setupSects = 4
	}
	off := (setupSects+1)*512 + int(binary.LittleEndian.Uint32(b[0x248:]))
	n := int(binary.LittleEndian.Uint32(b[0x24c:]))
	if off < 0 || n < 8 || off+n > len(b) {
		return nil, errors.New("bzImage payload out of range")
	}
	return b[off : off+n], nil
}

// module is one kernel module to load in the guest.
type module struct {
	Name string
	Path string // the .ko, .ko.xz or .ko.zst file
}

// moduleClosure returns the modules named by want and everything they
// depend on, dependencies first. Modules the kernel has built in are
// skipped; a name it knows neither way is an error.
func moduleClosure(k kernel, want []string) ([]module, error) {
	paths := map[string]string{}
	err := filepath.WalkDir(filepath.Join(k.modDir(), "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if name, ok := moduleName(d.Name()); ok {
			paths[name] = p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the guest kernel's modules: %w", err)
	}
	builtin := map[string]bool{}
	if b, err := os.ReadFile(filepath.Join(k.modDir(), "modules.builtin")); err == nil {
		for _, l := range strings.Fields(string(b)) {
			if name, ok := moduleName(filepath.Base(l)); ok {
				builtin[name] = true
			}
		}
	}
	var out []module
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name, from string) error
	visit = func(name, from string) error {
		name = strings.ReplaceAll(name, "-", "_")
		switch {
		case state[name] == 2 || builtin[name]:
			return nil
		case state[name] == 1:
			return fmt.Errorf("module %s: dependency cycle", name)
		}
		p, ok := paths[name]
		if !ok {
			if from != "" {
				return fmt.Errorf("module %s (needed by %s) is missing from %s", name, from, k.modDir())
			}
			return fmt.Errorf("module %s is neither built into kernel %s nor in %s", name, k.Version, k.modDir())
		}
		state[name] = 1
		deps, err := moduleDepends(p)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if err := visit(d, name); err != nil {
				return err
			}
		}
		state[name] = 2
		out = append(out, module{Name: name, Path: p})
		return nil
	}
	for _, w := range want {
		if err := visit(w, ""); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// moduleName returns the module name of a file name such as
// "virtio-net.ko.xz" ("virtio_net").
func moduleName(file string) (string, bool) {
	for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if base, ok := strings.CutSuffix(file, ext); ok {
			return strings.ReplaceAll(base, "-", "_"), true
		}
	}
	return "", false
}

// readModule returns the ELF object of a module file, decompressed.
func readModule(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r io.Reader
	switch {
	case strings.HasSuffix(path, ".ko"):
		return b, nil
	case strings.HasSuffix(path, ".ko.xz"):
		r, err = xz.NewReader(bytes.NewReader(b))
	case strings.HasSuffix(path, ".ko.zst"):
		var d *zstd.Decoder
		d, err = zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderConcurrency(1))
		if err == nil {
			defer d.Close()
			r = d
		}
	case strings.HasSuffix(path, ".ko.gz"):
		r, err = gzip.NewReader(bytes.NewReader(b))
	default:
		return nil, fmt.Errorf("%s: not a kernel module", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("decompressing %s: %w", path, err)
	}
	return out, nil
}

// moduleDepends returns the "depends=" list of a module's .modinfo.
func moduleDepends(path string) ([]string, error) {
	b, err := readModule(path)
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("%s: no .modinfo section", path)
	}
	info, err := sec.Data()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, kv := range bytes.Split(info, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			if len(v) == 0 {
				return nil, nil
			}
			return strings.Split(string(v), ","), nil
		}
	}
	return nil, nil
}

// writeAtomic writes a file through a temporary one in the same
// directory, so that readers see it whole or not at all.
func writeAtomic(dst string, perm fs.FileMode, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), dst)
}
