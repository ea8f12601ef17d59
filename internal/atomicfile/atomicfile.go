// Package atomicfile writes files that readers see whole or not at all.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write writes data to the file name with permissions perm, replacing it
// atomically: data goes to a hidden temporary file in the same directory
// (".NAME.tmp-*", which a reader skipping dot files never reads), is
// flushed to disk, and is renamed into place; the directory is then
// flushed too, so the rename survives a crash. On error the temporary
// file is removed and name is untouched.
func Write(name string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the rename, on file systems that need it
		d.Close()
	}
	return nil
}
