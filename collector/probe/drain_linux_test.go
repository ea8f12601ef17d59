package probe

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestAwaitFlush checks that a drain that cannot be sure the reader
// caught up says so instead of returning as if it had.
func TestAwaitFlush(t *testing.T) {
	closed := make(chan struct{})
	close(closed)
	tests := []struct {
		name    string
		flush   error
		flushed chan struct{}
		done    chan struct{}
		want    string // in the error; "" for none
	}{
		{"caught up", nil, closed, make(chan struct{}), ""},
		{"flush fails", errors.New("epoll wake: file already closed"), closed, make(chan struct{}), "flushing the ring buffer: epoll wake"},
		{"reader stopped", nil, make(chan struct{}), closed, "reader stopped before it caught up"},
		{"reader stuck", nil, make(chan struct{}), make(chan struct{}), "did not catch up within 10ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := awaitFlush(func() error { return tt.flush }, tt.flushed, tt.done, 10*time.Millisecond)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("awaitFlush = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("awaitFlush = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// TestSnapshotUndrainedIsIncomplete checks that a snapshot taken when
// the ring buffer cannot be drained is marked incomplete and says why.
func TestSnapshotUndrainedIsIncomplete(t *testing.T) {
	e := newTestEnv(t, func(string) Spec { return Spec{} }, defaultLoadOptions)
	if err := e.probe.c.reader.Close(); err != nil {
		t.Fatal(err)
	}
	rec, err := e.probe.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Collection.Complete {
		t.Errorf("Complete with a closed ring buffer reader")
	}
	if n := strings.Join(rec.Collection.NotRecorded, "; "); !strings.Contains(n, "ring buffer") {
		t.Errorf("NotRecorded = %q, want a note on the ring buffer", n)
	}
}
