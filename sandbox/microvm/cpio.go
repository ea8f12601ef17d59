package microvm

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// cpioWriter writes a cpio archive in the "newc" format, the one the
// Linux kernel unpacks as an initramfs: a 110-byte ASCII header per
// entry, the name, and the data, each padded to four bytes, ended by a
// TRAILER!!! entry. Entries carry no time (mtime 0), so the same content
// gives the same bytes.
type cpioWriter struct {
	w    *bufio.Writer
	n    int64 // bytes written so far, for the padding
	ino  uint32
	dirs map[string]bool
	err  error
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: bufio.NewWriterSize(w, 1<<20), dirs: map[string]bool{"": true, ".": true}}
}

// cpio mode bits (the st_mode of the entry).
const (
	cpioDir     = 0o040000
	cpioFile    = 0o100000
	cpioSymlink = 0o120000
	cpioChar    = 0o020000
)

func (c *cpioWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	var n int
	n, c.err = c.w.Write(b)
	c.n += int64(n)
}

func (c *cpioWriter) pad() {
	if r := c.n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// entry writes one header, the name and the data.
func (c *cpioWriter) entry(name string, mode uint32, nlink uint32, rdevMajor, rdevMinor uint32, data []byte) {
	c.header(name, mode, nlink, rdevMajor, rdevMinor, int64(len(data)))
	c.write(data)
	c.pad()
}

func (c *cpioWriter) header(name string, mode, nlink, rdevMajor, rdevMinor uint32, size int64) {
	c.ino++
	if size > 0xffffffff && c.err == nil {
		c.err = fmt.Errorf("cpio: %s is larger than 4 GiB", name)
	}
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, rdevMajor, rdevMinor, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write([]byte(name))
	c.write([]byte{0})
	c.pad()
}

// clean makes name relative ("usr/bin/x"), as the kernel expects, and
// refuses names that would leave the archive's root.
func (c *cpioWriter) clean(name string) string {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" && c.err == nil {
		c.err = fmt.Errorf("cpio: empty entry name")
	}
	return name
}

// parents writes the directories above name that were not written yet.
func (c *cpioWriter) parents(name string) {
	dir := path.Dir(name)
	if c.dirs[dir] {
		return
	}
	c.parents(dir)
	c.Dir(dir, 0o755)
}

// Dir adds a directory (and its missing parents). perm is the mode's
// low twelve bits (0o1777 for a sticky directory), as for File.
func (c *cpioWriter) Dir(name string, perm fs.FileMode) {
	name = c.clean(name)
	if c.dirs[name] {
		return
	}
	c.parents(name)
	c.dirs[name] = true
	c.entry(name, cpioDir|uint32(perm&0o7777), 2, 0, 0, nil)
}

// File adds a regular file with data.
func (c *cpioWriter) File(name string, perm fs.FileMode, data []byte) {
	name = c.clean(name)
	c.parents(name)
	c.entry(name, cpioFile|uint32(perm&0o7777), 1, 0, 0, data)
}

// FileFrom adds a regular file of size bytes read from r.
func (c *cpioWriter) FileFrom(name string, perm fs.FileMode, size int64, r io.Reader) {
	name = c.clean(name)
	c.parents(name)
	c.header(name, cpioFile|uint32(perm&0o7777), 1, 0, 0, size)
	if c.err != nil {
		return
	}
	n, err := io.CopyN(c.w, r, size)
	c.n += n
	if err != nil {
		c.err = fmt.Errorf("cpio: %s: %w", name, err)
		return
	}
	c.pad()
}

// Symlink adds a symbolic link at name pointing to target.
func (c *cpioWriter) Symlink(name, target string) {
	name = c.clean(name)
	c.parents(name)
	c.entry(name, cpioSymlink|0o777, 1, 0, 0, []byte(target))
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm fs.FileMode, major, minor uint32) {
	name = c.clean(name)
	c.parents(name)
	c.entry(name, cpioChar|uint32(perm.Perm()), 1, major, minor, nil)
}

// Close writes the trailer and flushes; it does not close the underlying
// writer.
func (c *cpioWriter) Close() error {
	c.entry("TRAILER!!!", 0, 1, 0, 0, nil)
	if c.err == nil {
		c.err = c.w.Flush()
	}
	return c.err
}
