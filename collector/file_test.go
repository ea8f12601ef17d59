package collector

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rgraph/rgraph/collector/sign"
)

func TestWriteFile(t *testing.T) {
	key, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	other, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "r.json")
	if err := WriteFile(p, sampleRecord(), nil); err != nil {
		t.Fatal(err)
	}
	want, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p + sign.Ext); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a record written without a key has a signature: %v", err)
	}
	if _, err := ReadSignedFile(p, sign.NewKeyring(key.Public().(ed25519.PublicKey))); err == nil {
		t.Error("ReadSignedFile read a record without a signature")
	}

	if err := WriteFile(p, sampleRecord(), key); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSignedFile(p, sign.NewKeyring(key.Public().(ed25519.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, addrCmp); d != "" {
		t.Errorf("signed record read back differs (-unsigned +signed):\n%s", d)
	}
	if _, err := ReadSignedFile(p, sign.NewKeyring(other.Public().(ed25519.PublicKey))); err == nil {
		t.Error("ReadSignedFile accepted a signature by a key not in the keyring")
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 2 {
		t.Errorf("the directory holds %v (%v), want the record and its signature", ents, err)
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		service, scenario string
		kind              RecordKind
		want              string
	}{
		{"web", "web-cold-start", KindRun, "web+web-cold-start.run.json"},
		{"web", "web-cold-start", KindMinimization, "web+web-cold-start.min.json"},
		{"a.b", "c", KindRun, "a.b+c.run.json"},
		{"a", "b.c", KindRun, "a+b.c.run.json"},
		{".hidden", "x", KindRun, "%2Ehidden+x.run.json"},
		{"a+b", "x", KindRun, "a%2Bb+x.run.json"},
		{"ünï", "x", KindRun, "%C3%BCn%C3%AF+x.run.json"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		got := FileName(tt.service, tt.scenario, tt.kind)
		if got != tt.want {
			t.Errorf("FileName(%q, %q, %s) = %q, want %q", tt.service, tt.scenario, tt.kind, got, tt.want)
		}
		if seen[got] {
			t.Errorf("FileName gives %q twice", got)
		}
		seen[got] = true
	}
}
