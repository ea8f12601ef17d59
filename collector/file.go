package collector

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"os"
	"strings"

	"github.com/rgraph/rgraph/collector/sign"
	"github.com/rgraph/rgraph/internal/atomicfile"
)

// ReadFile decodes the record in the named file.
func ReadFile(path string) (*Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading record: %w", err)
	}
	return Decode(b, path)
}

// ReadSignedFile decodes the record in the named file after checking its
// signature, in the file named with [sign.Ext] added, against keyring kr.
func ReadSignedFile(path string, kr *sign.Keyring) (*Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading record: %w", err)
	}
	sig, err := os.ReadFile(path + sign.Ext)
	if err != nil {
		return nil, fmt.Errorf("reading signature: %w", err)
	}
	if _, err := kr.Verify(b, sig); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Decode(b, path)
}

// WriteFile encodes r into the named file and, when key is not nil, its
// signature by key into the file named with [sign.Ext] added. Each file
// is replaced atomically, the signature first, so a record is never
// there without the signature that goes with it.
func WriteFile(path string, r *Record, key ed25519.PrivateKey) error {
	var buf bytes.Buffer
	if err := Encode(&buf, r); err != nil {
		return err
	}
	if key != nil {
		if err := WriteSignature(path, buf.Bytes(), key); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing record: %w", err)
	}
	return nil
}

// WriteSignature writes the signature by key of data, the content of the
// named record file, beside it: into the file named with [sign.Ext]
// added, replaced atomically.
func WriteSignature(path string, data []byte, key ed25519.PrivateKey) error {
	if err := atomicfile.Write(path+sign.Ext, sign.Sign(key, data), 0o644); err != nil {
		return fmt.Errorf("writing signature: %w", err)
	}
	return nil
}

// FileName is the name of the file a record of a scenario is written to
// by rgraph's batches: SERVICE+SCENARIO.run.json, or .min.json for a
// minimization. Scenario names are letters, digits, '.', '_' and '-'
// only, so the last '+' splits the two; bytes of the service name outside
// those (and a leading '.') are %-escaped. Two scenarios get the same
// name only if they have the same service and name.
func FileName(service, scenario string, kind RecordKind) string {
	var b strings.Builder
	for i := 0; i < len(service); i++ {
		c := service[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || (c == '.' && i > 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	suffix := ".run.json"
	if kind == KindMinimization {
		suffix = ".min.json"
	}
	return b.String() + "+" + scenario + suffix
}
