// Package sign signs run and minimization records with ed25519 keys and
// verifies them against a set of trusted keys.
//
// A signature is detached: it lives next to the record, in a file named
// after it with ".sig" added (web+web.run.json.sig), and covers the
// record file's exact bytes, provenance included. The signature file is a
// small JSON document naming the key by its ID (the first 8 bytes of the
// SHA-256 of the raw public key, in hex). Keys are PEM files the user
// manages: a private key in PKCS #8 ("PRIVATE KEY") and public keys in
// PKIX ("PUBLIC KEY"), the forms `openssl genpkey -algorithm ed25519`
// and `openssl pkey -pubout` write. A keyring is a file of one or more
// public keys. docs/scale.md describes the workflow.
package sign
