package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/sign"
)

// keyOptions are the parsed flags of the rgraph key verbs.
type keyOptions struct {
	Out         string
	Key         string
	TrustedKeys string
	Files       []string
	Quiet       bool

	Env *Env
}

func newKeyCmd(env *Env, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Make ed25519 keys, sign records and verify signatures",
		Long: `Records can be signed by whoever makes them, so that a release built from
many producers' records only takes those of producers it trusts (rgraph
ingest --trusted-keys). A signature is a file next to the record, named
RECORD.sig, over the record's exact bytes, its provenance (host, job,
shard) included. rgraph run and rgraph minimize sign what they write with
--sign-key. Keys are PEM files: PKCS #8 private keys and PKIX public keys,
as openssl writes them too (docs/scale.md).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	opts := &keyOptions{Env: env}
	gen := &cobra.Command{
		Use:   "gen --out NAME",
		Short: "Make a key pair: NAME.key (private) and NAME.pub (public)",
		Example: `  rgraph key gen --out ci-runner
  cat ci-runner.pub team-b.pub > trusted-keys.pem`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Out == "" {
				return usageErrorf("--out NAME is required")
			}
			opts.Quiet = g.Quiet
			return keyGenRun(opts)
		},
	}
	gen.Flags().StringVar(&opts.Out, "out", "", "write `NAME`.key and NAME.pub")
	signCmd := &cobra.Command{
		Use:     "sign --key FILE RECORD...",
		Short:   "Sign records: write RECORD.sig next to each",
		Example: `  rgraph key sign --key ci-runner.key out/*.json`,
		Args:    argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Key == "" {
				return usageErrorf("--key FILE is required")
			}
			opts.Files, opts.Quiet = args, g.Quiet
			return keySignRun(opts)
		},
	}
	signCmd.Flags().StringVar(&opts.Key, "key", "", "private key `FILE` (PEM, PKCS #8)")
	verify := &cobra.Command{
		Use:   "verify --trusted-keys FILE RECORD...",
		Short: "Check records' signatures against trusted keys",
		Long: `Verify checks every record's signature (RECORD.sig) against the public keys
in FILE and prints the key that signed each. It exits 1 if any record is
unsigned, signed by another key, or changed since it was signed.`,
		Example: `  rgraph key verify --trusted-keys trusted-keys.pem out/*.json`,
		Args:    argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.TrustedKeys == "" {
				return usageErrorf("--trusted-keys FILE is required")
			}
			opts.Files = args
			return keyVerifyRun(opts)
		},
	}
	verify.Flags().StringVar(&opts.TrustedKeys, "trusted-keys", "", "public keys `FILE` (PEM)")
	cmd.AddCommand(gen, signCmd, verify)
	return cmd
}

func keyGenRun(opts *keyOptions) error {
	k, err := sign.GenerateKey()
	if err != nil {
		return err
	}
	priv, err := sign.MarshalPrivateKey(k)
	if err != nil {
		return err
	}
	pub, err := sign.MarshalPublicKey(k.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	for _, f := range []string{opts.Out + ".key", opts.Out + ".pub"} {
		if _, err := os.Stat(f); err == nil {
			return fmt.Errorf("%s exists; not overwriting a key", f)
		}
	}
	if err := os.WriteFile(opts.Out+".key", priv, 0o600); err != nil {
		return fmt.Errorf("writing private key: %w", err)
	}
	if err := os.WriteFile(opts.Out+".pub", pub, 0o644); err != nil {
		return fmt.Errorf("writing public key: %w", err)
	}
	_, err = fmt.Fprintf(opts.Env.Out, "key %s: private %s.key (keep it secret), public %s.pub\n",
		sign.KeyID(k.Public().(ed25519.PublicKey)), opts.Out, opts.Out)
	return err
}

func keySignRun(opts *keyOptions) error {
	k, err := readSignKey(opts.Key)
	if err != nil {
		return err
	}
	for _, f := range opts.Files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading record: %w", err)
		}
		if err := collector.WriteSignature(f, b, k); err != nil {
			return err
		}
		if !opts.Quiet {
			fmt.Fprintf(opts.Env.ErrOut, "rgraph: signed %s\n", f)
		}
	}
	return nil
}

func keyVerifyRun(opts *keyOptions) error {
	b, err := os.ReadFile(opts.TrustedKeys)
	if err != nil {
		return fmt.Errorf("reading trusted keys: %w", err)
	}
	kr, err := sign.ParseKeyring(b, opts.TrustedKeys)
	if err != nil {
		return err
	}
	bad := 0
	for _, f := range opts.Files {
		rec, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("reading record: %w", err)
		}
		sig, err := os.ReadFile(f + sign.Ext)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("reading signature: %w", err)
		}
		id, err := kr.Verify(rec, sig)
		if err != nil {
			bad++
			fmt.Fprintf(opts.Env.ErrOut, "rgraph: %s: %v\n", f, err)
			continue
		}
		fmt.Fprintf(opts.Env.Out, "%s\tsigned by %s\n", f, id)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d records failed verification", bad, len(opts.Files))
	}
	return nil
}
