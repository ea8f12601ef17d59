package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/rgraph/rgraph/collector"
	"github.com/rgraph/rgraph/collector/sign"
)

// Options configure [Store.Ingest] (and [Option]s configure [Open]).
type Options struct {
	// Replace allows overwriting an existing release of the same name.
	Replace bool
	// Progress, when set, is called as inputs are read and the release is
	// written; see [ParseOptions.Progress].
	Progress func(Progress)
	// From names a release to start from: the new release holds its
	// records and the inputs', federated as [Parse] does, and its catalog
	// unless the inputs have one. Its records are reused as they were
	// mapped, without being read or mapped again (unless the catalog
	// changed). A release holding edges from edge lists cannot be one.
	From string
	// Prefer, KeepAll and TrustedKeys are as in [ParseOptions]; records
	// carried over from From were checked when they were first ingested.
	Prefer      Prefer
	KeepAll     bool
	TrustedKeys *sign.Keyring
}

// Summary is what an ingest stored.
type Summary struct {
	Release Release
	// Replaced is true when an existing release of the name was replaced.
	Replaced bool
	// SelfAttempts counts attempts that resolved to the record's own
	// service and gave no edge.
	SelfAttempts int
	// Skipped names optional inputs that were not rgraph documents.
	Skipped []string
	// Warnings are worth showing the user; they did not stop the ingest.
	Warnings []string
	// Federation says which records were read twice, superseded or
	// disagree.
	Federation Federation
}

// Ingest parses and validates every input, then stores the result as
// release name (see [Parse] and [Store.Put]). Nothing is written unless
// every input is valid: malformed input gives an error wrapping
// [ErrInvalidInput] and leaves the store as it was. An existing release
// name without opts.Replace gives an error wrapping [ErrReleaseExists]
// before any input is read.
func (s *Store) Ingest(ctx context.Context, name string, inputs []Input, opts Options) (Summary, error) {
	if err := ValidReleaseName(name); err != nil {
		return Summary{}, err
	}
	_, err := s.Get(name)
	exists := err == nil
	switch {
	case exists && !opts.Replace:
		return Summary{}, fmt.Errorf("%w: %q", ErrReleaseExists, name)
	case err != nil && !errors.Is(err, ErrNotFound):
		return Summary{}, err
	}
	var b *base
	if opts.From != "" {
		if b, err = s.loadBase(opts.From); err != nil {
			return Summary{}, err
		}
	}
	snap, err := parse(ctx, inputs, ParseOptions{Progress: opts.Progress, Prefer: opts.Prefer, KeepAll: opts.KeepAll, TrustedKeys: opts.TrustedKeys}, b)
	if err != nil {
		return Summary{}, err
	}
	snap.Warnings = append(snap.Warnings, releaseMismatches(snap.Records, name)...)
	rel, err := s.Put(ctx, name, snap, PutOptions{Replace: opts.Replace, Progress: opts.Progress})
	if err != nil {
		return Summary{}, err
	}
	return Summary{
		Release:      rel,
		Replaced:     exists,
		SelfAttempts: snap.SelfAttempts,
		Skipped:      snap.Skipped,
		Warnings:     snap.Warnings,
		Federation:   snap.Federation,
	}, nil
}

// AddRecord adds one record to release name, as rgraph run --ingest
// does: when the release exists, it is rebuilt from itself (see
// [Options.From]) with rec, which supersedes an older record of the same
// scenario; otherwise a new release is made of catalog (when not nil) and
// rec. rec is cited as "run ID" in the release's inputs and evidence. A
// release holding edges from edge lists cannot take a record this way.
func (s *Store) AddRecord(ctx context.Context, name string, rec *collector.Record, catalog *collector.Catalog) (Summary, error) {
	var buf bytes.Buffer
	if err := collector.Encode(&buf, rec); err != nil {
		return Summary{}, err
	}
	inputs := []Input{{Name: "run " + rec.ID, Data: buf.Bytes(), Format: FormatJSON}}
	var opts Options
	switch _, err := s.Get(name); {
	case err == nil:
		opts.From, opts.Replace = name, true
	case !errors.Is(err, ErrNotFound):
		return Summary{}, err
	case catalog != nil:
		b, err := json.Marshal(catalog)
		if err != nil {
			return Summary{}, fmt.Errorf("encoding the catalog: %w", err)
		}
		inputs = append([]Input{{Name: "catalog", Data: b, Format: FormatCatalog}}, inputs...)
	}
	return s.Ingest(ctx, name, inputs, opts)
}

// releaseMismatches warns about records made for another release than
// name: one line per record when there are few, one line per release
// label when there are many.
func releaseMismatches(recs []*collector.Record, name string) []string {
	var lines []string
	byRelease := map[string][]string{}
	for _, r := range recs {
		if r.Release != "" && r.Release != name {
			lines = append(lines, fmt.Sprintf("record %s was made for release %q, ingested into %q", r.ID, r.Release, name))
			byRelease[r.Release] = append(byRelease[r.Release], r.ID)
		}
	}
	if len(lines) <= 3 {
		return lines
	}
	lines = lines[:0]
	for rel, ids := range byRelease {
		lines = append(lines, fmt.Sprintf("%d records were made for release %q, ingested into %q (%s, ...)", len(ids), rel, name, ids[0]))
	}
	sort.Strings(lines)
	return lines
}
