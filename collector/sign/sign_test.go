package sign

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignVerify(t *testing.T) {
	k, other := newKey(t), newKey(t)
	pub := k.Public().(ed25519.PublicKey)
	record := []byte(`{"schemaVersion": 1, "kind": "run", "provenance": {"host": "n1"}}` + "\n")
	sig := Sign(k, record)
	kr := NewKeyring(pub)

	tests := []struct {
		name    string
		kr      *Keyring
		record  []byte
		sig     []byte
		wantErr error
	}{
		{"valid", kr, record, sig, nil},
		{"tampered record", kr, bytes.Replace(record, []byte("n1"), []byte("n2"), 1), sig, ErrBadSignature},
		{"a byte appended", kr, append(bytes.Clone(record), ' '), sig, ErrBadSignature},
		{"unknown key", NewKeyring(other.Public().(ed25519.PublicKey)), record, sig, ErrUnknownKey},
		{"unsigned", kr, record, nil, ErrUnsigned},
		{"not a signature", kr, record, []byte("{}"), ErrMalformed},
		{"signature of another record", kr, record, Sign(k, []byte("{}")), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.kr.Verify(tt.record, tt.sig)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %q, %v; want %v", id, err, tt.wantErr)
			}
			if err == nil && id != KeyID(pub) {
				t.Errorf("Verify = %q, want key %q", id, KeyID(pub))
			}
		})
	}
}

func TestKeyFiles(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	privPEM, err := MarshalPrivateKey(k1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePrivateKey(privPEM, "k1.key")
	if err != nil || !got.Equal(k1) {
		t.Fatalf("ParsePrivateKey = %v, %v", got, err)
	}
	var ring []byte
	ring = append(ring, "# team keys\n"...)
	for _, k := range []ed25519.PrivateKey{k1, k2} {
		b, err := MarshalPublicKey(k.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		ring = append(ring, b...)
	}
	kr, err := ParseKeyring(ring, "keys.pem")
	if err != nil {
		t.Fatal(err)
	}
	if len(kr.IDs()) != 2 {
		t.Errorf("keyring IDs = %v, want 2", kr.IDs())
	}
	for _, bad := range [][]byte{nil, []byte("nothing here"), privPEM} {
		if _, err := ParseKeyring(bad, "bad.pem"); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseKeyring(%.20q) = %v, want ErrMalformed", bad, err)
		}
	}
	if _, err := ParsePrivateKey(ring[len("# team keys\n"):], "pub.pem"); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParsePrivateKey(public key) = %v, want ErrMalformed", err)
	}
}

// TestOpenSSLKeys checks that keys made with openssl, as docs/scale.md
// shows, work as they are.
func TestOpenSSLKeys(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	key, pub := filepath.Join(dir, "k.pem"), filepath.Join(dir, "k.pub")
	for _, args := range [][]string{
		{"genpkey", "-algorithm", "ed25519", "-out", key},
		{"pkey", "-in", key, "-pubout", "-out", pub},
	} {
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	kb, _ := os.ReadFile(key)
	pb, _ := os.ReadFile(pub)
	priv, err := ParsePrivateKey(kb, key)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := ParseKeyring(pb, pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Verify([]byte("x"), Sign(priv, []byte("x"))); err != nil {
		t.Errorf("openssl key: %v", err)
	}
}
