package sign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
)

// Ext is what a signature file's name adds to its record's.
const Ext = ".sig"

// Kind is the kind field of a signature document.
const Kind = "signature"

// domain is prepended to the record's bytes before signing, so a
// signature over a record cannot be passed off as one over anything else
// made with the same key.
const domain = "rgraph record signature v1\n"

// Errors [Keyring.Verify] returns, wrapped with what was being verified.
var (
	// ErrUnsigned means a record has no signature.
	ErrUnsigned = errors.New("sign: no signature")
	// ErrUnknownKey means a record is signed by a key not in the keyring.
	ErrUnknownKey = errors.New("sign: signed by a key that is not trusted")
	// ErrBadSignature means the signature does not match the record: it was
	// changed after signing, or the signature file is not its own.
	ErrBadSignature = errors.New("sign: signature does not match; the record was changed after it was signed")
	// ErrMalformed means a key or signature file cannot be read.
	ErrMalformed = errors.New("sign: malformed key or signature")
)

// Signature is the document in a signature file.
type Signature struct {
	SchemaVersion int    `json:"schemaVersion"`
	Kind          string `json:"kind"`
	Algorithm     string `json:"algorithm"`
	KeyID         string `json:"keyId"`
	// Signature is the ed25519 signature, base64 in JSON.
	Signature []byte `json:"signature"`
}

// KeyID returns the ID of a public key: the first 8 bytes of the SHA-256
// of its raw form, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// GenerateKey returns a new private key from crypto/rand.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	return priv, nil
}

// MarshalPrivateKey encodes k as a PKCS #8 PEM block.
func MarshalPrivateKey(k ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey encodes k as a PKIX PEM block.
func MarshalPublicKey(k ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads an ed25519 private key from a PKCS #8 PEM block;
// name is used in errors, which wrap [ErrMalformed].
func ParsePrivateKey(b []byte, name string) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: %s: want a PEM \"PRIVATE KEY\" block (PKCS #8)", ErrMalformed, name)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, name, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s: a %T, not an ed25519 key", ErrMalformed, name, k)
	}
	return priv, nil
}

// Keyring is a set of trusted public keys, by ID.
type Keyring struct {
	keys map[string]ed25519.PublicKey
}

// NewKeyring returns a keyring of keys.
func NewKeyring(keys ...ed25519.PublicKey) *Keyring {
	kr := &Keyring{keys: map[string]ed25519.PublicKey{}}
	for _, k := range keys {
		kr.keys[KeyID(k)] = k
	}
	return kr
}

// ParseKeyring reads one or more PEM "PUBLIC KEY" blocks (PKIX, ed25519)
// into a keyring; name is used in errors, which wrap [ErrMalformed]. Text
// outside the blocks (comments) is ignored; a file without any key is an
// error.
func ParseKeyring(b []byte, name string) (*Keyring, error) {
	kr := NewKeyring()
	for n := 1; ; n++ {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("%w: %s: block %d is a %q, want \"PUBLIC KEY\"", ErrMalformed, name, n, block.Type)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: key %d: %v", ErrMalformed, name, n, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: %s: key %d is a %T, not an ed25519 key", ErrMalformed, name, n, k)
		}
		kr.keys[KeyID(pub)] = pub
	}
	if len(kr.keys) == 0 {
		return nil, fmt.Errorf("%w: %s: no PEM \"PUBLIC KEY\" block", ErrMalformed, name)
	}
	return kr, nil
}

// IDs returns the IDs of the keys in the keyring, sorted.
func (kr *Keyring) IDs() []string {
	ids := make([]string, 0, len(kr.keys))
	for id := range kr.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Sign returns the signature document for record, the exact bytes of a
// record file.
func Sign(k ed25519.PrivateKey, record []byte) []byte {
	s := Signature{
		SchemaVersion: 1,
		Kind:          Kind,
		Algorithm:     "ed25519",
		KeyID:         KeyID(k.Public().(ed25519.PublicKey)),
		Signature:     ed25519.Sign(k, message(record)),
	}
	b, _ := json.MarshalIndent(&s, "", "  ") // cannot fail
	return append(b, '\n')
}

// Verify checks that sig is a signature over record by a key in the
// keyring and returns that key's ID. A nil sig gives [ErrUnsigned]; the
// other failures [ErrMalformed], [ErrUnknownKey] and [ErrBadSignature].
func (kr *Keyring) Verify(record, sig []byte) (string, error) {
	if sig == nil {
		return "", ErrUnsigned
	}
	var s Signature
	dec := json.NewDecoder(bytes.NewReader(sig))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return "", fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	switch {
	case s.SchemaVersion != 1 || s.Kind != Kind:
		return "", fmt.Errorf("%w: signature: want schemaVersion 1 and kind %q", ErrMalformed, Kind)
	case s.Algorithm != "ed25519":
		return "", fmt.Errorf("%w: signature: algorithm %q (want ed25519)", ErrMalformed, s.Algorithm)
	}
	pub, ok := kr.keys[s.KeyID]
	if !ok {
		return "", fmt.Errorf("%w: key %s", ErrUnknownKey, s.KeyID)
	}
	if !ed25519.Verify(pub, message(record), s.Signature) {
		return "", fmt.Errorf("%w (key %s)", ErrBadSignature, s.KeyID)
	}
	return s.KeyID, nil
}

func message(record []byte) []byte {
	return append([]byte(domain), record...)
}
