package site

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ManifestName is the file [WriteFiles] keeps at the root of a site: the
// list of files it wrote there. It makes the directory rgraph's, and lets
// a later write remove the pages of services that are gone without ever
// touching a file rgraph did not write.
const ManifestName = ".rgraph-site.json"

// ErrNotOwned is wrapped by the error [WriteFiles] returns for a directory
// that holds files but no manifest, or a file the site would replace that
// the manifest does not list: rgraph did not write it, so nothing there is
// overwritten or removed.
var ErrNotOwned = errors.New("site: the directory holds files rgraph did not write")

// manifest is the content of [ManifestName].
type manifest struct {
	SchemaVersion int      `json:"schemaVersion"`
	Generator     string   `json:"generator"`
	Release       string   `json:"release"`
	Files         []string `json:"files"`
}

// WriteFiles writes files under dir, which must be missing, empty, or a
// site written before (it has a manifest, [ManifestName]). Each file is
// written to a temporary name and renamed into place, so a browser never
// sees half a page. Files the previous manifest lists that are not among
// files (pages of services no longer in the graph) are removed, with
// directories left empty by that; files the manifest does not list are
// never touched. The manifest always lists every file rgraph may have
// written, even when a write is interrupted. Errors wrap [ErrNotOwned]
// (see there) or the file system's.
func WriteFiles(dir, release string, files []File) error {
	old, err := readManifest(dir)
	if err != nil {
		return err
	}
	owned := map[string]bool{}
	for _, p := range old {
		owned[p] = true
	}
	var paths []string
	for _, f := range files {
		if !validPath(f.Path) {
			return fmt.Errorf("writing site: bad file name %q", f.Path)
		}
		paths = append(paths, f.Path)
		if owned[f.Path] {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.Path))); err == nil {
			return fmt.Errorf("%w: %s exists and is not listed in %s", ErrNotOwned, filepath.Join(dir, filepath.FromSlash(f.Path)), ManifestName)
		}
	}
	slices.Sort(paths)

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("writing site: %w", err)
	}
	// First claim everything this write may create, then write it.
	union := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(old), paths...))))
	if err := writeManifest(dir, release, union); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeAtomic(filepath.Join(dir, filepath.FromSlash(f.Path)), f.Data); err != nil {
			return fmt.Errorf("writing site: %w", err)
		}
	}
	keep := map[string]bool{}
	for _, p := range paths {
		keep[p] = true
	}
	var stale []string
	for _, p := range old {
		if !keep[p] {
			stale = append(stale, p)
		}
	}
	for _, p := range stale {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing a stale page: %w", err)
		}
	}
	// Directories the removals left empty go too (never dir itself).
	slices.SortFunc(stale, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	for _, p := range stale {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if os.Remove(filepath.Join(dir, filepath.FromSlash(d))) != nil {
				break // not empty, or gone
			}
		}
	}
	return writeManifest(dir, release, paths)
}

// readManifest returns the files the manifest of dir lists: nil for a
// missing or empty directory, and an error wrapping [ErrNotOwned] for a
// directory with files and no manifest. Entries that are not plain
// relative paths inside dir are dropped.
func readManifest(dir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("writing site: %w", err)
		}
		if len(entries) > 0 {
			return nil, fmt.Errorf("%w: %s is not empty and has no %s; choose a new or empty directory", ErrNotOwned, dir, ManifestName)
		}
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("writing site: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("writing site: reading %s: %w (remove it only if rgraph wrote every file in %s)",
			filepath.Join(dir, ManifestName), err, dir)
	}
	var out []string
	for _, p := range m.Files {
		if validPath(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// validPath reports whether p is a clean, relative, slash-separated path
// below the site's root that is not the manifest.
func validPath(p string) bool {
	return p != "" && p != ManifestName && path.Clean(p) == p && !path.IsAbs(p) &&
		p != ".." && !strings.HasPrefix(p, "../") && !strings.Contains(p, `\`)
}

func writeManifest(dir, release string, files []string) error {
	if files == nil {
		files = []string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(manifest{SchemaVersion: 1, Generator: "rgraph docs", Release: release, Files: files}); err != nil {
		return fmt.Errorf("writing site manifest: %w", err)
	}
	if err := writeAtomic(filepath.Join(dir, ManifestName), buf.Bytes()); err != nil {
		return fmt.Errorf("writing site manifest: %w", err)
	}
	return nil
}

// writeAtomic writes data to a temporary file next to name and renames it
// into place.
func writeAtomic(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
